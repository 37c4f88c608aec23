"""What a holder of the restore identity's credential must not be able to do.

In user mode the credential is a long-lived access key on the customer's
backup server; in role mode, whatever runs the backup tool. Each
:class:`Attack` is a call, or a short sequence of calls, that such a holder
could try beyond restoring, with the resources and context IAM would see. An
attack succeeds only if every call is allowed on every resource it touches,
so one denied call closes it.

Each row names its source: a published escalation technique (Rhino Security
Labs' "AWS IAM privilege escalation methods", cloudsplaining's and
parliament's checks) or the AWS page that defines the mechanism. Each row also
says what closes it (:class:`Closure`); the tests evaluate every row against
the rendered policies of every profile and option set and require the
evaluator's verdict to match. What stays open by default is listed in the
README with the option that closes it.

Calls reuse :class:`~.workflows.Call` and :class:`~.workflows.Touch`, so the
simulator requests of ``restore-permissions check --attacks`` and the offline
``explain --blast-radius`` are built exactly as for the restore workflows.
Nothing here imports CDK.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .catalogue import ResourceType
from .statements import PolicyOptions, PolicyProfile
from .workflows import Call, Tagging, Touch


class AttackKind(enum.Enum):
    PRIVILEGE_ESCALATION = "privilege escalation"
    DESTRUCTION = "destruction"
    EXFILTRATION = "exfiltration"
    TAMPERING = "tampering"


class Closure(enum.Enum):
    """What denies an attack. An attack with no closure stays open everywhere."""

    #: Every profile, KB 1025 included: nothing grants the call.
    ALWAYS = "every profile"
    #: The least-privilege profile (the default), whatever its options.
    LEAST_PRIVILEGE = "the default profile"
    #: The default profile unless ``object_acl_writes=True``.
    NO_ACL_WRITES = "the default profile without object_acl_writes"
    #: ``instance_tag``: only tagged resources may be controlled or tagged.
    TAG_GUARD = "instance_tag"
    #: ``restore_only=True``: no backup is written, deleted or re-ACLed.
    RESTORE_ONLY = "restore_only=True"
    #: The KB 1025 profile, which does not grant the call at all (and so
    #: cannot serve the restore that needs it either).
    KB1025 = "the KB 1025 profile"

    def active(self, options: PolicyOptions) -> bool:
        least = options.profile is PolicyProfile.LEAST_PRIVILEGE
        return {
            Closure.ALWAYS: True,
            Closure.LEAST_PRIVILEGE: least,
            Closure.NO_ACL_WRITES: least and not options.object_acl_writes,
            Closure.TAG_GUARD: least and options.instance_tag is not None,
            Closure.RESTORE_ONLY: least and options.restore_only,
            Closure.KB1025: not least,
        }[self]


@dataclass(frozen=True)
class Attack:
    name: str
    kind: AttackKind
    title: str
    #: The calls in order; the attack succeeds only if every one is allowed.
    calls: tuple[Call, ...]
    #: A published technique, or the AWS page that defines the mechanism.
    source: str
    #: Any one of these denies it.
    closed_by: tuple[Closure, ...]
    #: For an attack that no option of the default profile closes: why, and what does.
    residual: str = ""

    def expected_denied(self, options: PolicyOptions) -> bool:
        return any(closure.active(options) for closure in self.closed_by)


_RHINO = "Rhino Security Labs, AWS IAM privilege escalation methods"
_CLOUDSPLAINING_USERDATA = "cloudsplaining, ModifyEC2InstanceUserDataThenRestart"
_SAR_EC2 = "Service Authorization Reference, Amazon EC2 (ec2:InstanceProfile on instance)"
_PARLIAMENT_PERMISSIONS = "parliament, PERMISSIONS_MANAGEMENT_ACTIONS"
_S3_ACL = "Amazon S3 user guide, access control lists (PutObjectAcl)"
_KMS_VIA = "AWS KMS developer guide, kms:ViaService"
_KMS_GRANT = "AWS KMS developer guide, kms:GrantIsForAWSResource"
_EC2_SHARE = "Amazon EC2 user guide, sharing AMIs and snapshots"
_TAG_ABAC = "IAM user guide, attribute-based access control with tags"

#: The restore's own instances have no instance profile and, with the tag
#: guard, carry the tag; these are someone else's.
_WITH_ROLE = Touch(ResourceType.INSTANCE, with_instance_profile=True)
_NO_ROLE = Touch(ResourceType.INSTANCE)
_OTHER_BUCKET = Touch(ResourceType.BUCKET, outside_arn="arn:{partition}:s3:::payroll-exports")
_OTHER_OBJECTS = Touch(
    ResourceType.OBJECTS, outside_arn="arn:{partition}:s3:::payroll-exports/2026/ledger.csv"
)
_IAM_ROLE = Touch(ResourceType.ANY, outside_arn="arn:{partition}:iam::{account}:role/AppServer")
_IAM_USER = Touch(ResourceType.ANY, outside_arn="arn:{partition}:iam::{account}:user/admin")
_IAM_POLICY = Touch(
    ResourceType.ANY, outside_arn="arn:{partition}:iam::{account}:policy/RestorePermissions"
)
_VM_IMPORT = Touch(ResourceType.ANY, outside_arn="arn:{partition}:iam::{account}:role/vmimport")
#: What an attacker's own launch creates and uses. The holder writes the
#: request, so with the tag guard it carries the tag like a restore's would.
_LAUNCH = (
    Touch(ResourceType.INSTANCE, Tagging.IN_REQUEST),
    Touch(ResourceType.IMAGE),
    Touch(ResourceType.SUBNET),
    Touch(ResourceType.SECURITY_GROUP),
    Touch(ResourceType.NETWORK_INTERFACE),
    Touch(ResourceType.VOLUME),
)
_KEY = Touch(ResourceType.KMS_KEY)
_OBJECTS = Touch(ResourceType.OBJECTS)
_BUCKET = Touch(ResourceType.BUCKET)


def _ec2(action: str, what: str, *touches: Touch, **kwargs: object) -> Call:
    return Call(f"ec2:{action}", what, touches, **kwargs)  # type: ignore[arg-type]


def _call(action: str, what: str, *touches: Touch, **kwargs: object) -> Call:
    return Call(action, what, touches, **kwargs)  # type: ignore[arg-type]


_ESCALATION = AttackKind.PRIVILEGE_ESCALATION
_DESTRUCTION = AttackKind.DESTRUCTION
_EXFILTRATION = AttackKind.EXFILTRATION
_TAMPERING = AttackKind.TAMPERING
_LP = (Closure.LEAST_PRIVILEGE,)
_ALWAYS = (Closure.ALWAYS,)

_FOREIGN_IMAGE_RESIDUAL = (
    "No IAM condition tells an AMI or snapshot that VM Import/Export produced from any other "
    "private one of the account: the import tags only its task. Keep restores in an account "
    "(or, with allowed_regions, a Region) that holds no other private AMIs or snapshots, or "
    "deny the calls on them with an SCP."
)

ATTACKS: tuple[Attack, ...] = (
    # Privilege escalation
    Attack(
        "userdata-then-restart",
        _ESCALATION,
        "Replace the userData of an instance with a role, then restart it",
        (
            _ec2("StopInstances", "stop the instance", _WITH_ROLE),
            _ec2("ModifyInstanceAttribute", "set userData that runs as its role", _WITH_ROLE),
            _ec2("StartInstances", "start it: the code runs as the role", _WITH_ROLE),
        ),
        _CLOUDSPLAINING_USERDATA,
        _LP,
    ),
    Attack(
        "launch-with-instance-profile",
        _ESCALATION,
        "Launch an instance with an instance profile",
        (
            _ec2("RunInstances", "launch with the AppServer profile", *_LAUNCH),
            _call("iam:PassRole", "pass the profile's role to EC2", _IAM_ROLE),
        ),
        _RHINO + " (iam:PassRole with ec2:RunInstances)",
        _ALWAYS,
    ),
    Attack(
        "associate-instance-profile",
        _ESCALATION,
        "Give a running instance a role",
        (
            _ec2("AssociateIamInstanceProfile", "attach a profile", _NO_ROLE),
            _call("iam:PassRole", "pass its role to EC2", _IAM_ROLE),
        ),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "replace-instance-profile",
        _ESCALATION,
        "Swap an instance's role for a stronger one",
        (
            _ec2("ReplaceIamInstanceProfileAssociation", "replace the profile", _WITH_ROLE),
            _call("iam:PassRole", "pass the new role to EC2", _IAM_ROLE),
        ),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "kms-grant-to-a-principal",
        _ESCALATION,
        "Grant another principal the backup key (a grant not for an AWS resource)",
        (_call("kms:CreateGrant", "create a grant for an outside principal", _KEY),),
        _KMS_GRANT,
        _ALWAYS,
    ),
    Attack(
        "attach-admin-policy-to-self",
        _ESCALATION,
        "Attach AdministratorAccess to a user",
        (_call("iam:AttachUserPolicy", "attach the policy", _IAM_USER),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "new-policy-version",
        _ESCALATION,
        "Rewrite the identity's own managed policy",
        (_call("iam:CreatePolicyVersion", "add a default version", _IAM_POLICY),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "access-key-for-another-user",
        _ESCALATION,
        "Create an access key for another user",
        (_call("iam:CreateAccessKey", "create the key", _IAM_USER),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "widen-vmimport-role",
        _ESCALATION,
        "Add a policy to the vmimport role",
        (_call("iam:PutRolePolicy", "put an inline policy", _VM_IMPORT),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "trust-vmimport-role",
        _ESCALATION,
        "Let the holder assume the vmimport role",
        (
            _call("iam:UpdateAssumeRolePolicy", "trust the holder", _VM_IMPORT),
            _call("sts:AssumeRole", "assume it", _VM_IMPORT),
        ),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "run-command-on-instance-with-role",
        _ESCALATION,
        "Run a command on an instance with a role (Systems Manager)",
        (_call("ssm:SendCommand", "send a shell command", _WITH_ROLE),),
        _RHINO + " (ssm:SendCommand)",
        _ALWAYS,
    ),
    # Destruction
    Attack(
        "stop-instance-with-role",
        _DESTRUCTION,
        "Stop an instance with a role",
        (_ec2("StopInstances", "stop it", _WITH_ROLE),),
        _SAR_EC2,
        _LP,
    ),
    Attack(
        "terminate-instance-with-role",
        _DESTRUCTION,
        "Terminate an instance with a role",
        (_ec2("TerminateInstances", "terminate it", _WITH_ROLE),),
        _SAR_EC2,
        _LP,
    ),
    Attack(
        "resize-instance-with-role",
        _DESTRUCTION,
        "Change an attribute of an instance with a role",
        (_ec2("ModifyInstanceAttribute", "change its type", _WITH_ROLE),),
        _SAR_EC2,
        _LP,
    ),
    Attack(
        "terminate-unlaunched-instance",
        _DESTRUCTION,
        "Terminate an instance without a role that the restore did not launch",
        (_ec2("TerminateInstances", "terminate it", _NO_ROLE),),
        _SAR_EC2,
        (Closure.TAG_GUARD,),
    ),
    Attack(
        "stop-unlaunched-instance",
        _DESTRUCTION,
        "Stop an instance without a role that the restore did not launch",
        (_ec2("StopInstances", "stop it", _NO_ROLE),),
        _SAR_EC2,
        (Closure.TAG_GUARD,),
    ),
    Attack(
        "delete-snapshot",
        _DESTRUCTION,
        "Delete a snapshot",
        (_ec2("DeleteSnapshot", "delete it", Touch(ResourceType.SNAPSHOT)),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "deregister-ami",
        _DESTRUCTION,
        "Deregister an AMI",
        (_ec2("DeregisterImage", "deregister it", Touch(ResourceType.IMAGE)),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "delete-volume",
        _DESTRUCTION,
        "Delete a volume",
        (_ec2("DeleteVolume", "delete it", Touch(ResourceType.VOLUME)),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "delete-backups",
        _DESTRUCTION,
        "Delete the backups",
        (_call("s3:DeleteObject", "delete a backup object", _OBJECTS),),
        "Amazon S3 user guide, deleting objects",
        (Closure.RESTORE_ONLY,),
    ),
    Attack(
        "delete-backup-versions",
        _DESTRUCTION,
        "Delete the backups' older versions",
        (_call("s3:DeleteObjectVersion", "delete a version", _OBJECTS),),
        "Amazon S3 user guide, deleting object versions",
        (Closure.RESTORE_ONLY,),
    ),
    Attack(
        "overwrite-backups",
        _DESTRUCTION,
        "Overwrite the backups",
        (_call("s3:PutObject", "write over a backup object", _OBJECTS),),
        "Amazon S3 user guide, uploading objects",
        (Closure.RESTORE_ONLY,),
    ),
    Attack(
        "weaken-object-lock",
        _DESTRUCTION,
        "Change the bucket's default Object Lock retention",
        (_call("s3:PutBucketObjectLockConfiguration", "shorten the retention", _BUCKET),),
        "Amazon S3 user guide, Object Lock",
        (Closure.RESTORE_ONLY,),
    ),
    Attack(
        "bypass-governance-retention",
        _DESTRUCTION,
        "Delete a locked version by bypassing governance retention",
        (
            _call("s3:BypassGovernanceRetention", "bypass the lock", _OBJECTS),
            _call("s3:DeleteObjectVersion", "delete the locked version", _OBJECTS),
        ),
        "Amazon S3 user guide, Object Lock (governance mode)",
        _LP,
    ),
    Attack(
        "delete-bucket",
        _DESTRUCTION,
        "Delete the backup bucket",
        (_call("s3:DeleteBucket", "delete it", _BUCKET),),
        "Amazon S3 user guide, deleting a bucket",
        _LP,
    ),
    Attack(
        "expire-backups-by-lifecycle",
        _DESTRUCTION,
        "Expire every backup with a lifecycle rule",
        (_call("s3:PutLifecycleConfiguration", "add an expiry rule", _BUCKET),),
        "Amazon S3 user guide, lifecycle configuration",
        _LP,
    ),
    # Exfiltration
    Attack(
        "launch-from-foreign-ami",
        _EXFILTRATION,
        "Launch an instance from a private AMI that the restore did not produce",
        (_ec2("RunInstances", "launch it, with userData that copies the disk out", *_LAUNCH),),
        _RHINO + " (data access through a launched instance)",
        (),
        _FOREIGN_IMAGE_RESIDUAL,
    ),
    Attack(
        "volume-from-foreign-snapshot",
        _EXFILTRATION,
        "Create a volume from a snapshot that the restore did not produce",
        (
            _ec2(
                "CreateVolume",
                "make a volume of it",
                Touch(ResourceType.VOLUME, Tagging.IN_REQUEST),
                Touch(ResourceType.SNAPSHOT),
            ),
        ),
        "Amazon EBS user guide, creating a volume from a snapshot",
        (Closure.KB1025,),
        _FOREIGN_IMAGE_RESIDUAL,
    ),
    Attack(
        "share-ami",
        _EXFILTRATION,
        "Share an AMI with another account",
        (_ec2("ModifyImageAttribute", "add a launch permission", Touch(ResourceType.IMAGE)),),
        _EC2_SHARE,
        _ALWAYS,
    ),
    Attack(
        "share-snapshot",
        _EXFILTRATION,
        "Share a snapshot with another account",
        (
            _ec2(
                "ModifySnapshotAttribute",
                "add a create-volume permission",
                Touch(ResourceType.SNAPSHOT),
            ),
        ),
        _EC2_SHARE,
        _ALWAYS,
    ),
    Attack(
        "copy-instance-disk",
        _EXFILTRATION,
        "Make an AMI of a running instance",
        (_ec2("CreateImage", "image the instance", _WITH_ROLE, Touch(ResourceType.IMAGE)),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "export-image",
        _EXFILTRATION,
        "Export an AMI to a bucket",
        (_ec2("ExportImage", "export it", Touch(ResourceType.IMAGE)),),
        "VM Import/Export user guide, exporting an AMI",
        _ALWAYS,
    ),
    Attack(
        "read-console-output",
        _EXFILTRATION,
        "Read an instance's console output",
        (_ec2("GetConsoleOutput", "read it", _WITH_ROLE),),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "read-another-bucket",
        _EXFILTRATION,
        "Read objects of another bucket",
        (
            _call("s3:ListBucket", "list it", _OTHER_BUCKET),
            _call("s3:GetObject", "read an object", _OTHER_OBJECTS),
        ),
        "Amazon S3 user guide, bucket policies and user policies",
        _ALWAYS,
    ),
    Attack(
        "make-backups-public",
        _EXFILTRATION,
        "Make the backup bucket public with a bucket policy",
        (_call("s3:PutBucketPolicy", "allow everyone", _BUCKET),),
        "Amazon S3 user guide, blocking public access",
        _LP,
    ),
    Attack(
        "decrypt-outside-s3-and-ebs",
        _EXFILTRATION,
        "Decrypt with the backup key directly, not through S3 or EBS",
        (_call("kms:Decrypt", "decrypt a stolen ciphertext", _KEY),),
        _KMS_VIA,
        _ALWAYS,
    ),
    # Tampering
    Attack(
        "tag-instance-with-role",
        _TAMPERING,
        "Tag an instance with a role (tag-based access control elsewhere)",
        (_ec2("CreateTags", "set an access-control tag", _WITH_ROLE, tag_key="team"),),
        _TAG_ABAC,
        _LP,
    ),
    Attack(
        "tag-unlaunched-instance",
        _TAMPERING,
        "Tag an instance without a role that the restore did not launch",
        (_ec2("CreateTags", "set an access-control tag", _NO_ROLE, tag_key="team"),),
        _TAG_ABAC,
        (Closure.TAG_GUARD,),
    ),
    Attack(
        "tag-existing-volume",
        _TAMPERING,
        "Tag an existing volume",
        (_ec2("CreateTags", "set a tag", Touch(ResourceType.VOLUME), tag_key="team"),),
        _TAG_ABAC,
        _LP,
    ),
    Attack(
        "tag-existing-snapshot",
        _TAMPERING,
        "Tag an existing snapshot",
        (_ec2("CreateTags", "set a tag", Touch(ResourceType.SNAPSHOT), tag_key="team"),),
        _TAG_ABAC,
        _LP,
    ),
    Attack(
        "tag-ami-for-access-control",
        _TAMPERING,
        "Set an access-control tag on an AMI",
        (_ec2("CreateTags", "set a tag", Touch(ResourceType.IMAGE), tag_key="team"),),
        _TAG_ABAC,
        _LP,
    ),
    Attack(
        "rename-foreign-ami",
        _TAMPERING,
        "Rename an AMI that the restore did not produce",
        (_ec2("CreateTags", "set its Name tag", Touch(ResourceType.IMAGE), tag_key="Name"),),
        _TAG_ABAC,
        (Closure.TAG_GUARD,),
    ),
    Attack(
        "untag-resource",
        _TAMPERING,
        "Remove the tags of an instance",
        (_ec2("DeleteTags", "remove its tags", _WITH_ROLE),),
        _TAG_ABAC,
        _ALWAYS,
    ),
    Attack(
        "userdata-on-unlaunched-instance",
        _TAMPERING,
        "Replace the userData of an instance without a role that the restore did not launch",
        (
            _ec2("StopInstances", "stop it", _NO_ROLE),
            _ec2("ModifyInstanceAttribute", "set new userData", _NO_ROLE),
            _ec2("StartInstances", "start it", _NO_ROLE),
        ),
        _CLOUDSPLAINING_USERDATA,
        (Closure.TAG_GUARD,),
    ),
    Attack(
        "open-security-group",
        _TAMPERING,
        "Open a security group to the internet",
        (
            _ec2(
                "AuthorizeSecurityGroupIngress",
                "allow 0.0.0.0/0",
                Touch(ResourceType.SECURITY_GROUP),
            ),
        ),
        _RHINO,
        _ALWAYS,
    ),
    Attack(
        "object-acl-write",
        _TAMPERING,
        "Change a backup object's ACL",
        (_call("s3:PutObjectAcl", "grant public-read", _OBJECTS),),
        _PARLIAMENT_PERMISSIONS + "; " + _S3_ACL,
        (Closure.NO_ACL_WRITES,),
    ),
    Attack(
        "object-version-acl-write",
        _TAMPERING,
        "Change the ACL of a backup object's version",
        (_call("s3:PutObjectVersionAcl", "grant public-read", _OBJECTS),),
        _PARLIAMENT_PERMISSIONS + "; " + _S3_ACL,
        (Closure.NO_ACL_WRITES,),
    ),
    # Accounts set up in common ways (policy/real_accounts.py).
    Attack(
        "service-linked-role-for-another-service",
        _ESCALATION,
        "Create another service's service-linked role (the Spot one is granted)",
        (
            _call(
                "iam:CreateServiceLinkedRole",
                "create EMR's service-linked role",
                Touch(
                    ResourceType.ANY,
                    outside_arn="arn:{partition}:iam::{account}:role/aws-service-role/"
                    "elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup",
                ),
                aws_service_name="elasticmapreduce.amazonaws.com",
            ),
        ),
        _RHINO + "; IAM user guide, iam:AWSServiceName",
        _ALWAYS,
    ),
)


def attack(name: str) -> Attack:
    """The attack called ``name`` (ValueError naming the known ones otherwise)."""
    for candidate in ATTACKS:
        if candidate.name == name:
            return candidate
    known = ", ".join(a.name for a in ATTACKS)
    raise ValueError(f"attack {name!r} is unknown: use one of {known}")
