"""Each restore path as the ordered calls it makes, and the request context IAM evaluates.

A restore is a sequence of calls, and IAM authorizes each call against every
resource it touches: a launch is allowed only if its instance, volumes,
network interface, subnet, security group, key pair and AMI all are. So a
workflow lists, per call, the resource types it touches and what IAM sees of
the instance tag on each, plus the call's own context (``ec2:CreateAction``,
``kms:ViaService``, ``kms:GrantIsForAWSResource``).

CloudBerry documents the restore destinations (EC2 instance, AMI only, EBS
volume, an optional temporary instance) and the actions, not the order of its
calls. The order here is the one AWS's guides give for each path: VM
Import/Export for imports, the EC2 API reference for launches and volumes,
the EBS encryption guide for keys. ``note`` says what each workflow assumes.

The tests prove every call of every workflow against the rendered policies
with an offline evaluator, and that a twin of each scoped call (another
account, Region, bucket or key, or no tag) stays denied. Nothing here imports
CDK.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from .catalogue import Guard, ResourceType, Source
from .rendering import (
    DEFAULT_URL_SUFFIX,
    SPOT_SERVICE_NAME,
    URL_SUFFIXES,
    spot_service_linked_role_arn,
)
from .statements import (
    PolicyOptions,
    PolicyProfile,
    StatementSpec,
    create_actions,
    identity_statements,
    vm_import_role_statements,
)


class Actor(enum.Enum):
    """Who makes a call."""

    #: The IAM user or role the backup tool signs in with.
    IDENTITY = "restore identity"
    #: VM Import/Export, with the ``vmimport`` service role's credentials.
    VM_IMPORT_ROLE = "vmimport role"


class Tagging(enum.Enum):
    """What IAM sees of the instance tag on one resource of a call (with ``instance_tag``)."""

    #: The call's request carries the tag for it (TagSpecifications, or CreateTags adding it).
    IN_REQUEST = "in request"
    #: The resource already carries the tag.
    ON_RESOURCE = "on resource"
    #: Neither: what the restore only uses, or creates beside the guarded resource.
    NONE = "none"


@dataclass(frozen=True)
class Touch:
    """One resource a call touches."""

    resource_type: ResourceType
    tagging: Tagging = Tagging.NONE
    #: The instance has an instance profile (``ec2:InstanceProfile`` is set).
    #: The restore's instances never do: the identity has no ``iam:PassRole``.
    with_instance_profile: bool = False
    #: An ARN outside every resource the policies name (another bucket, an IAM
    #: role), with ``{partition}``, ``{region}`` and ``{account}`` filled in
    #: from the target. Only a statement on ``*`` can reach it.
    outside_arn: str | None = None
    #: Owned by another account that shares it through AWS RAM (a shared VPC's subnet).
    shared: bool = False


@dataclass(frozen=True)
class Call:
    """One API call of a workflow, as IAM authorizes it."""

    action: str
    #: What the call does in the restore, in a few words.
    what: str
    #: The resources IAM checks. Empty: the action takes no resource types, IAM sees ``*``.
    touches: tuple[Touch, ...] = ()
    actor: Actor = Actor.IDENTITY
    #: ``ec2:CreateAction``: CreateTags applying the tags of this creating call.
    create_action: str | None = None
    #: ``kms:ViaService``: the service (``s3`` or ``ec2``) that uses the key for the caller.
    via_service: str | None = None
    #: ``kms:GrantIsForAWSResource``: a grant that a service creates for its resource.
    grant_for_aws_resource: bool = False
    #: ``aws:TagKeys``: the one tag key a CreateTags request sets, if the row says.
    tag_key: str | None = None
    #: ``iam:AWSServiceName``: the service a service-linked role is created for.
    aws_service_name: str | None = None


class Needs(enum.Enum):
    """An option without which a workflow is not granted (by design, not a gap)."""

    KMS_KEY = "a KMS key on the bucket (encryption_key, or the bucket's own key)"
    FEDERATION = "federation=True"
    EMAIL = "email_notifications=True"
    OBJECT_ACL_WRITES = "object_acl_writes=True"
    EBS_KEY = "a customer managed EBS key (ebs_encryption_key)"
    OBJECT_LOCK = "object_lock=True"
    SHARED_SUBNETS = "shared_subnet_owners (the accounts that share their subnets)"


@dataclass(frozen=True)
class Workflow:
    name: str
    title: str
    calls: tuple[Call, ...]
    sources: tuple[Source, ...]
    #: What the order of calls rests on, and what it assumes.
    note: str
    needs: Needs | None = None
    #: Why the instance-tag guard cannot serve the workflow; None: it can.
    not_with_instance_tag: str | None = None
    #: It writes, deletes or re-ACLs backups: the backup host's work, which a
    #: restore-only identity (``restore_only=True``) is denied by design.
    writes_backups: bool = False


def _ec2(action: str, what: str, *touches: Touch, **kwargs: object) -> Call:
    return Call(f"ec2:{action}", what, touches, **kwargs)  # type: ignore[arg-type]


_REQUESTED = Tagging.IN_REQUEST
_TAGGED = Tagging.ON_RESOURCE
_ROLE = Actor.VM_IMPORT_ROLE

#: The restore wizard: pick the bucket and backup, check the vmimport role, pick where to launch.
_CHOOSE_BACKUP = (
    Call("s3:ListAllMyBuckets", "list buckets to pick the backup bucket"),
    Call("s3:GetBucketLocation", "find the bucket's Region", (Touch(ResourceType.BUCKET),)),
    Call("s3:ListBucket", "list the backups in the bucket", (Touch(ResourceType.BUCKET),)),
    Call("s3:GetObject", "read the backup's metadata", (Touch(ResourceType.OBJECTS),)),
    Call("iam:ListRoles", "check that the vmimport role exists"),
)
_CHOOSE_PLACEMENT = (
    _ec2("DescribeAvailabilityZones", "list Availability Zones"),
    _ec2("DescribeSubnets", "list subnets"),
    _ec2("DescribeSecurityGroups", "list security groups"),
    _ec2("DescribeKeyPairs", "list key pairs"),
)
#: What VM Import/Export does with the vmimport role while an image import runs.
_VM_IMPORT_READS = (
    Call("s3:GetBucketLocation", "find the bucket", (Touch(ResourceType.BUCKET),), _ROLE),
    Call("s3:ListBucket", "list the disk image objects", (Touch(ResourceType.BUCKET),), _ROLE),
    Call("s3:GetObject", "read the disk image", (Touch(ResourceType.OBJECTS),), _ROLE),
)
_VM_IMPORT_REGISTERS = (
    _ec2("DescribeSnapshots", "follow its snapshot", actor=_ROLE),
    _ec2(
        "CopySnapshot", "copy the snapshot of the disk", Touch(ResourceType.SNAPSHOT), actor=_ROLE
    ),
    _ec2(
        "ModifySnapshotAttribute",
        "share the snapshot with the account",
        Touch(ResourceType.SNAPSHOT),
        actor=_ROLE,
    ),
    _ec2(
        "RegisterImage",
        "register the AMI",
        Touch(ResourceType.IMAGE),
        Touch(ResourceType.SNAPSHOT),
        actor=_ROLE,
    ),
)
#: ImportImage creates the import task, which its request tags, and the AMI,
#: which it cannot tag (its TagSpecifications name the task only, EC2 API
#: reference); the Service Authorization Reference marks both required.
_IMPORT_IMAGE = (
    _ec2(
        "ImportImage",
        "import the disk as an AMI",
        Touch(ResourceType.IMPORT_IMAGE_TASK, _REQUESTED),
        Touch(ResourceType.IMAGE),
    ),
    _ec2(
        "CreateTags",
        "tag the import task as it is created",
        Touch(ResourceType.IMPORT_IMAGE_TASK, _REQUESTED),
        create_action="ImportImage",
    ),
    *_VM_IMPORT_READS,
    *_VM_IMPORT_REGISTERS,
    _ec2("DescribeImportImageTasks", "follow the import until the AMI is ready"),
)
#: ImportSnapshot creates the import task, which its request tags, and the
#: snapshot; the Service Authorization Reference marks both required.
_IMPORT_SNAPSHOT = _ec2(
    "ImportSnapshot",
    "import the disk as an EBS snapshot",
    Touch(ResourceType.IMPORT_SNAPSHOT_TASK, _REQUESTED),
    Touch(ResourceType.SNAPSHOT),
)
#: A launch as the restore wizard makes it: into a subnet, with a security
#: group, a key pair, a new network interface and the AMI's volumes. Only the
#: instance is tagged in the request, as AWS's recovery services do.
_LAUNCH_TOUCHES = (
    Touch(ResourceType.INSTANCE, _REQUESTED),
    Touch(ResourceType.IMAGE),
    Touch(ResourceType.SUBNET),
    Touch(ResourceType.SECURITY_GROUP),
    Touch(ResourceType.KEY_PAIR),
    Touch(ResourceType.NETWORK_INTERFACE),
    Touch(ResourceType.VOLUME),
)
_LAUNCH = (
    _ec2("RunInstances", "launch the restored instance from the AMI", *_LAUNCH_TOUCHES),
    _ec2(
        "CreateTags",
        "tag the instance as it launches",
        Touch(ResourceType.INSTANCE, _REQUESTED),
        create_action="RunInstances",
    ),
    _ec2("DescribeInstances", "follow the instance until it runs"),
)

#: Spot needs the AWSServiceRoleForEC2Spot service-linked role; through the
#: API "you must ensure that this role exists" (EC2 user guide). The tool looks
#: for it under its path, and creates it in an account that never used Spot.
_SPOT_SERVICE_LINKED_ROLE = (
    Call("iam:ListRoles", "look for the Spot service-linked role"),
    Call(
        "iam:CreateServiceLinkedRole",
        "create it in an account that never used Spot",
        (Touch(ResourceType.SPOT_SERVICE_LINKED_ROLE),),
        aws_service_name=SPOT_SERVICE_NAME,
    ),
)

WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        name="instance",
        title="Restore as an EC2 instance",
        calls=(
            *_CHOOSE_BACKUP,
            *_CHOOSE_PLACEMENT,
            *_IMPORT_IMAGE,
            *_LAUNCH,
            _ec2(
                "StopInstances", "stop it to apply settings", Touch(ResourceType.INSTANCE, _TAGGED)
            ),
            _ec2(
                "ModifyInstanceAttribute",
                "apply the instance type and security groups chosen",
                Touch(ResourceType.INSTANCE, _TAGGED),
                Touch(ResourceType.SECURITY_GROUP),
            ),
            _ec2("StartInstances", "start it again", Touch(ResourceType.INSTANCE, _TAGGED)),
            _ec2(
                "MonitorInstances",
                "turn on detailed monitoring",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
            _ec2(
                "CreateTags",
                "rename the instance",
                Touch(ResourceType.INSTANCE, _TAGGED),
                tag_key="Name",
            ),
            _ec2(
                "TerminateInstances",
                "remove a failed or trial restore",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
        ),
        sources=(Source.KB1025, Source.VM_IMPORT_GUIDE, Source.CLOUDBERRY_USER_GUIDE),
        note="ImportImage as the VM Import/Export guide describes it, then a launch from "
        "the AMI, then the controls KB 1025 grants.",
    ),
    Workflow(
        name="ami-only",
        title="Restore as an AMI only",
        calls=(
            *_CHOOSE_BACKUP,
            *_IMPORT_IMAGE,
            _ec2("DescribeImages", "check the AMI the import produced"),
            # The import tags its task, not the AMI: naming the AMI must add the tag.
            _ec2(
                "CreateTags", "name the AMI", Touch(ResourceType.IMAGE, _REQUESTED), tag_key="Name"
            ),
        ),
        sources=(Source.CLOUDBERRY_USER_GUIDE, Source.VM_IMPORT_GUIDE),
        note="ImportImage, then the AMI is checked and named; nothing is launched.",
    ),
    Workflow(
        name="ebs-volume",
        title="Restore as an EBS volume",
        calls=(
            *_CHOOSE_BACKUP,
            _ec2("DescribeAvailabilityZones", "pick the volume's Availability Zone"),
            _IMPORT_SNAPSHOT,
            _ec2(
                "CreateTags",
                "tag the import task as it is created",
                Touch(ResourceType.IMPORT_SNAPSHOT_TASK, _REQUESTED),
                create_action="ImportSnapshot",
            ),
            *_VM_IMPORT_READS,
            _ec2("DescribeImportSnapshotTasks", "follow the import until the snapshot is ready"),
            _ec2("DescribeSnapshots", "check the snapshot the import produced"),
            _ec2(
                "CreateVolume",
                "create the restored volume from the snapshot",
                Touch(ResourceType.VOLUME, _REQUESTED),
                Touch(ResourceType.SNAPSHOT),
            ),
            _ec2(
                "CreateTags",
                "tag the volume as it is created",
                Touch(ResourceType.VOLUME, _REQUESTED),
                create_action="CreateVolume",
            ),
            _ec2("DescribeVolumes", "follow the volume until it is available"),
        ),
        sources=(Source.CLOUDBERRY_USER_GUIDE, Source.VM_IMPORT_GUIDE, Source.EC2_API_REFERENCE),
        note="VM Import/Export's import-snapshot path, then CreateVolume from the snapshot "
        "(EC2 API reference); the volume is usable once DescribeVolumes says 'available'.",
    ),
    Workflow(
        name="cancel-image-import",
        title="Cancel an image import",
        calls=(
            *_IMPORT_IMAGE[:2],
            _ec2("DescribeImportImageTasks", "follow the import"),
            _ec2(
                "CancelImportTask",
                "cancel it when the user aborts",
                Touch(ResourceType.IMPORT_IMAGE_TASK, _TAGGED),
            ),
        ),
        sources=(Source.KB1025, Source.VM_IMPORT_GUIDE),
        note="CancelImportTask on the task ImportImage created.",
    ),
    Workflow(
        name="cancel-snapshot-import",
        title="Cancel a snapshot import",
        calls=(
            _IMPORT_SNAPSHOT,
            _ec2("DescribeImportSnapshotTasks", "follow the import"),
            _ec2(
                "CancelImportTask",
                "cancel it when the user aborts",
                Touch(ResourceType.IMPORT_SNAPSHOT_TASK, _TAGGED),
            ),
        ),
        sources=(Source.CLOUDBERRY_USER_GUIDE, Source.VM_IMPORT_GUIDE),
        note="CancelImportTask on the task ImportSnapshot created.",
    ),
    Workflow(
        name="legacy-import",
        title="Legacy ImportInstance and ImportVolume, with their cancel",
        calls=(
            *_CHOOSE_BACKUP,
            *_CHOOSE_PLACEMENT,
            _ec2(
                "ImportInstance",
                "import the disk as an instance",
                Touch(ResourceType.INSTANCE),
                Touch(ResourceType.VOLUME),
                Touch(ResourceType.SUBNET),
                Touch(ResourceType.SECURITY_GROUP),
            ),
            _ec2("DescribeConversionTasks", "follow the conversion task"),
            _ec2("CancelConversionTask", "cancel it when the user aborts"),
            _ec2("ImportVolume", "import a disk as a volume", Touch(ResourceType.VOLUME)),
            _ec2("DescribeConversionTasks", "follow the conversion task"),
            _ec2("CancelConversionTask", "cancel it when the user aborts"),
        ),
        sources=(Source.KB1025, Source.VM_IMPORT_GUIDE),
        note="Older CloudBerry versions; both calls create conversion tasks, which only "
        "CancelConversionTask cancels (EC2 API reference).",
        not_with_instance_tag="ImportInstance and ImportVolume cannot tag what they create, "
        "so the tag guard cannot allow them; with instance_tag they are not granted.",
    ),
    Workflow(
        name="spot-launch",
        title="Launch the restored AMI as Spot capacity",
        calls=(
            *_CHOOSE_PLACEMENT,
            *_SPOT_SERVICE_LINKED_ROLE,
            _ec2(
                "RequestSpotInstances",
                "request a Spot instance from the AMI",
                Touch(ResourceType.SPOT_REQUEST, _REQUESTED),
                Touch(ResourceType.IMAGE),
                Touch(ResourceType.SUBNET),
                Touch(ResourceType.SECURITY_GROUP),
                Touch(ResourceType.KEY_PAIR),
                Touch(ResourceType.NETWORK_INTERFACE),
            ),
            _ec2(
                "CreateTags",
                "tag the Spot request as it is created",
                Touch(ResourceType.SPOT_REQUEST, _REQUESTED),
                create_action="RequestSpotInstances",
            ),
            _ec2("DescribeInstances", "find the instance that fulfilled the request"),
            # EC2 launches it for the request: it never carries a request tag.
            _ec2(
                "TerminateInstances",
                "remove a failed or trial restore",
                Touch(ResourceType.INSTANCE),
            ),
        ),
        sources=(Source.KB1025, Source.EC2_API_REFERENCE, Source.EC2_SPOT_GUIDE),
        note="RequestSpotInstances can tag only the Spot request; the instance EC2 "
        "launches for it carries no tag of the request. In an account that never used "
        "Spot, the Spot service-linked role is created first.",
        not_with_instance_tag="RequestSpotInstances tags only the Spot request, so its "
        "instance never carries the tag and could never be stopped or terminated; with "
        "instance_tag it is not granted. Launch Spot capacity through RunInstances "
        "(InstanceMarketOptions), which tags the instance.",
    ),
    Workflow(
        name="temporary-instance",
        title="Temporary instance",
        calls=(
            *_CHOOSE_PLACEMENT,
            _ec2(
                "RunInstances",
                "launch the temporary instance from a public AMI",
                *_LAUNCH_TOUCHES,
            ),
            *_LAUNCH[1:],
            _ec2(
                "StopInstances",
                "stop it when its work is done",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
            _ec2(
                "TerminateInstances",
                "remove it after the restore",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
        ),
        sources=(Source.CLOUDBERRY_USER_GUIDE,),
        note="CloudBerry names the option but not its calls; this is the launch and "
        "clean-up of a helper instance from a public AMI (no account in its ARN).",
    ),
    Workflow(
        name="encrypted-bucket",
        title="Restore from a KMS-encrypted bucket",
        calls=(
            Call("s3:GetObject", "read an encrypted backup object", (Touch(ResourceType.OBJECTS),)),
            Call(
                "kms:Decrypt",
                "S3 decrypts the object for the tool",
                (Touch(ResourceType.KMS_KEY),),
                via_service="s3",
            ),
            *_IMPORT_IMAGE[:2],
            *_VM_IMPORT_READS,
            Call("kms:Decrypt", "decrypt the disk image", (Touch(ResourceType.KMS_KEY),), _ROLE),
            Call("kms:DescribeKey", "check the key", (Touch(ResourceType.KMS_KEY),), _ROLE),
            Call(
                "kms:GenerateDataKeyWithoutPlaintext",
                "encrypt the imported snapshot",
                (Touch(ResourceType.KMS_KEY),),
                _ROLE,
            ),
            Call("kms:CreateGrant", "let EBS use the key", (Touch(ResourceType.KMS_KEY),), _ROLE),
            *_VM_IMPORT_REGISTERS,
            _LAUNCH[0],
            Call(
                "kms:DescribeKey",
                "EBS checks the key of the AMI's volumes",
                (Touch(ResourceType.KMS_KEY),),
                via_service="ec2",
            ),
            Call(
                "kms:CreateGrant",
                "EBS takes a grant to attach the encrypted volumes",
                (Touch(ResourceType.KMS_KEY),),
                grant_for_aws_resource=True,
            ),
            Call(
                "kms:GenerateDataKeyWithoutPlaintext",
                "EBS creates the encrypted volumes",
                (Touch(ResourceType.KMS_KEY),),
                via_service="ec2",
            ),
            Call(
                "kms:ReEncryptFrom",
                "EBS re-encrypts a volume under the backup key",
                (Touch(ResourceType.KMS_KEY),),
                via_service="ec2",
            ),
            Call(
                "kms:ReEncryptTo",
                "EBS re-encrypts a volume under the backup key",
                (Touch(ResourceType.KMS_KEY),),
                via_service="ec2",
            ),
            Call(
                "kms:Decrypt",
                "EBS decrypts the volume key when the instance starts",
                (Touch(ResourceType.KMS_KEY),),
                via_service="ec2",
            ),
        ),
        sources=(Source.S3_SSE_KMS_GUIDE, Source.EBS_ENCRYPTION_GUIDE, Source.VM_IMPORT_GUIDE),
        note="S3 uses the key for the objects (S3 user guide, SSE-KMS); the import and "
        "the launch use it for the encrypted snapshots and volumes (EBS encryption guide).",
        needs=Needs.KMS_KEY,
    ),
    Workflow(
        name="encrypted-backup-upload",
        title="Write a backup to a KMS-encrypted bucket",
        calls=(
            Call(
                "s3:PutObject", "write an encrypted backup object", (Touch(ResourceType.OBJECTS),)
            ),
            Call(
                "kms:GenerateDataKey",
                "S3 encrypts the object for the tool",
                (Touch(ResourceType.KMS_KEY),),
                via_service="s3",
            ),
        ),
        sources=(Source.S3_SSE_KMS_GUIDE,),
        note="S3 asks KMS for a data key for each object it encrypts (S3 user guide, SSE-KMS).",
        needs=Needs.KMS_KEY,
        writes_backups=True,
    ),
    Workflow(
        name="backup-upload",
        title="Write a backup (multipart upload)",
        calls=(
            Call("s3:GetBucketLocation", "find the bucket's Region", (Touch(ResourceType.BUCKET),)),
            Call(
                "s3:ListBucketMultipartUploads",
                "find unfinished uploads",
                (Touch(ResourceType.BUCKET),),
            ),
            Call("s3:ListMultipartUploadParts", "resume one", (Touch(ResourceType.OBJECTS),)),
            Call("s3:AbortMultipartUpload", "abort a stale one", (Touch(ResourceType.OBJECTS),)),
            Call("s3:PutObject", "upload the parts and complete", (Touch(ResourceType.OBJECTS),)),
        ),
        sources=(Source.MSP360_GRANULAR_S3,),
        note="The backup side of the same bucket: S3's multipart upload (S3 API reference).",
        writes_backups=True,
    ),
    Workflow(
        name="object-acl",
        title="Set the ACL of an uploaded backup object",
        calls=(
            Call("s3:PutObjectAcl", "set the object's ACL", (Touch(ResourceType.OBJECTS),)),
            Call(
                "s3:PutObjectVersionAcl",
                "set the ACL of a version",
                (Touch(ResourceType.OBJECTS),),
            ),
        ),
        sources=(Source.MSP360_GRANULAR_S3,),
        note="MSP360's granular S3 policy grants the ACL writes; no restore needs them, and "
        "a bucket with ACLs disabled (bucket owner enforced) refuses them.",
        needs=Needs.OBJECT_ACL_WRITES,
        writes_backups=True,
    ),
    Workflow(
        name="retention",
        title="Apply the backup plan's retention and immutability",
        calls=(
            Call(
                "s3:ListBucketVersions",
                "list versions of expired data",
                (Touch(ResourceType.BUCKET),),
            ),
            Call("s3:GetObjectVersion", "read a version", (Touch(ResourceType.OBJECTS),)),
            Call("s3:DeleteObject", "delete expired data", (Touch(ResourceType.OBJECTS),)),
            Call(
                "s3:DeleteObjectVersion",
                "delete an expired version",
                (Touch(ResourceType.OBJECTS),),
            ),
            Call(
                "s3:GetBucketObjectLockConfiguration",
                "read the Object Lock setting",
                (Touch(ResourceType.BUCKET),),
            ),
            Call(
                "s3:PutBucketObjectLockConfiguration",
                "set default retention",
                (Touch(ResourceType.BUCKET),),
            ),
        ),
        sources=(Source.MSP360_GRANULAR_S3,),
        note="MSP360's granular S3 policy, for retention and immutability.",
        writes_backups=True,
    ),
    Workflow(
        name="archived-restore",
        title="Restore data from an archive storage class",
        calls=(
            Call(
                "s3:RestoreObject", "bring the archived object back", (Touch(ResourceType.OBJECTS),)
            ),
            Call("s3:GetObject", "read it", (Touch(ResourceType.OBJECTS),)),
        ),
        sources=(Source.MSP360_GRANULAR_S3,),
        note="S3 Glacier classes need RestoreObject before GetObject (S3 user guide).",
    ),
    Workflow(
        name="mbs-agent-credentials",
        title="Temporary credentials for a Managed Backup Service agent",
        calls=(
            Call(
                "sts:GetFederationToken",
                "issue an agent's credentials",
                (Touch(ResourceType.FEDERATED_USER),),
            ),
        ),
        sources=(Source.MSP360_MBS,),
        note="MSP360 Managed Backup Service gives each agent a federated user.",
        needs=Needs.FEDERATION,
    ),
    Workflow(
        name="email-notification",
        title="E-mail a backup or restore notification",
        calls=(
            Call("ses:SendEmail", "send a notification", (Touch(ResourceType.EMAIL_IDENTITY),)),
            Call(
                "ses:SendRawEmail", "send one with a report", (Touch(ResourceType.EMAIL_IDENTITY),)
            ),
        ),
        sources=(Source.KB1025,),
        note="KB 1025's ses:* reduced to the two sending calls.",
        needs=Needs.EMAIL,
    ),
)


def workflow(name: str) -> Workflow:
    """The workflow called ``name`` (ValueError naming the known ones otherwise)."""
    for candidate in WORKFLOWS:
        if candidate.name == name:
            return candidate
    known = ", ".join(w.name for w in WORKFLOWS)
    raise ValueError(f"workflow {name!r} is unknown: use one of {known}")


class Availability(enum.Enum):
    """Whether a policy is meant to serve a workflow."""

    SERVED = "served"
    #: An opt-in the workflow needs is off (no KMS key, no federation, no e-mail).
    NOT_OPTED_IN = "not opted in"
    #: The profile or an option cannot serve it; the construct warns at synth.
    UNSUPPORTED = "unsupported"
    #: A backup-side workflow that a restore-only identity is denied by design.
    RESTORE_ONLY = "left out by restore_only"


def availability(
    workflow: Workflow, options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> tuple[Availability, str]:
    """Whether ``options`` (and a bucket key, with ``kms``; an EBS key, with
    ``ebs_key``) serve ``workflow``, and why not."""
    if options.profile is PolicyProfile.KB1025:
        missing = kb1025_missing_actions(workflow)
        if missing:
            return Availability.UNSUPPORTED, (
                f"PolicyProfile.kb1025() does not grant {', '.join(missing)}, which the "
                f"{workflow.name} workflow calls; use PolicyProfile.least_privilege()"
            )
    elif options.instance_tag is not None and workflow.not_with_instance_tag:
        return Availability.UNSUPPORTED, workflow.not_with_instance_tag
    if options.restore_only and workflow.writes_backups:
        return Availability.RESTORE_ONLY, (
            "restore_only=True: this identity never writes, deletes or re-ACLs backups; "
            "the backup host keeps its own identity"
        )
    needs = workflow.needs
    if (needs is Needs.KMS_KEY and not kms) or (needs is Needs.EBS_KEY and not ebs_key):
        return Availability.NOT_OPTED_IN, f"needs {needs.value}"
    if options.profile is PolicyProfile.LEAST_PRIVILEGE and (
        (needs is Needs.FEDERATION and not options.federation)
        or (needs is Needs.EMAIL and not options.email_notifications)
        or (needs is Needs.OBJECT_ACL_WRITES and not options.object_acl_writes)
        or (needs is Needs.OBJECT_LOCK and not options.object_lock)
        or (needs is Needs.SHARED_SUBNETS and not options.shared_subnet_owners)
    ):
        return Availability.NOT_OPTED_IN, f"needs {needs.value}"
    return Availability.SERVED, ""


def unsupported_workflows(options: PolicyOptions) -> list[tuple[Workflow, str]]:
    """The workflows that ``options`` cannot serve, with the reason (for synth warnings)."""
    found = []
    for candidate in WORKFLOWS:
        status, reason = availability(candidate, options, kms=True, ebs_key=True)
        if status is Availability.UNSUPPORTED:
            found.append((candidate, reason))
    return found


def kb1025_missing_actions(workflow: Workflow) -> list[str]:
    """The identity's calls in ``workflow`` that PolicyProfile.KB1025 grants no action for."""
    granted = [
        action
        for spec in identity_statements(PolicyOptions(profile=PolicyProfile.KB1025), kms=True)
        for action in spec.actions
    ]
    return sorted(
        {
            call.action
            for call in workflow.calls
            if call.actor is Actor.IDENTITY
            and not any(fnmatch.fnmatchcase(call.action, pattern) for pattern in granted)
        }
    )


@dataclass(frozen=True)
class Target:
    """Where a workflow runs: concrete values for the ARNs and context IAM sees."""

    partition: str = "aws"
    account: str = "111122223333"
    region: str = "us-east-1"
    bucket: str = "my-backups"
    kms_key_arn: str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    #: The instance tag the backup tool sets (with the tag guard), or None.
    instance_tag: tuple[str, str] | None = None
    #: The customer managed key of EBS encryption by default.
    ebs_kms_key_arn: str = (
        "arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab"
    )
    #: The account that shares its subnets with this one (a shared VPC).
    subnet_owner: str = "444455556666"

    def arn(self, resource_type: ResourceType, *, shared: bool = False) -> str:
        """An ARN of ``resource_type`` as a restore would name it (``*`` for ANY);
        ``shared``: owned by :attr:`subnet_owner`."""
        p, a, r = self.partition, self.account, self.region
        if shared:
            a = self.subnet_owner
        ids = {
            ResourceType.INSTANCE: "i-0123456789abcdef0",
            ResourceType.VOLUME: "vol-0123456789abcdef0",
            ResourceType.NETWORK_INTERFACE: "eni-0123456789abcdef0",
            ResourceType.SECURITY_GROUP: "sg-0123456789abcdef0",
            ResourceType.SUBNET: "subnet-0123456789abcdef0",
            ResourceType.KEY_PAIR: "restore-key",
            ResourceType.SPOT_REQUEST: "sir-0123abcd",
            ResourceType.IMPORT_IMAGE_TASK: "import-ami-0123456789abcdef0",
            ResourceType.IMPORT_SNAPSHOT_TASK: "import-snap-0123456789abcdef0",
            ResourceType.IMAGE: "ami-0123456789abcdef0",
            ResourceType.SNAPSHOT: "snap-0123456789abcdef0",
        }
        if resource_type is ResourceType.ANY:
            return "*"
        if resource_type is ResourceType.BUCKET:
            return f"arn:{p}:s3:::{self.bucket}"
        if resource_type is ResourceType.OBJECTS:
            return f"arn:{p}:s3:::{self.bucket}/backups/image/disk-0.vhdx"
        if resource_type is ResourceType.KMS_KEY:
            return self.kms_key_arn
        if resource_type is ResourceType.EBS_KMS_KEY:
            return self.ebs_kms_key_arn
        if resource_type is ResourceType.SPOT_SERVICE_LINKED_ROLE:
            return spot_service_linked_role_arn(p, a)
        if resource_type is ResourceType.FEDERATED_USER:
            return f"arn:{p}:sts::{a}:federated-user/agent-1"
        if resource_type is ResourceType.EMAIL_IDENTITY:
            return f"arn:{p}:ses:{r}:{a}:identity/backups@example.com"
        account = "" if resource_type in (ResourceType.IMAGE, ResourceType.SNAPSHOT) else a
        return f"arn:{p}:ec2:{r}:{account}:{resource_type.value}/{ids[resource_type]}"

    def touch_arn(self, touch: Touch | None) -> str:
        """The ARN of what ``touch`` names (``*`` for a call that takes no resource)."""
        if touch is None:
            return "*"
        if touch.outside_arn is not None:
            return touch.outside_arn.format(
                partition=self.partition, region=self.region, account=self.account
            )
        return self.arn(touch.resource_type, shared=touch.shared)

    def context(self, call: Call, touch: Touch | None) -> dict[str, str]:
        """The request context IAM evaluates for ``call`` on ``touch``."""
        context = {"aws:RequestedRegion": self.region}
        if self.instance_tag is not None and touch is not None:
            key, value = self.instance_tag
            if touch.tagging is Tagging.IN_REQUEST:
                context[f"aws:RequestTag/{key}"] = value
            elif touch.tagging is Tagging.ON_RESOURCE:
                context[f"aws:ResourceTag/{key}"] = value
        if call.create_action:
            context["ec2:CreateAction"] = call.create_action
        if call.via_service:
            suffix = URL_SUFFIXES.get(self.partition, DEFAULT_URL_SUFFIX)
            context["kms:ViaService"] = f"{call.via_service}.{self.region}.{suffix}"
        if call.grant_for_aws_resource:
            context["kms:GrantIsForAWSResource"] = "true"
        if call.tag_key is not None:
            context["aws:TagKeys"] = call.tag_key
        if touch is not None and touch.with_instance_profile:
            context["ec2:InstanceProfile"] = (
                f"arn:{self.partition}:iam::{self.account}:instance-profile/AppServer"
            )
        if call.aws_service_name:
            context["iam:AWSServiceName"] = call.aws_service_name
        return context


@dataclass(frozen=True)
class CallGrant:
    """Which statement allows one call on each resource it touches ("" where none does)."""

    call: Call
    statements: tuple[tuple[ResourceType, str], ...]

    @property
    def granted(self) -> bool:
        return all(sid for _, sid in self.statements)


def explain_workflow(
    workflow: Workflow, options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> list[CallGrant]:
    """Each call of ``workflow`` with the statement that allows it on each resource.

    This reads the catalogue's statement specs, not an IAM evaluation: the tests
    check it against an offline evaluator.
    """
    return explain_calls(workflow.calls, options, kms=kms, ebs_key=ebs_key)


def explain_calls(
    calls: Sequence[Call], options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> list[CallGrant]:
    """Each of ``calls`` with the statement that allows it on each resource (see above)."""
    identity = identity_statements(options, kms=kms, ebs_key=ebs_key)
    role = vm_import_role_statements(existing_role=False, kms=kms, ebs_key=ebs_key)
    rows = []
    for call in calls:
        specs = identity if call.actor is Actor.IDENTITY else role
        touches: Sequence[Touch | None] = call.touches or (None,)
        statements = tuple(
            (
                touch.resource_type if touch else ResourceType.ANY,
                next((s.sid for s in specs if _allows(s, call, touch, options)), ""),
            )
            for touch in touches
        )
        rows.append(CallGrant(call, statements))
    return rows


def _allows(spec: StatementSpec, call: Call, touch: Touch | None, options: PolicyOptions) -> bool:
    if not any(fnmatch.fnmatchcase(call.action, pattern) for pattern in spec.actions):
        return False
    resource_type = touch.resource_type if touch else ResourceType.ANY
    if ResourceType.ANY not in spec.resource_types and (
        resource_type not in spec.resource_types
        or (touch and touch.outside_arn)
        or (touch is not None and touch.shared and not options.shared_subnet_owners)
    ):
        return False
    tagging = touch.tagging if touch else Tagging.NONE
    holds = {
        Guard.REQUEST_TAG: tagging is Tagging.IN_REQUEST,
        Guard.RESOURCE_TAG: tagging is Tagging.ON_RESOURCE,
        Guard.CREATE_ACTION: f"ec2:{call.create_action}" in create_actions(options),
        Guard.VIA_S3: call.via_service == "s3",
        Guard.VIA_EC2: call.via_service == "ec2",
        Guard.GRANT_FOR_AWS_RESOURCE: call.grant_for_aws_resource,
        Guard.NO_INSTANCE_PROFILE: not (touch and touch.with_instance_profile),
        Guard.NAME_TAG_ONLY: call.tag_key == "Name",
        Guard.SPOT_SERVICE: call.aws_service_name == SPOT_SERVICE_NAME,
    }
    return all(holds[guard] for guard in spec.guards)


# The workflows of accounts set up in common ways (EBS encryption by default
# with a customer managed key, a shared VPC, Spot through RunInstances, Object
# Lock) live in their own module, which builds on the calls above; imported
# last, when every name it uses is defined.
from .real_accounts import REAL_ACCOUNT_WORKFLOWS  # noqa: E402

WORKFLOWS = WORKFLOWS + REAL_ACCOUNT_WORKFLOWS
