"""The example app's resources written by hand with aws-cdk-lib, for the synth-time ratio.

The same user in a group, managed policies with the same documents (rendered
from the catalogue with the partition and account as pseudo parameters, as a
careful author would paste them), an access key in a Secrets Manager secret
under a rotated KMS key, and the retained vmimport role with its trust and
policy; the same descriptions and six outputs; the same AwsSolutions pack, with
the same findings acknowledged. No RestorePermissions, no aspect, no
validation hooks. tests/test_bench_twins.py checks that the template matches
the example app's.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from by_hand import (
    OWN_POLICY,
    SHARED_POLICY,
    STACK_DESCRIPTION,
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
    policy_document,
    render_statements,
    shared_identity_statements,
    vm_import_role_policy,
)

BUCKET = "my-backups"
arns = targets([BUCKET])
options = PolicyOptions()
shared_document = policy_document(
    render_statements(shared_identity_statements(options), arns, options)
)
own_document = policy_document(
    render_statements(own_identity_statements(options, kms=False), arns, options)
)
vm_document = vm_import_role_policy(arns)

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Handwritten", description=STACK_DESCRIPTION)
group = iam.Group(stack, "Group")
user = iam.User(stack, "User", groups=[group])
shared = managed_policy(stack, "Shared", shared_document, SHARED_POLICY, groups=[group])
own = managed_policy(stack, "Own", own_document, OWN_POLICY, groups=[group])
# The user's own policy is updated after the shared one, as the construct's.
own.node.add_dependency(shared)
key = iam.AccessKey(stack, "AccessKey", user=user)
secret_key = kms.Key(
    stack,
    "SecretKey",
    description="Encrypts the access-key secrets of restore-permissions in this stack",
    enable_key_rotation=True,
    removal_policy=cdk.RemovalPolicy.DESTROY,
    pending_window=cdk.Duration.days(30),
)
secret = secretsmanager.Secret(
    stack,
    "AccessKeySecret",
    description="Access key of the restore-permissions user for the backup tool",
    encryption_key=secret_key,
    secret_object_value={
        "accessKeyId": cdk.SecretValue.unsafe_plain_text(key.access_key_id),
        "secretAccessKey": key.secret_access_key,
    },
)
role = vm_import_role(stack)
managed_policy(stack, "VmImportPolicy", vm_document, VM_IMPORT_POLICY, roles=[role])
# The example's outputs, with the same descriptions.
for output_id, value, description in (
    ("UserName", user.user_name, "Restore user name"),
    ("UserArn", user.user_arn, "Restore user ARN"),
    (
        "ManagedPolicyArns",
        cdk.Fn.join(",", [own.managed_policy_arn, shared.managed_policy_arn]),
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
acknowledge_wildcards(stack, [shared_document, own_document, vm_document], "AwsSolutions-SMG4")
app.synth()
