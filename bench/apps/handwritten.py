"""The example app's resources written by hand with aws-cdk-lib, for the synth-time ratio.

The same user in a group, managed policies with the same documents (rendered
from the catalogue, as a careful author would paste them), an access key in a
Secrets Manager secret under a rotated KMS key, and the vmimport role with its
trust and policy; the same AwsSolutions pack, with the same findings
acknowledged. No RestorePermissions, no aspect, no validation hooks.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import AwsSolutionsChecks

from restore_permissions.policy import (
    PolicyOptions,
    PolicyTargets,
    own_identity_statements,
    policy_document,
    render_statements,
    shared_identity_statements,
    vm_import_role_policy,
    vm_import_trust_policy,
)

ACCOUNT, BUCKET = "123456789012", "my-backups"
targets = PolicyTargets.for_buckets([BUCKET], account=ACCOUNT)
options = PolicyOptions()
documents = {
    "Shared": policy_document(render_statements(shared_identity_statements(options), targets)),
    "Own": policy_document(render_statements(own_identity_statements(options, kms=False), targets)),
}

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Handwritten")
group = iam.Group(stack, "Group")
user = iam.User(stack, "User", groups=[group])
for name, document in documents.items():
    iam.ManagedPolicy(stack, name, document=iam.PolicyDocument.from_json(document), groups=[group])
key = iam.AccessKey(stack, "AccessKey", user=user)
secret_key = kms.Key(stack, "SecretKey", enable_key_rotation=True)
secretsmanager.Secret(
    stack,
    "AccessKeySecret",
    encryption_key=secret_key,
    secret_object_value={
        "accessKeyId": cdk.SecretValue.unsafe_plain_text(key.access_key_id),
        "secretAccessKey": key.secret_access_key,
    },
)
trust = vm_import_trust_policy("aws", ACCOUNT)["Statement"][0]
role = iam.Role(
    stack,
    "VmImport",
    role_name="vmimport",
    assumed_by=iam.ServicePrincipal("vmie.amazonaws.com", conditions=trust["Condition"]),
)
vm_document = vm_import_role_policy(targets)
iam.ManagedPolicy(
    stack, "VmImportPolicy", document=iam.PolicyDocument.from_json(vm_document), roles=[role]
)
# The findings the construct acknowledges, acknowledged here by hand.
findings = {"AwsSolutions-SMG4"}
for document in [*documents.values(), vm_document]:
    for statement in document["Statement"]:
        for value, kind in (("Resource", "Resource"), ("Action", "Action")):
            items = statement[value] if isinstance(statement[value], list) else [statement[value]]
            findings |= {f"AwsSolutions-IAM5[{kind}::{item}]" for item in items if "*" in item}
cdk.Validations.of(stack).acknowledge(
    *(
        cdk.Acknowledgment(id=finding, reason="Hand-written baseline: as the construct.")
        for finding in sorted(findings)
    )
)
app.synth()
