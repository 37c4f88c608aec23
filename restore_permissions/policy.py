"""What the restore identity and the vmimport role may do, and why.

This module is the single source of truth for every IAM action the project
grants. It imports nothing from CDK, so it can be read, tested and printed
without starting jsii. The construct turns :func:`policy_statements` into the
managed policies it deploys.

Sources (see ``../shared/reference/aws-facts.md`` in the project workspace):

* KB 1025: CloudBerry (MSP360) "Amazon Web Services (AWS) IAM permissions for
  EC2 restore", 2016. Read against today's IAM, three of its actions do not
  exist; :data:`KB1025_CORRECTIONS` maps them to the real ones.
* AWS VM Import/Export user guide, "Required permissions".
* MSP360 "Granular Permission Policy for AWS S3" for the bucket rights, which
  replace KB 1025's ``s3:*``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Scope(enum.Enum):
    """Which resources a grant applies to."""

    #: ``Resource: "*"``.
    ANY = "*"
    #: The backup bucket itself: ``arn:PARTITION:s3:::BUCKET``.
    BUCKET = "bucket"
    #: Every object in the backup bucket: ``arn:PARTITION:s3:::BUCKET/*``.
    OBJECTS = "objects"


#: The statement id each scope gets in a policy document, in document order.
STATEMENT_IDS: Mapping[Scope, str] = {
    Scope.ANY: "AnyResource",
    Scope.BUCKET: "BackupBucket",
    Scope.OBJECTS: "BackupObjects",
}


class Source(enum.Enum):
    """Where a grant comes from."""

    KB1025 = "CloudBerry KB 1025"
    VM_IMPORT_GUIDE = "AWS VM Import/Export user guide"
    MSP360_GRANULAR_S3 = "MSP360 granular S3 policy"


@dataclass(frozen=True)
class Grant:
    """One IAM action, the resources it applies to, and why it is granted."""

    action: str
    scope: Scope
    reason: str
    source: Source

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]


def _grants(scope: Scope, source: Source, reasons: Mapping[str, str]) -> tuple[Grant, ...]:
    return tuple(Grant(action, scope, reason, source) for action, reason in reasons.items())


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

# Every grant below says why in its reason; the reasons are printed in the
# docs and reviewed with the code.
_EC2_IMPORT_AND_LAUNCH = _grants(
    Scope.ANY,
    Source.KB1025,
    {
        "ec2:ImportImage": "Imports the backed-up disk image from the bucket as an AMI.",
        "ec2:ImportInstance": (
            "Legacy import of a disk as an instance, called by older CloudBerry versions; "
            "AWS recommends ImportImage."
        ),
        "ec2:ImportVolume": "Legacy import of a single volume, called by older CloudBerry versions.",
        "ec2:CancelImportTask": (
            "Cancels an import the user aborts (KB 1025 misspells it as "
            "ec2:CancelImportTasks and ami:CancelImportTasks)."
        ),
        "ec2:DescribeImportImageTasks": "Follows the progress of ImportImage.",
        "ec2:DescribeConversionTasks": "Follows the progress of ImportInstance and ImportVolume.",
        "ec2:RunInstances": "Launches the restored instance from the imported AMI.",
        "ec2:RequestSpotInstances": "Launches the restored instance as Spot capacity when chosen.",
        "ec2:StartInstances": "Starts the restored instance.",
        "ec2:StopInstances": "Stops the restored instance so that its attributes can be changed.",
        "ec2:TerminateInstances": "Removes a failed or trial restore.",
        "ec2:ModifyInstanceAttribute": "Applies the instance settings chosen in the restore wizard.",
        "ec2:MonitorInstances": "Turns on detailed monitoring when chosen in the restore wizard.",
        "ec2:CreateTags": "Names and tags the imported AMI and the restored instance.",
        "ec2:DescribeInstances": "Follows the restored instance's state.",
        "ec2:DescribeAvailabilityZones": "Lists Availability Zones for the restore wizard.",
        "ec2:DescribeSubnets": "Lists subnets for the restore wizard.",
        "ec2:DescribeSecurityGroups": "Lists security groups for the restore wizard.",
        "ec2:DescribeKeyPairs": "Lists key pairs for the restore wizard.",
        "iam:ListRoles": (
            "Checks that the vmimport service role exists (KB 1025 misspells it as ami:ListRoles)."
        ),
    },
)

_VM_IMPORT_CHECK = _grants(
    Scope.ANY,
    Source.VM_IMPORT_GUIDE,
    {"ec2:DescribeImages": "Checks the AMI that the import produced; read-only."},
)

_LIST_BUCKETS = _grants(
    Scope.ANY,
    Source.MSP360_GRANULAR_S3,
    {"s3:ListAllMyBuckets": "Lets the backup tool list buckets so the user can pick one."},
)

_BUCKET = _grants(
    Scope.BUCKET,
    Source.MSP360_GRANULAR_S3,
    {
        "s3:ListBucket": "Lists the backup objects to find the image to restore.",
        "s3:GetBucketLocation": "Finds the bucket's Region to address it.",
        "s3:ListBucketMultipartUploads": "Finds unfinished uploads to resume or abort.",
        "s3:ListBucketVersions": "Lists object versions on versioned backup buckets.",
        "s3:GetBucketObjectLockConfiguration": "Reads the bucket's Object Lock (immutability) setting.",
        "s3:PutBucketObjectLockConfiguration": (
            "Sets default Object Lock retention when immutability is enabled in a backup plan."
        ),
    },
)

_OBJECTS = _grants(
    Scope.OBJECTS,
    Source.MSP360_GRANULAR_S3,
    {
        "s3:GetObject": "Reads backup data, including the image to restore.",
        "s3:GetObjectVersion": "Reads a specific version of backup data.",
        "s3:PutObject": "Writes backup data.",
        "s3:AbortMultipartUpload": "Cleans up an interrupted upload.",
        "s3:ListMultipartUploadParts": "Resumes an interrupted upload.",
        "s3:DeleteObject": "Applies the backup plan's retention by deleting expired data.",
        "s3:DeleteObjectVersion": "Applies retention on versioned buckets.",
        "s3:RestoreObject": "Restores archived backup data (S3 Glacier classes) before reading it.",
        "s3:GetObjectAcl": "Reads object ACLs the backup tool sets.",
        "s3:GetObjectVersionAcl": "Reads object version ACLs the backup tool sets.",
        "s3:PutObjectAcl": "Sets object ACLs as the backup tool does on upload.",
        "s3:PutObjectVersionAcl": "Sets object version ACLs as the backup tool does on upload.",
    },
)

#: The restore identity's grants: KB 1025 corrected, with ``s3:*`` replaced by
#: MSP360's granular list and without ``ses:*`` or ``sts:GetFederationToken``.
RESTORE_IDENTITY_GRANTS: tuple[Grant, ...] = (
    _EC2_IMPORT_AND_LAUNCH + _VM_IMPORT_CHECK + _LIST_BUCKETS + _BUCKET + _OBJECTS
)

#: The vmimport service role's grants, as the AWS VM Import/Export guide gives them
#: for import (export would also need s3:PutObject and s3:GetBucketAcl).
VM_IMPORT_ROLE_GRANTS: tuple[Grant, ...] = (
    _grants(
        Scope.BUCKET,
        Source.VM_IMPORT_GUIDE,
        {
            "s3:GetBucketLocation": "VM Import/Export finds the bucket's Region.",
            "s3:ListBucket": "VM Import/Export lists the disk image objects.",
        },
    )
    + _grants(
        Scope.OBJECTS,
        Source.VM_IMPORT_GUIDE,
        {"s3:GetObject": "VM Import/Export reads the disk image."},
    )
    + _grants(
        Scope.ANY,
        Source.VM_IMPORT_GUIDE,
        {
            "ec2:ModifySnapshotAttribute": "Shares the snapshot it makes from the disk image.",
            "ec2:CopySnapshot": "Copies the snapshot it makes from the disk image.",
            "ec2:RegisterImage": "Registers the AMI from that snapshot.",
            "ec2:Describe*": (
                "Reads the state of the snapshots and images it works on; the guide grants "
                "ec2:Describe* and does not list the individual calls."
            ),
        },
    )
)

#: The vmimport role's grants on the bucket alone, attached to an existing role.
VM_IMPORT_ROLE_BUCKET_GRANTS: tuple[Grant, ...] = tuple(
    grant for grant in VM_IMPORT_ROLE_GRANTS if grant.scope is not Scope.ANY
)

#: The role name VM Import/Export looks for unless ImportImage names another.
VM_IMPORT_ROLE_NAME = "vmimport"
#: The service principal that assumes the vmimport role.
VM_IMPORT_SERVICE_PRINCIPAL = "vmie.amazonaws.com"


def policy_statements(
    grants: Iterable[Grant], resources: Mapping[Scope, Iterable[str]]
) -> list[dict[str, object]]:
    """Group ``grants`` into one IAM statement per scope, in a stable order.

    ``resources`` maps each scope that ``grants`` use to its resource ARNs
    (literal strings, or CDK token strings inside a construct). Actions are
    sorted and deduplicated so that documents diff cleanly in review.
    """
    by_scope: dict[Scope, set[str]] = {}
    for grant in grants:
        by_scope.setdefault(grant.scope, set()).add(grant.action)
    statements: list[dict[str, object]] = []
    for scope, sid in STATEMENT_IDS.items():
        if scope not in by_scope:
            continue
        scope_resources = list(dict.fromkeys(resources[scope]))
        if not scope_resources:
            raise ValueError(f"no resources given for scope {scope.name}")
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": sorted(by_scope[scope]),
                "Resource": scope_resources[0] if len(scope_resources) == 1 else scope_resources,
            }
        )
    return statements
