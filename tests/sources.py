"""Expected action lists, typed from the sources rather than read from the catalogue.

Tests compare restore_permissions.policy and the synthesized templates with
these, so a change to the catalogue must agree with the sources to pass.
"""

from __future__ import annotations

# KB 1025's EC2, IAM and S3 actions on "*", with its three invalid actions
# corrected (ami:ListRoles -> iam:ListRoles; ami:CancelImportTasks and
# ec2:CancelImportTasks -> ec2:CancelImportTask) and its duplicates dropped.
KB1025_CORRECTED_ACTIONS = frozenset(
    {
        "ec2:ImportInstance",
        "ec2:ImportImage",
        "ec2:RunInstances",
        "ec2:DescribeInstances",
        "ec2:MonitorInstances",
        "ec2:RequestSpotInstances",
        "ec2:StartInstances",
        "ec2:TerminateInstances",
        "ec2:ModifyInstanceAttribute",
        "ec2:CreateTags",
        "ec2:CancelImportTask",
        "ec2:DescribeConversionTasks",
        "ec2:DescribeImportImageTasks",
        "ec2:ImportVolume",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:StopInstances",
        "ec2:DescribeKeyPairs",
        "iam:ListRoles",
        "s3:ListAllMyBuckets",
    }
)

# MSP360's "Granular Permission Policy for AWS S3" (kb.msp360.com).
MSP360_BUCKET_ACTIONS = frozenset(
    {
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:ListBucketMultipartUploads",
        "s3:ListBucketVersions",
        "s3:GetBucketObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
    }
)
MSP360_OBJECT_ACTIONS = frozenset(
    {
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionAcl",
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:PutObjectVersionAcl",
        "s3:RestoreObject",
    }
)
# Of those, the ACL writes parliament reports as permissions management: the
# product grants them only with object_acl_writes=True.
MSP360_OBJECT_ACL_WRITES = frozenset({"s3:PutObjectAcl", "s3:PutObjectVersionAcl"})

# CloudBerry Backup's user guide (restore to EC2) adds these to KB 1025's EC2 list.
CLOUDBERRY_GUIDE_EC2_ACTIONS = frozenset(
    {
        "ec2:ImportSnapshot",
        "ec2:DescribeImportSnapshotTasks",
        "ec2:CreateVolume",
        "ec2:DescribeImages",
    }
)

# The VM Import/Export guide's caller list, beyond KB 1025 and CloudBerry's
# guide, that the catalogue grants (DescribeInstanceStatus and DescribeTags
# are listed there too, and deliberately not granted).
VM_IMPORT_GUIDE_CALLER_ADDITIONS = frozenset({"ec2:CancelConversionTask", "ec2:DescribeSnapshots"})

# AWSBackupServiceRolePolicyForRestores's Describe calls that the EBS-volume
# restore follows (DescribeVpcs is listed there too, and not granted).
AWS_BACKUP_RESTORE_DESCRIBES = frozenset({"ec2:DescribeVolumes"})

# The EBS encryption guide's KMS actions for a caller using a customer key,
# with kms:ReEncrypt* written out.
EBS_ENCRYPTION_CALLER_KMS_ACTIONS = frozenset(
    {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    }
)

# The VM Import/Export guide's KMS list for the vmimport role, wildcards written out.
VM_IMPORT_GUIDE_ROLE_KMS_ACTIONS = frozenset(
    {
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    }
)

# What the default profile grants, from the sources above: KB 1025 corrected,
# the restore paths it misses, AWS Backup's Describe calls and MSP360's S3
# list without its ACL writes (opt-in), and the Spot service-linked role (EC2
# user guide: through the API, the role must exist before a Spot request).
DEFAULT_PROFILE_ACTIONS = (
    KB1025_CORRECTED_ACTIONS
    | CLOUDBERRY_GUIDE_EC2_ACTIONS
    | VM_IMPORT_GUIDE_CALLER_ADDITIONS
    | AWS_BACKUP_RESTORE_DESCRIBES
    | MSP360_BUCKET_ACTIONS
    | MSP360_OBJECT_ACTIONS
    | {"iam:CreateServiceLinkedRole"}
) - MSP360_OBJECT_ACL_WRITES
