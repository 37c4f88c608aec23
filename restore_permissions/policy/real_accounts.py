"""Restores in accounts set up in common ways, call by call.

A review against AWS's own data found restores that the default workflows do
not describe: EBS encryption by default with a customer managed key, Spot in
an account that never used Spot (the service-linked role), the tags a launch
puts on its network interfaces and Spot request, a bucket with S3 Object Lock,
and subnets shared from another account. Each is a workflow here, with its
source; :mod:`.workflows` adds them to ``WORKFLOWS``, and the tests prove
them with the same evaluator rows and denied twins as the others.
"""

from __future__ import annotations

from .catalogue import ResourceType, Source
from .workflows import (
    _CHOOSE_PLACEMENT,
    _IMPORT_IMAGE,
    _IMPORT_SNAPSHOT,
    _LAUNCH_TOUCHES,
    _SPOT_SERVICE_LINKED_ROLE,
    _VM_IMPORT_READS,
    _VM_IMPORT_REGISTERS,
    Actor,
    Call,
    Needs,
    Tagging,
    Touch,
    Workflow,
    _ec2,
)

_REQUESTED = Tagging.IN_REQUEST
_TAGGED = Tagging.ON_RESOURCE
_ROLE = Actor.VM_IMPORT_ROLE
_EBS_KEY = (Touch(ResourceType.EBS_KMS_KEY),)


def _ebs(action: str, what: str) -> Call:
    """The identity's use of the EBS key, which EBS makes on its behalf (kms:ViaService)."""
    return Call(f"kms:{action}", what, _EBS_KEY, via_service="ec2")


#: The caller's EBS-side key actions for an encrypted volume (EBS encryption
#: guide): the grant EBS holds on the key, then its data-key calls.
_EBS_GRANT = Call(
    "kms:CreateGrant",
    "EBS takes a grant on the EBS key for the encrypted volume",
    _EBS_KEY,
    grant_for_aws_resource=True,
)
#: VM Import/Export encrypts what it imports under the EBS key: "you must
#: grant VM Import/Export permission to the KMS key if you enable Amazon EBS
#: encryption by default" (VM Import guide). The guide does not say which of
#: its KMS actions each step uses; these are the EBS encryption guide's.
_VM_IMPORT_USES_EBS_KEY = (
    Call("kms:DescribeKey", "check the EBS key", _EBS_KEY, _ROLE),
    Call(
        "kms:GenerateDataKeyWithoutPlaintext",
        "encrypt the imported snapshot under the EBS key",
        _EBS_KEY,
        _ROLE,
    ),
    Call("kms:CreateGrant", "let EBS use the EBS key for the snapshot", _EBS_KEY, _ROLE),
    Call("kms:Decrypt", "read the encrypted snapshot back to register it", _EBS_KEY, _ROLE),
)
#: A launch into a subnet that another account shares with this one.
_SHARED_SUBNET_LAUNCH = tuple(
    Touch(t.resource_type, t.tagging, shared=t.resource_type is ResourceType.SUBNET)
    for t in _LAUNCH_TOUCHES
)


def _tag_on_create(resource_type: ResourceType, creator: str, what: str) -> Call:
    return _ec2("CreateTags", what, Touch(resource_type, _REQUESTED), create_action=creator)


REAL_ACCOUNT_WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        name="ebs-default-key-instance",
        title="Restore as an instance where EBS encrypts by default with a customer managed key",
        calls=(
            *_IMPORT_IMAGE[:2],
            *_VM_IMPORT_READS,
            *_VM_IMPORT_USES_EBS_KEY,
            *_VM_IMPORT_REGISTERS,
            _ec2(
                "RunInstances",
                "launch the restored instance; EBS encrypts its volumes under the EBS key",
                *_LAUNCH_TOUCHES,
            ),
            _ebs("DescribeKey", "EBS checks the EBS key"),
            _EBS_GRANT,
            _ebs("GenerateDataKeyWithoutPlaintext", "EBS creates the encrypted volumes"),
            _ebs("Decrypt", "EBS decrypts the volume key as the instance starts"),
            _ec2(
                "StopInstances", "stop it to apply settings", Touch(ResourceType.INSTANCE, _TAGGED)
            ),
            _ec2("StartInstances", "start it again", Touch(ResourceType.INSTANCE, _TAGGED)),
            _EBS_GRANT,
            _ebs("Decrypt", "EBS decrypts the volume key again on start"),
        ),
        sources=(Source.VM_IMPORT_GUIDE, Source.EBS_ENCRYPTION_GUIDE),
        note="With EBS encryption by default under a customer managed key that is not the "
        "bucket's, the import writes its snapshot under that key (the vmimport role needs it, "
        "VM Import guide) and every launch, start and new volume uses it through EBS (the "
        "identity needs it, EBS encryption guide).",
        needs=Needs.EBS_KEY,
    ),
    Workflow(
        name="ebs-default-key-volume",
        title="Restore as an EBS volume where EBS encrypts by default with a customer managed key",
        calls=(
            _IMPORT_SNAPSHOT,
            _tag_on_create(
                ResourceType.IMPORT_SNAPSHOT_TASK, "ImportSnapshot", "tag the import task"
            ),
            *_VM_IMPORT_READS,
            *_VM_IMPORT_USES_EBS_KEY,
            _ec2("DescribeImportSnapshotTasks", "follow the import until the snapshot is ready"),
            _ec2(
                "CreateVolume",
                "create the restored volume from the snapshot, encrypted under the EBS key",
                Touch(ResourceType.VOLUME, _REQUESTED),
                Touch(ResourceType.SNAPSHOT),
            ),
            _tag_on_create(ResourceType.VOLUME, "CreateVolume", "tag the volume as it is created"),
            _ebs("DescribeKey", "EBS checks the EBS key"),
            _EBS_GRANT,
            _ebs("GenerateDataKeyWithoutPlaintext", "EBS creates the encrypted volume"),
            _ebs("ReEncryptFrom", "EBS re-encrypts a snapshot made under another key"),
            _ebs("ReEncryptTo", "EBS re-encrypts a snapshot made under another key"),
            _ec2("DescribeVolumes", "follow the volume until it is available"),
        ),
        sources=(Source.VM_IMPORT_GUIDE, Source.EBS_ENCRYPTION_GUIDE),
        note="The import-snapshot path with EBS encryption by default: the snapshot and the "
        "volume are encrypted under the account's EBS key (EBS encryption guide).",
        needs=Needs.EBS_KEY,
    ),
    Workflow(
        name="spot-run-instances",
        title="Launch the restored AMI as Spot capacity through RunInstances, tagging every part",
        calls=(
            *_CHOOSE_PLACEMENT,
            *_SPOT_SERVICE_LINKED_ROLE,
            _ec2(
                "RunInstances",
                "launch a Spot instance (InstanceMarketOptions), tagging what it creates",
                *_LAUNCH_TOUCHES,
            ),
            _tag_on_create(ResourceType.INSTANCE, "RunInstances", "tag the instance"),
            _tag_on_create(ResourceType.VOLUME, "RunInstances", "tag its volumes"),
            _tag_on_create(
                ResourceType.NETWORK_INTERFACE, "RunInstances", "tag its network interface"
            ),
            _tag_on_create(ResourceType.SPOT_REQUEST, "RunInstances", "tag its Spot request"),
            _ec2("DescribeInstances", "follow the instance until it runs"),
            _ec2(
                "TerminateInstances",
                "remove a failed or trial restore",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
        ),
        sources=(Source.EC2_API_MODEL, Source.EC2_SPOT_GUIDE),
        note="RunInstances' TagSpecifications may tag instances, volumes, network interfaces "
        "and Spot requests (botocore's EC2 model); the Spot service-linked role must exist "
        "before the first Spot launch (EC2 user guide).",
    ),
    Workflow(
        name="shared-vpc-launch",
        title="Launch the restored instance into a subnet shared from another account",
        calls=(
            *_CHOOSE_PLACEMENT,
            _ec2(
                "RunInstances",
                "launch into the shared subnet",
                *_SHARED_SUBNET_LAUNCH,
            ),
            _tag_on_create(ResourceType.INSTANCE, "RunInstances", "tag the instance"),
            _ec2("DescribeInstances", "follow the instance until it runs"),
            _ec2(
                "TerminateInstances",
                "remove a failed or trial restore",
                Touch(ResourceType.INSTANCE, _TAGGED),
            ),
        ),
        sources=(Source.VPC_SHARING_GUIDE,),
        note="A subnet shared through AWS RAM keeps its owner's account in its ARN; the "
        "participant launching into it owns the instance, volumes, network interface and its "
        "own security groups (VPC user guide, share your VPC).",
        needs=Needs.SHARED_SUBNETS,
    ),
    Workflow(
        name="object-lock-backup",
        title="Back up to a bucket with S3 Object Lock, and apply retention",
        calls=(
            Call(
                "s3:GetBucketObjectLockConfiguration",
                "read whether the bucket locks objects, and its default retention",
                (Touch(ResourceType.BUCKET),),
            ),
            Call("s3:PutObject", "upload a backup", (Touch(ResourceType.OBJECTS),)),
            Call(
                "s3:PutObjectRetention",
                "lock a full backup that the GFS retention keeps, until its keeping period ends",
                (Touch(ResourceType.OBJECTS),),
            ),
            Call(
                "s3:ListBucketVersions",
                "list versions of expired data",
                (Touch(ResourceType.BUCKET),),
            ),
            Call(
                "s3:GetObjectRetention",
                "check that the version's lock has expired",
                (Touch(ResourceType.OBJECTS),),
            ),
            Call(
                "s3:DeleteObjectVersion",
                "delete a version whose lock has expired (never bypassing one)",
                (Touch(ResourceType.OBJECTS),),
            ),
        ),
        sources=(Source.MSP360_OBJECT_LOCK, Source.S3_OBJECT_LOCK_GUIDE),
        note="MSP360 locks the full backups its GFS retention selects (Governance mode by "
        "default); a locked version cannot be deleted through the Backup Agent until its "
        "retention ends, so no step sends x-amz-bypass-governance-retention.",
        needs=Needs.OBJECT_LOCK,
        writes_backups=True,
    ),
    Workflow(
        name="object-lock-restore",
        title="Restore from a bucket with S3 Object Lock",
        calls=(
            Call(
                "s3:GetBucketObjectLockConfiguration",
                "read the bucket's Object Lock setting",
                (Touch(ResourceType.BUCKET),),
            ),
            Call(
                "s3:ListBucketVersions", "list the locked versions", (Touch(ResourceType.BUCKET),)
            ),
            Call(
                "s3:GetObjectRetention",
                "show how long the backup stays locked",
                (Touch(ResourceType.OBJECTS),),
            ),
            Call("s3:GetObjectVersion", "read the locked version", (Touch(ResourceType.OBJECTS),)),
        ),
        sources=(Source.MSP360_OBJECT_LOCK, Source.S3_OBJECT_LOCK_GUIDE),
        note="Reading a locked version needs nothing beyond GetObjectVersion; the lock's "
        "state is returned only with GetObjectRetention (S3 user guide, Object Lock).",
        needs=Needs.OBJECT_LOCK,
    ),
)
