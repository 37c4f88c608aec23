"""Why each wildcard in a rendered policy is there: the text of the cdk-nag acknowledgments."""

from __future__ import annotations

from collections.abc import Mapping

from .catalogue import EC2_ACCOUNT_SCOPES, ResourceType
from .statements import PolicyProfile

_VENDOR_EXACT = "PolicyProfile.KB1025 was chosen: the vendor-exact profile grants"


def wildcard_resource_reason(resource_type: ResourceType, *, profile: PolicyProfile) -> str:
    """Why a resource of ``resource_type`` contains a wildcard, for the cdk-nag acknowledgment."""
    if resource_type is ResourceType.ANY:
        if profile is PolicyProfile.KB1025:
            return (
                f"{_VENDOR_EXACT} KB 1025's EC2, IAM, STS and SES actions on '*' as the article "
                "does. PolicyProfile.LEAST_PRIVILEGE resource_types them."
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


#: Why an action wildcard is granted, for the cdk-nag acknowledgment.
WILDCARD_ACTION_REASONS: Mapping[str, str] = {
    "ec2:Describe*": (
        "The AWS VM Import/Export guide grants the vmimport role ec2:Describe* without "
        "listing the calls it makes; Describe calls are read-only."
    ),
    "s3:*": f"{_VENDOR_EXACT} s3:* on the backup bucket and its objects, as KB 1025 does.",
    "ses:*": f"{_VENDOR_EXACT} ses:* as KB 1025 does.",
}
