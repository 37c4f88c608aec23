"""100 role-mode customers in one stack, written by hand with aws-cdk-lib: the
hand-written side of the 100-customer ratio (bench/apps/role_mode.py is the
construct's side).

Per customer, what RestorePermissions creates in role mode: a role that the
customer's account assumes with its external id, and a managed policy for its
bucket, updated after the shared one. Per stack: one shared managed policy on
every role, and the retained vmimport role with its policy over all the
buckets, split into policies that fit IAM's quota as a careful author would
(``plan_documents``). ARNs name the partition and account as pseudo
parameters; the descriptions are the construct's. The same AwsSolutions pack,
the same findings acknowledged. No outputs, as in role_mode.py.
tests/test_bench_twins.py checks that the template matches role_mode.py's.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from by_hand import (
    OWN_POLICY,
    ROLE,
    SHARED_POLICY,
    VM_IMPORT_POLICY,
    acknowledge_wildcards,
    managed_policy,
    targets,
    vm_import_role,
)
from cdk_nag import AwsSolutionsChecks

from restore_permissions.policy import (
    PolicyOptions,
    own_identity_statements,
    plan_documents,
    policy_document,
    render_statements,
    shared_identity_statements,
    vm_import_role_policy,
)
from restore_permissions.policy.sizing import deployed_length

CUSTOMERS = 100
buckets = [f"customer-{i:04d}-backups" for i in range(CUSTOMERS)]
options = PolicyOptions()

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Customers")
everyone = targets(buckets)
shared_document = policy_document(
    render_statements(shared_identity_statements(options), everyone, options)
)
shared = managed_policy(stack, "Shared", shared_document, SHARED_POLICY)
own_statements = own_identity_statements(options, kms=False)
documents = []
for i, bucket in enumerate(buckets):
    role = iam.Role(
        stack,
        f"Customer{i}Role",
        assumed_by=iam.AccountPrincipal("111122223333"),
        external_ids=[f"customer-{i:04d}"],
        description=ROLE,
    )
    own = policy_document(render_statements(own_statements, targets([bucket]), options))
    policy = managed_policy(stack, f"Customer{i}Policy", own, OWN_POLICY, roles=[role])
    policy.node.add_dependency(shared)
    shared.attach_to_role(role)
    documents.append(own)
vm_import = vm_import_role(stack)


def length(value: str) -> int:
    """An ARN's length as deployed, its pseudo parameters at their longest."""
    return deployed_length({"Fn::Sub": value}) if "${AWS::" in value else len(value)


vm_policies = []
for number, statements in enumerate(
    plan_documents(vm_import_role_policy(everyone)["Statement"], length=length)
):
    document = policy_document(statements)
    vm_policies.append(
        managed_policy(
            stack, f"VmImportPolicy{number}", document, VM_IMPORT_POLICY, roles=[vm_import]
        )
    )
    documents.append(document)
# The first policy is updated after the others, so that no statement is ever missing.
for extra in vm_policies[1:]:
    vm_policies[0].node.add_dependency(extra)
# The findings the construct acknowledges, acknowledged here by hand.
acknowledge_wildcards(stack, [*documents, shared_document])
app.synth()
