"""The text of every cdk-nag acknowledgment the construct adds: why each finding is accepted.

Pure Python, like the catalogue, so that reviewers can read and test it without CDK.
"""

from __future__ import annotations

from collections.abc import Mapping

from .policy import EC2_ACCOUNT_SCOPES, PolicyProfile, ResourceType

_VENDOR_EXACT = "PolicyProfile.kb1025() was chosen: the vendor-exact profile grants"


def wildcard_resource_reason(resource_type: ResourceType, *, profile: PolicyProfile) -> str:
    """Why a resource of ``resource_type`` contains a wildcard, for the cdk-nag acknowledgment."""
    if resource_type is ResourceType.ANY:
        if profile is PolicyProfile.KB1025:
            return (
                f"{_VENDOR_EXACT} KB 1025's EC2, IAM, STS and SES actions on '*' as the article "
                "does. PolicyProfile.least_privilege() scopes them."
            )
        return (
            "Only actions that take no resource-level permissions are granted on '*': EC2 "
            "Describe calls, ec2:CancelConversionTask, iam:ListRoles and s3:ListAllMyBuckets."
        )
    if resource_type is ResourceType.OBJECTS:
        return (
            "Backup data lives under any key of the backup bucket; the wildcard stays inside "
            "that bucket."
        )
    if resource_type in (ResourceType.IMAGE, ResourceType.SNAPSHOT):
        return (
            f"EC2 {resource_type.value}s have no account in their ARN and a restore may use a public "
            "AMI; ids are unknown before the import. Limited to the partition and the allowed "
            "Regions."
        )
    if resource_type is ResourceType.INSTANCE and profile is PolicyProfile.LEAST_PRIVILEGE:
        return (
            "The restore launches instances whose ids are unknown before it runs; limited to "
            "this account and the allowed Regions. Start, stop, modify, terminate and CreateTags "
            "reach only instances without an instance profile (Null ec2:InstanceProfile), so "
            "never an instance with a role."
        )
    if resource_type in EC2_ACCOUNT_SCOPES:
        return (
            f"The restore creates or picks EC2 {resource_type.value}s whose ids are unknown before it "
            "runs; limited to this account and the allowed Regions."
        )
    if resource_type is ResourceType.FEDERATED_USER:
        return (
            "MSP360 Managed Backup Service names a federated user per agent; limited to "
            "this account."
        )
    if resource_type is ResourceType.EMAIL_IDENTITY:
        return (
            "The sender address is set in the backup tool; limited to this account's SES "
            "identities."
        )
    return f"{resource_type.value} ARNs contain a wildcard given by the caller."


#: Why a subnet ARN of another account holds a wildcard (shared_subnet_owners).
SHARED_SUBNET_REASON = (
    "shared_subnet_owners names the accounts that share their VPC subnets with this one "
    "(AWS RAM); a restore may launch into any of their shared subnets, whose ids are picked "
    "in the restore wizard. Only subnets of the named accounts, in the allowed Regions."
)

#: Why an action wildcard is granted, for the cdk-nag acknowledgment.
WILDCARD_ACTION_REASONS: Mapping[str, str] = {
    "ec2:Describe*": (
        "The AWS VM Import/Export guide grants the vmimport role ec2:Describe* without "
        "listing the calls it makes; Describe calls are read-only."
    ),
    "s3:*": f"{_VENDOR_EXACT} s3:* on the backup bucket and its objects, as KB 1025 does.",
    "ses:*": f"{_VENDOR_EXACT} ses:* as KB 1025 does.",
}


#: Why the access-key secrets have no rotation schedule.
SECRET_ROTATION_REASON = (
    "The secret holds an IAM access key that CloudFormation creates; rotate it with "
    "overlap through the identity's access_keys slots (add the other slot, switch the backup "
    "tool, remove the old slot), which creates and deletes keys and secrets together. A "
    "Secrets Manager rotation schedule would change the key behind the backup tool's back."
)
#: Why the access-key secrets may use the AWS managed key.
SECRET_AWS_MANAGED_KEY_REASON = (
    "SecretEncryption.aws_managed_key() was chosen: encrypted with the AWS managed key "
    "aws/secretsmanager. By default a customer-managed key per stack encrypts it, and this "
    "acknowledgment is not added."
)
