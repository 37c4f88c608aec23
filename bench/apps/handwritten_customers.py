"""100 role-mode customers in one stack, written by hand with aws-cdk-lib: the
hand-written side of the 100-customer ratio (bench/apps/role_mode.py is the
construct's side).

Per customer, what RestorePermissions creates in role mode: a role that the
customer's account assumes with its external id, and a managed policy for its
bucket. Per stack: one shared managed policy on every role, and the vmimport
role with its policy over all the buckets, split into policies that fit IAM's
quota as a careful author would (``plan_documents``). The same AwsSolutions
pack, the same findings acknowledged. No outputs, as in role_mode.py.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from by_hand import acknowledge_wildcards, vm_import_role
from cdk_nag import AwsSolutionsChecks

from restore_permissions.policy import (
    PolicyOptions,
    PolicyTargets,
    own_identity_statements,
    plan_documents,
    policy_document,
    render_statements,
    shared_identity_statements,
    vm_import_role_policy,
)

ACCOUNT, CUSTOMERS = "123456789012", 100
buckets = [f"customer-{i:04d}-backups" for i in range(CUSTOMERS)]
options = PolicyOptions()

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Customers")
documents = []
roles = []
for i, bucket in enumerate(buckets):
    role = iam.Role(
        stack,
        f"Customer{i}Role",
        assumed_by=iam.AccountPrincipal("111122223333"),
        external_ids=[f"customer-{i:04d}"],
    )
    own = policy_document(
        render_statements(
            own_identity_statements(options, kms=False),
            PolicyTargets.for_buckets([bucket], account=ACCOUNT),
        )
    )
    iam.ManagedPolicy(
        stack, f"Customer{i}Policy", document=iam.PolicyDocument.from_json(own), roles=[role]
    )
    documents.append(own)
    roles.append(role)
everyone = PolicyTargets.for_buckets(buckets, account=ACCOUNT)
shared = policy_document(render_statements(shared_identity_statements(options), everyone))
iam.ManagedPolicy(stack, "Shared", document=iam.PolicyDocument.from_json(shared), roles=roles)
vm_import = vm_import_role(stack, ACCOUNT)
for number, statements in enumerate(plan_documents(vm_import_role_policy(everyone)["Statement"])):
    document = policy_document(statements)
    iam.ManagedPolicy(
        stack,
        f"VmImportPolicy{number}",
        document=iam.PolicyDocument.from_json(document),
        roles=[vm_import],
    )
    documents.append(document)
# The findings the construct acknowledges, acknowledged here by hand.
acknowledge_wildcards(stack, [*documents, shared])
app.synth()
