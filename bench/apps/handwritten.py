"""The example app's resources written by hand with aws-cdk-lib, for the synth-time ratio.

The same user in a group, managed policies with the same documents (rendered
from the catalogue, as a careful author would paste them), an access key in a
Secrets Manager secret under a rotated KMS key, and the vmimport role with its
trust and policy; the same six outputs; the same AwsSolutions pack, with the
same findings acknowledged. No RestorePermissions, no aspect, no validation
hooks.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from by_hand import acknowledge_wildcards, vm_import_role
from cdk_nag import AwsSolutionsChecks

from restore_permissions.policy import (
    PolicyOptions,
    PolicyTargets,
    own_identity_statements,
    policy_document,
    render_statements,
    shared_identity_statements,
    vm_import_role_policy,
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
policies = [
    iam.ManagedPolicy(stack, name, document=iam.PolicyDocument.from_json(document), groups=[group])
    for name, document in documents.items()
]
key = iam.AccessKey(stack, "AccessKey", user=user)
secret_key = kms.Key(stack, "SecretKey", enable_key_rotation=True)
secret = secretsmanager.Secret(
    stack,
    "AccessKeySecret",
    encryption_key=secret_key,
    secret_object_value={
        "accessKeyId": cdk.SecretValue.unsafe_plain_text(key.access_key_id),
        "secretAccessKey": key.secret_access_key,
    },
)
role = vm_import_role(stack, ACCOUNT)
vm_document = vm_import_role_policy(targets)
iam.ManagedPolicy(
    stack, "VmImportPolicy", document=iam.PolicyDocument.from_json(vm_document), roles=[role]
)
# The example's outputs, with the same descriptions.
for output_id, value, description in (
    ("UserName", user.user_name, "Restore user name"),
    ("UserArn", user.user_arn, "Restore user ARN"),
    (
        "ManagedPolicyArns",
        cdk.Fn.join(",", [policy.managed_policy_arn for policy in policies]),
        "Comma-separated ARNs of the restore managed policies",
    ),
    (
        "AccessKeyId",
        key.access_key_id,
        "Access key id (the secret key is only in the Secrets Manager secret)",
    ),
    ("AccessKeySecretArn", secret.secret_arn, "Secrets Manager secret holding the access key"),
    ("VmImportRoleArn", role.role_arn, "VM Import/Export service role ARN"),
):
    cdk.CfnOutput(stack, output_id, value=value, description=description)
# The findings the construct acknowledges, acknowledged here by hand.
acknowledge_wildcards(stack, [*documents.values(), vm_document], "AwsSolutions-SMG4")
app.synth()
