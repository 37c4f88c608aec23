"""Which statements each profile and option grants, before any ARN is known."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .catalogue import (
    KMS_VIA_EC2_ACTIONS,
    KMS_VIA_S3_ACTIONS,
    VM_IMPORT_ROLE_KMS_ACTIONS,
    Guard,
    ResourceType,
    kb1025_corrected_actions,
)


class PolicyProfile(enum.Enum):
    """Which identity policy to grant. Build the options with its factories:
    ``PolicyProfile.least_privilege(...)`` or ``PolicyProfile.kb1025(...)``."""

    #: The tightest policy that still restores (the default).
    LEAST_PRIVILEGE = "least-privilege"
    #: The vendor article's grants, corrected and scoped to the bucket:
    #: ``s3:*`` on the bucket, ``ses:*``, ``sts:GetFederationToken``.
    KB1025 = "kb1025"

    @staticmethod
    def least_privilege(
        *,
        allowed_regions: Sequence[str] | None = None,
        instance_tag: tuple[str, str] | None = None,
        federation: bool = False,
        email_notifications: bool = False,
        restore_only: bool = False,
        object_acl_writes: bool = False,
        object_lock: bool = False,
        shared_subnet_owners: Sequence[str] | None = None,
    ) -> PolicyOptions:
        """The tightest policy that still restores (the default).

        :param allowed_regions: Regions the EC2 calls may go to. Default: any.
        :param instance_tag: ``(key, value)``: launches, imports and new volumes
            must carry the tag, and only tagged resources may be controlled.
            Spot requests and the legacy import are then not granted. Default: none.
        :param federation: grant ``sts:GetFederationToken`` (MSP360 Managed Backup
            Service). Default: False.
        :param email_notifications: grant ``ses:SendEmail`` and ``ses:SendRawEmail``.
            Default: False.
        :param restore_only: read and restore the backups, but never write, delete
            or re-ACL them: for the host that restores after a ransomware event,
            while the backup host keeps its own identity. Default: False.
        :param object_acl_writes: grant ``s3:PutObjectAcl`` and
            ``s3:PutObjectVersionAcl``, for a backup tool that sets object ACLs on a
            bucket that still uses them. Default: False.
        :param object_lock: the bucket uses S3 Object Lock (MSP360 immutability):
            grant ``s3:PutObjectRetention`` and ``s3:GetObjectRetention`` on its
            objects. ``s3:BypassGovernanceRetention`` is never granted. Default: False.
        :param shared_subnet_owners: 12-digit accounts whose subnets are shared
            with this account through AWS RAM (shared VPC): a restore may launch
            into them. Default: none (subnets of this account only).
        """
        return PolicyOptions(
            profile=PolicyProfile.LEAST_PRIVILEGE,
            allowed_regions=_regions(allowed_regions),
            instance_tag=tuple(instance_tag) if isinstance(instance_tag, list) else instance_tag,
            federation=federation,
            email_notifications=email_notifications,
            restore_only=restore_only,
            object_acl_writes=object_acl_writes,
            object_lock=object_lock,
            shared_subnet_owners=_accounts(shared_subnet_owners),
            deploy_time_values=_deploy_time(allowed_regions, instance_tag)
            | _deploy_time(shared_subnet_owners, None),
        )

    @staticmethod
    def kb1025(*, allowed_regions: Sequence[str] | None = None) -> PolicyOptions:
        """KB 1025's grants, corrected and scoped to the bucket.

        :param allowed_regions: Regions the EC2 calls may go to. Default: any.
        """
        return PolicyOptions(
            profile=PolicyProfile.KB1025,
            allowed_regions=_regions(allowed_regions),
            deploy_time_values=_deploy_time(allowed_regions, None),
        )


#: How CDK marks a value that is known only at deploy time (a token) inside a string.
_TOKEN_MARKER = "${Token["


def _string_list(argument: str, value: Sequence[str] | None, what: str) -> tuple[str, ...]:
    """``value`` as a tuple; ValueError naming ``argument`` when it is not a list or tuple."""
    if isinstance(value, str):
        raise ValueError(
            f"{argument}={value!r} is invalid: pass a list of {what}, for example [{value!r}]"
        )
    if value is not None and not isinstance(value, (list, tuple)):
        raise ValueError(f"{argument}={value!r} is invalid: pass a list of {what}")
    return tuple(value or ())


def _regions(allowed_regions: Sequence[str] | None) -> tuple[str, ...]:
    regions = _string_list("allowed_regions", allowed_regions, "Region names")
    if allowed_regions is not None and not regions:
        raise ValueError(
            "allowed_regions=[] is invalid: it would deny every EC2 call; leave it out to allow any Region"
        )
    return regions


def _accounts(accounts: Sequence[str] | None) -> tuple[str, ...]:
    return _string_list("shared_subnet_owners", accounts, "12-digit account ids")


def _deploy_time(
    allowed_regions: Sequence[str] | None, instance_tag: tuple[str, str] | None
) -> frozenset[str]:
    """The values that are CDK tokens: CloudFormation, not synth, checks them."""
    values = [
        value
        for given in (allowed_regions, instance_tag)
        if isinstance(given, (list, tuple))  # other types are refused by PolicyOptions
        for value in given
    ]
    return frozenset(v for v in values if isinstance(v, str) and _TOKEN_MARKER in v)


@dataclass(frozen=True)
class StatementSpec:
    """One policy statement before ARNs are known."""

    sid: str
    actions: tuple[str, ...]
    resource_types: tuple[ResourceType, ...]
    guard: Guard = Guard.NONE
    #: Conditions the statement carries besides ``guard`` (all must hold).
    more_guards: tuple[Guard, ...] = ()

    @property
    def is_ec2(self) -> bool:
        return all(action.startswith("ec2:") for action in self.actions)

    @property
    def guards(self) -> tuple[Guard, ...]:
        """Every condition of the statement but the Region's, ``Guard.NONE`` left out."""
        return tuple(g for g in (self.guard, *self.more_guards) if g is not Guard.NONE)


_EC2_DESCRIBE = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeConversionTasks",
    "ec2:DescribeImages",
    "ec2:DescribeImportImageTasks",
    "ec2:DescribeImportSnapshotTasks",
    "ec2:DescribeInstances",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
)
_IMPORT = (
    "ec2:CancelImportTask",
    "ec2:ImportImage",
    "ec2:ImportInstance",
    "ec2:ImportSnapshot",
    "ec2:ImportVolume",
)
_IMPORT_SCOPES = (
    ResourceType.IMPORT_IMAGE_TASK,
    ResourceType.IMPORT_SNAPSHOT_TASK,
    ResourceType.IMAGE,
    ResourceType.SNAPSHOT,
    ResourceType.INSTANCE,
    ResourceType.VOLUME,
    ResourceType.SECURITY_GROUP,
    ResourceType.SUBNET,
)
_LAUNCH = ("ec2:RequestSpotInstances", "ec2:RunInstances")
#: What a launch creates.
_LAUNCH_CREATES = (ResourceType.INSTANCE, ResourceType.VOLUME, ResourceType.SPOT_REQUEST)
#: What a launch uses without creating it.
_LAUNCH_USES = (
    ResourceType.IMAGE,
    ResourceType.SNAPSHOT,
    ResourceType.NETWORK_INTERFACE,
    ResourceType.SECURITY_GROUP,
    ResourceType.SUBNET,
    ResourceType.KEY_PAIR,
)
_MANAGE = (
    "ec2:ModifyInstanceAttribute",
    "ec2:MonitorInstances",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
)
#: What the restore tags as it creates it: the instance, a restored volume,
#: the Spot request, a launch's network interfaces (RunInstances'
#: TagSpecifications tag them too, botocore's EC2 model) and the import tasks.
#: An import's snapshots are not tagged by any workflow; the AMI is named after
#: the import (Ec2NameImages), because the import tags only its task.
_TAGGED_ON_CREATE = (
    ResourceType.INSTANCE,
    ResourceType.VOLUME,
    ResourceType.SPOT_REQUEST,
    ResourceType.NETWORK_INTERFACE,
    ResourceType.IMPORT_IMAGE_TASK,
    ResourceType.IMPORT_SNAPSHOT_TASK,
)
#: The calls that create what the tag guard requires to be tagged. Their
#: ``ec2:CreateAction`` values let CreateTags apply the request's tags.
TAG_GUARDED_CREATORS = (
    "ec2:CreateVolume",
    "ec2:ImportImage",
    "ec2:ImportSnapshot",
    "ec2:RunInstances",
)


def create_actions(options: PolicyOptions) -> tuple[str, ...]:
    """The calls whose tags CreateTags may apply (``ec2:CreateAction``): every
    creating call granted; the tag guard grants no RequestSpotInstances."""
    if options.instance_tag is not None:
        return TAG_GUARDED_CREATORS
    return tuple(sorted((*TAG_GUARDED_CREATORS, "ec2:RequestSpotInstances")))


#: What those calls create, and so must carry the tag in their request.
_GUARD_CREATES = (
    ResourceType.IMPORT_IMAGE_TASK,
    ResourceType.IMPORT_SNAPSHOT_TASK,
    ResourceType.INSTANCE,
    ResourceType.VOLUME,
)
#: What may be controlled once it carries the tag: instances, and import tasks (to cancel).
_GUARD_CONTROLS = (
    ResourceType.INSTANCE,
    ResourceType.IMPORT_IMAGE_TASK,
    ResourceType.IMPORT_SNAPSHOT_TASK,
)
_GLOBAL_LISTS = ("iam:ListRoles", "s3:ListAllMyBuckets")
#: What a restore reads of the bucket, and what backup and retention add.
_BUCKET_READS = (
    "s3:GetBucketLocation",
    "s3:GetBucketObjectLockConfiguration",
    "s3:ListBucket",
    "s3:ListBucketVersions",
)
_BUCKET_WRITES = ("s3:ListBucketMultipartUploads", "s3:PutBucketObjectLockConfiguration")
#: What a restore reads of the backups (RestoreObject only makes a temporary
#: copy of an archived object readable), and what backup and retention add.
_OBJECT_READS = (
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:RestoreObject",
)
_OBJECT_WRITES = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
OBJECT_ACL_WRITES = ("s3:PutObjectAcl", "s3:PutObjectVersionAcl")


@functools.cache
def known_regions() -> Mapping[str, str]:
    """Every Region where EC2 runs, with its partition, from botocore's endpoint data.

    botocore is maintained by AWS and updated with each new Region; it is
    loaded only when Regions are checked (it takes a few tenths of a second).
    """
    import botocore.session  # noqa: PLC0415  (lazy: only Region checks need it)

    session = botocore.session.get_session()
    return {
        region: partition
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    }


def _botocore_version() -> str:
    import botocore  # noqa: PLC0415

    return str(botocore.__version__)


#: An AWS Region name (us-east-1, cn-north-1, us-gov-west-1, ...).
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_TAG_KEY = re.compile(r"[\w.:/=+@ -]{1,128}", re.ASCII)
_TAG_VALUE = re.compile(r"[\w.:/=+@ -]{0,256}", re.ASCII)


# The rules below are shared by PolicyOptions, the CLI and the example app,
# each of which names the value in its own spelling (argument, flag, -c key).


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot be an allowed Region ("is not ..."), or None."""
    if not REGION_NAME.fullmatch(region):
        return (
            "is not an AWS Region name "
            "(for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')"
        )
    if region not in known_regions():
        return (
            f"is not a Region where EC2 runs (botocore {_botocore_version()} knows "
            f"{len(known_regions())}; a typo such as 'eu-wset-1' would deny every EC2 call)"
        )
    return None


#: A KMS key ARN (not an alias): what a key policy's grants and kms:ViaService name.
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")


def kms_key_arn_problem(arn: str) -> str | None:
    """Why ``arn`` is not a KMS key ARN ("is not ..."), or None."""
    if not KMS_KEY_ARN.fullmatch(arn):
        return "is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)"
    return None


def tag_key_problem(key: str) -> str | None:
    """The tag key rule that ``key`` breaks, or None."""
    if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
        return (
            "tag keys are 1 to 128 characters of letters, digits, spaces and _.:/=+-@, "
            "and may not start with 'aws:'"
        )
    return None


def tag_value_problem(value: str) -> str | None:
    """The tag value rule that ``value`` breaks, or None."""
    if not _TAG_VALUE.fullmatch(value):
        return "tag values are 0 to 256 characters of letters, digits, spaces and _.:/=+-@"
    return None


@dataclass(frozen=True)
class PolicyOptions:
    """The choices that shape the identity policy. Checked on creation (ValueError)."""

    #: LEAST_PRIVILEGE (default) or KB1025.
    profile: PolicyProfile = PolicyProfile.LEAST_PRIVILEGE
    #: Regions the EC2 calls may go to; empty: any. Adds an ``aws:RequestedRegion``
    #: condition to every EC2 statement and puts the regions in scoped EC2 ARNs.
    allowed_regions: tuple[str, ...] = ()
    #: ``(key, value)``: launches, imports and new volumes must carry this tag,
    #: and only tagged resources may be controlled. Spot requests and the legacy
    #: ImportInstance/ImportVolume are then not granted. LEAST_PRIVILEGE only.
    instance_tag: tuple[str, str] | None = None
    #: Grant ``sts:GetFederationToken`` (MSP360 Managed Backup Service). LEAST_PRIVILEGE only.
    federation: bool = False
    #: Grant ``ses:SendEmail`` and ``ses:SendRawEmail``. LEAST_PRIVILEGE only.
    email_notifications: bool = False
    #: Read and restore the backups, never write, delete or re-ACL them (the
    #: host that restores; the backup host keeps its own identity). LEAST_PRIVILEGE only.
    restore_only: bool = False
    #: Grant ``s3:PutObjectAcl`` and ``s3:PutObjectVersionAcl``. LEAST_PRIVILEGE only.
    object_acl_writes: bool = False
    #: The bucket uses S3 Object Lock: grant ``s3:PutObjectRetention`` and
    #: ``s3:GetObjectRetention`` on its objects. LEAST_PRIVILEGE only.
    object_lock: bool = False
    #: Accounts whose subnets are shared with this one (AWS RAM): their subnet
    #: ARNs are granted beside this account's. LEAST_PRIVILEGE only.
    shared_subnet_owners: tuple[str, ...] = ()
    #: Values only known at deploy time (CDK tokens) are not checked.
    deploy_time_values: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.profile, PolicyProfile):
            raise ValueError(
                f"profile={self.profile!r} is invalid: use PolicyProfile.LEAST_PRIVILEGE or "
                "PolicyProfile.KB1025 here; RestorePermissions(profile=...) takes "
                "PolicyProfile.least_privilege(...) or PolicyProfile.kb1025(...)"
            )
        # Strict types: a string "false" is truthy and would grant what it denies.
        for name in (
            "federation",
            "email_notifications",
            "restore_only",
            "object_acl_writes",
            "object_lock",
        ):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name}={value!r} is invalid: pass True or False (a bool)")
        if isinstance(self.allowed_regions, str) or not isinstance(
            self.allowed_regions, (tuple, list)
        ):
            raise ValueError(
                f"allowed_regions={self.allowed_regions!r} is invalid: pass a list of Region names"
            )
        for region in self.allowed_regions:
            if not isinstance(region, str):
                raise ValueError(
                    f"allowed_regions contains {region!r}, which is not a Region name (a str)"
                )
        object.__setattr__(self, "allowed_regions", tuple(dict.fromkeys(self.allowed_regions)))
        for region in self.allowed_regions:
            if region in self.deploy_time_values:
                continue
            problem = region_problem(region)
            if problem is not None:
                raise ValueError(f"allowed_regions contains {region!r}, which {problem}")
        self._check_shared_subnet_owners()
        if self.profile is PolicyProfile.KB1025:
            for name in (
                "instance_tag",
                "federation",
                "email_notifications",
                "restore_only",
                "object_acl_writes",
                "object_lock",
                "shared_subnet_owners",
            ):
                if getattr(self, name):
                    raise ValueError(
                        f"{name} is only valid with PolicyProfile.least_privilege(...): "
                        "PolicyProfile.kb1025(...) grants exactly what the vendor article grants"
                    )
        if self.restore_only and self.object_acl_writes:
            raise ValueError(
                "object_acl_writes=True contradicts restore_only=True: a restore-only identity "
                "never changes the backups' ACLs; give the backup host its own identity"
            )
        if self.instance_tag is not None:
            if not (
                isinstance(self.instance_tag, tuple)
                and len(self.instance_tag) == 2
                and all(isinstance(part, str) for part in self.instance_tag)
            ):
                raise ValueError(
                    f"instance_tag={self.instance_tag!r} is invalid: use a (key, value) tuple of str"
                )
            key, value = self.instance_tag
            if key not in self.deploy_time_values and (problem := tag_key_problem(key)):
                raise ValueError(f"instance_tag key {key!r} is invalid: {problem}")
            if value not in self.deploy_time_values and (problem := tag_value_problem(value)):
                raise ValueError(f"instance_tag value {value!r} is invalid: {problem}")

    def _check_shared_subnet_owners(self) -> None:
        owners = self.shared_subnet_owners
        if isinstance(owners, str) or not isinstance(owners, (tuple, list)):
            raise ValueError(
                f"shared_subnet_owners={owners!r} is invalid: pass a list of 12-digit account ids"
            )
        object.__setattr__(self, "shared_subnet_owners", tuple(dict.fromkeys(owners)))
        for owner in self.shared_subnet_owners:
            if not isinstance(owner, str):
                raise ValueError(
                    f"shared_subnet_owners contains {owner!r}, which is not an account id (a str)"
                )
            if owner not in self.deploy_time_values and not ACCOUNT_ID.fullmatch(owner):
                raise ValueError(
                    f"shared_subnet_owners contains {owner!r}, which is not a 12-digit AWS "
                    "account id (the account that owns the shared VPC's subnets)"
                )


#: An AWS account id.
ACCOUNT_ID = re.compile(r"\d{12}")


def identity_statements(
    options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> list[StatementSpec]:
    """The restore identity's statements for ``options``; ``kms`` adds the bucket key's
    statements, ``ebs_key`` those of the account's EBS encryption key."""
    if options.profile is PolicyProfile.KB1025:
        corrected = kb1025_corrected_actions()
        statements = [
            StatementSpec(
                "Kb1025Ec2",
                tuple(sorted(a for a in corrected if a.startswith("ec2:"))),
                (ResourceType.ANY,),
            ),
            StatementSpec(
                "Kb1025Lists",
                tuple(sorted(a for a in corrected if not a.startswith("ec2:"))),
                (ResourceType.ANY,),
            ),
            StatementSpec("Kb1025Bucket", ("s3:*",), (ResourceType.BUCKET,)),
            StatementSpec("Kb1025Objects", ("s3:*",), (ResourceType.OBJECTS,)),
            StatementSpec("Kb1025Federation", ("sts:GetFederationToken",), (ResourceType.ANY,)),
            StatementSpec("Kb1025Email", ("ses:*",), (ResourceType.ANY,)),
        ]
    else:
        statements = [StatementSpec("Ec2Describe", _EC2_DESCRIBE, (ResourceType.ANY,))]
        if options.instance_tag is None:
            statements += [
                # Conversion tasks take no resource-level permissions (SAR).
                StatementSpec(
                    "Ec2LegacyImportCancel", ("ec2:CancelConversionTask",), (ResourceType.ANY,)
                ),
                StatementSpec("Ec2Import", _IMPORT, _IMPORT_SCOPES),
                StatementSpec("Ec2Launch", _LAUNCH, _LAUNCH_CREATES + _LAUNCH_USES),
                StatementSpec(
                    "Ec2CreateVolume",
                    ("ec2:CreateVolume",),
                    (ResourceType.VOLUME, ResourceType.SNAPSHOT),
                ),
                # Only instances without an instance profile: what this
                # identity launches (it has no iam:PassRole). Changing the
                # userData of an instance with a role and restarting it would
                # run code as that role (cloudsplaining's
                # ModifyEC2InstanceUserDataThenRestart).
                StatementSpec(
                    "Ec2ManageInstances",
                    _MANAGE,
                    (ResourceType.INSTANCE, ResourceType.SECURITY_GROUP, ResourceType.VOLUME),
                    Guard.NO_INSTANCE_PROFILE,
                ),
                # Tags that other policies of the account may read for access
                # control are set only on what a call creates, on instances
                # this identity can reach anyway, and as the Name of an AMI.
                StatementSpec(
                    "Ec2TagOnCreate", ("ec2:CreateTags",), _TAGGED_ON_CREATE, Guard.CREATE_ACTION
                ),
                StatementSpec(
                    "Ec2TagInstances",
                    ("ec2:CreateTags",),
                    (ResourceType.INSTANCE,),
                    Guard.NO_INSTANCE_PROFILE,
                ),
                StatementSpec(
                    "Ec2NameImages", ("ec2:CreateTags",), (ResourceType.IMAGE,), Guard.NAME_TAG_ONLY
                ),
            ]
        else:
            # A call needs every resource it touches allowed, so the guarded
            # parts decide: the instance, volume or import task that the call
            # creates must carry the tag in its request, as Elastic Disaster
            # Recovery and Application Migration Service condition the
            # instance only. What a call only uses, and the volumes and
            # network interfaces a launch makes beside its instance, are
            # granted without a tag. An action is never granted on a resource
            # type it does not take, so grouping actions widens nothing.
            # Left out, because they cannot tag what they create (see
            # workflows.py): the legacy ImportInstance and ImportVolume, and
            # RequestSpotInstances, whose instances never carry the tag and so
            # could never be stopped or terminated.
            statements += [
                StatementSpec(
                    "Ec2CreateTagged",
                    TAG_GUARDED_CREATORS,
                    (
                        ResourceType.IMPORT_IMAGE_TASK,
                        ResourceType.IMPORT_SNAPSHOT_TASK,
                        ResourceType.INSTANCE,
                        ResourceType.VOLUME,
                    ),
                    Guard.REQUEST_TAG,
                ),
                StatementSpec(
                    "Ec2UseResources",
                    (
                        "ec2:ImportImage",
                        "ec2:ImportSnapshot",
                        "ec2:ModifyInstanceAttribute",
                        "ec2:RunInstances",
                    ),
                    (*_LAUNCH_USES, ResourceType.VOLUME),
                ),
                StatementSpec("Ec2VolumeSource", ("ec2:CreateVolume",), (ResourceType.SNAPSHOT,)),
                StatementSpec(
                    "Ec2ManageTagged",
                    ("ec2:CancelImportTask", "ec2:CreateTags", *_MANAGE),
                    _GUARD_CONTROLS,
                    Guard.RESOURCE_TAG,
                    (Guard.NO_INSTANCE_PROFILE,),
                ),
                # Also what a launch's TagSpecifications tag beside the instance.
                StatementSpec(
                    "Ec2TagOnCreate",
                    ("ec2:CreateTags",),
                    (*_GUARD_CREATES, *_LAUNCH_PARTS),
                    Guard.CREATE_ACTION,
                ),
                # Names the AMI an import produced: the import tags only its
                # task, so the request that names the AMI must add the tag
                # (Elastic Disaster Recovery tags images the same way).
                StatementSpec(
                    "Ec2TagImports", ("ec2:CreateTags",), (ResourceType.IMAGE,), Guard.REQUEST_TAG
                ),
            ]
        writes = not options.restore_only
        statements += [
            StatementSpec("AccountLists", _GLOBAL_LISTS, (ResourceType.ANY,)),
            StatementSpec(
                "BackupBucket",
                tuple(sorted(_BUCKET_READS + (_BUCKET_WRITES if writes else ()))),
                (ResourceType.BUCKET,),
            ),
            StatementSpec(
                "BackupObjects",
                tuple(sorted(_OBJECT_READS + (_OBJECT_WRITES if writes else ()))),
                (ResourceType.OBJECTS,),
            ),
        ]
        if options.object_acl_writes:
            statements.append(
                StatementSpec("BackupObjectAcls", OBJECT_ACL_WRITES, (ResourceType.OBJECTS,))
            )
        statements += _real_account_statements(options)
        if options.federation:
            statements.append(
                StatementSpec(
                    "Federation", ("sts:GetFederationToken",), (ResourceType.FEDERATED_USER,)
                )
            )
        if options.email_notifications:
            statements.append(
                StatementSpec(
                    "EmailNotifications",
                    ("ses:SendEmail", "ses:SendRawEmail"),
                    (ResourceType.EMAIL_IDENTITY,),
                )
            )
    if kms:
        statements += [
            # A restore-only identity writes no objects, so S3 never encrypts for it.
            StatementSpec(
                "BackupKeyViaS3",
                ("kms:Decrypt",) if options.restore_only else KMS_VIA_S3_ACTIONS,
                (ResourceType.KMS_KEY,),
                Guard.VIA_S3,
            ),
            StatementSpec(
                "BackupKeyViaEbs", KMS_VIA_EC2_ACTIONS, (ResourceType.KMS_KEY,), Guard.VIA_EC2
            ),
            StatementSpec(
                "BackupKeyGrants",
                ("kms:CreateGrant",),
                (ResourceType.KMS_KEY,),
                Guard.GRANT_FOR_AWS_RESOURCE,
            ),
        ]
    if ebs_key:
        statements += _ebs_key_statements()
    return statements


def _real_account_statements(options: PolicyOptions) -> list[StatementSpec]:
    """What accounts set up in common ways need: a first Spot launch, and Object Lock."""
    statements = [
        # The Spot service-linked role, only it (iam:AWSServiceName), on its own ARN.
        StatementSpec(
            "SpotServiceLinkedRole",
            ("iam:CreateServiceLinkedRole",),
            (ResourceType.SPOT_SERVICE_LINKED_ROLE,),
            Guard.SPOT_SERVICE,
        ),
    ]
    if options.object_lock:
        statements.append(
            # A restore-only identity reads the lock and never places one.
            StatementSpec(
                "BackupObjectLock",
                ("s3:GetObjectRetention",)
                if options.restore_only
                else ("s3:GetObjectRetention", "s3:PutObjectRetention"),
                (ResourceType.OBJECTS,),
            )
        )
    return statements


#: What a launch creates beside its instance and volumes, and may tag in its request.
_LAUNCH_PARTS = (ResourceType.NETWORK_INTERFACE, ResourceType.SPOT_REQUEST)


def _ebs_key_statements() -> list[StatementSpec]:
    """The EBS encryption key's statements: used only by EBS, grants only for AWS resources."""
    return [
        StatementSpec(
            "EbsKeyViaEbs", KMS_VIA_EC2_ACTIONS, (ResourceType.EBS_KMS_KEY,), Guard.VIA_EC2
        ),
        StatementSpec(
            "EbsKeyGrants",
            ("kms:CreateGrant",),
            (ResourceType.EBS_KMS_KEY,),
            Guard.GRANT_FOR_AWS_RESOURCE,
        ),
    ]


#: What depends on the buckets and keys of one identity; the rest of its
#: statements are the same for every identity with the same options.
_PER_IDENTITY_TYPES = frozenset(
    {ResourceType.BUCKET, ResourceType.OBJECTS, ResourceType.KMS_KEY, ResourceType.EBS_KMS_KEY}
)


def shared_identity_statements(options: PolicyOptions) -> list[StatementSpec]:
    """The identity's statements that name no bucket or key: shared by a stack's identities."""
    return [
        spec
        for spec in identity_statements(options, kms=False)
        if not _PER_IDENTITY_TYPES & set(spec.resource_types)
    ]


def own_identity_statements(
    options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> list[StatementSpec]:
    """The identity's statements on its own buckets and keys."""
    return [
        spec
        for spec in identity_statements(options, kms=kms, ebs_key=ebs_key)
        if _PER_IDENTITY_TYPES & set(spec.resource_types)
    ]


def vm_import_role_statements(
    *, existing_role: bool, kms: bool, buckets: bool = True, ebs_key: bool = False
) -> list[StatementSpec]:
    """The vmimport role's statements; an existing role only gets the bucket (and key) ones.

    Without ``buckets`` (an account's role before any customer adds one), only
    the EC2 statements.
    """
    statements = [
        StatementSpec(
            "BackupBucket", ("s3:GetBucketLocation", "s3:ListBucket"), (ResourceType.BUCKET,)
        ),
        StatementSpec("BackupObjects", ("s3:GetObject",), (ResourceType.OBJECTS,)),
    ]
    if not buckets:
        statements = []
    if not existing_role:
        statements = [
            StatementSpec("Ec2Describe", ("ec2:Describe*",), (ResourceType.ANY,)),
            StatementSpec(
                "Ec2ImportSnapshots",
                ("ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:RegisterImage"),
                (ResourceType.SNAPSHOT, ResourceType.IMAGE),
            ),
            *statements,
        ]
    if kms:
        statements.append(
            StatementSpec("BackupKey", VM_IMPORT_ROLE_KMS_ACTIONS, (ResourceType.KMS_KEY,))
        )
    if ebs_key:
        # "If you use a KMS key other than the default provided by Amazon EBS,
        # you must grant VM Import/Export permission to the KMS key if you
        # enable Amazon EBS encryption by default" (VM Import guide).
        statements.append(
            StatementSpec("EbsKey", VM_IMPORT_ROLE_KMS_ACTIONS, (ResourceType.EBS_KMS_KEY,))
        )
    return statements
