"""The analyzers' findings on the rendered policies that are accepted, each once, with its reason.

tests/test_analyzers.py runs cloudsplaining and parliament on every policy the
product renders. It fails on a finding that is not listed here, and on an entry
here that no longer occurs. A subject is "Sid: action as the statement grants
it", a privilege-escalation method or a service prefix. Each reason names what
a reviewer can check: the statement, its resources and conditions, and the test
that shows what IAM allows (tests/test_attacks.py runs the attack rows of
restore_permissions/policy/attacks.py against every option set).
"""

from __future__ import annotations

from typing import NamedTuple

CLOUDSPLAINING = "cloudsplaining"
#: cloudsplaining with ``--flag-all-risky-actions --high-priority-only``: the
#: risks that an ARN or a condition scopes, which its default scan does not judge.
CLOUDSPLAINING_ALL_RISKY = "cloudsplaining --flag-all-risky-actions"
PARLIAMENT = "parliament"
ANALYZERS = (CLOUDSPLAINING, CLOUDSPLAINING_ALL_RISKY, PARLIAMENT)


class Finding(NamedTuple):
    analyzer: str
    #: cloudsplaining's risk type or parliament's issue.
    issue: str
    #: "Sid: action as granted", a privilege-escalation method or a service prefix.
    subject: str


class Accepted(NamedTuple):
    finding: Finding
    reason: str


def _cs(issue: str, subject: str, reason: str) -> Accepted:
    return Accepted(Finding(CLOUDSPLAINING, issue, subject), reason)


def _cs_all(issue: str, subject: str, reason: str) -> Accepted:
    return Accepted(Finding(CLOUDSPLAINING_ALL_RISKY, issue, subject), reason)


def _pa(issue: str, subject: str, reason: str) -> Accepted:
    return Accepted(Finding(PARLIAMENT, issue, subject), reason)


KB1025 = (
    "PolicyProfile.KB1025 grants what MSP360's KB 1025 article grants (invalid names "
    "corrected, S3 scoped to the bucket), for users who must match the vendor's page. It is "
    "opt-in; LEAST_PRIVILEGE, the default, has no such grant. "
)
KB1025_EC2 = KB1025 + "The article grants its EC2 actions on Resource *, and the profile keeps it."
#: cloudsplaining's default scan skips a statement with any condition.
KB1025_EC2_UNSCOPED = (
    KB1025_EC2 + " With allowed_regions the statement gets an aws:RequestedRegion condition, "
    "so the kb1025-one-region and kb1025-two-regions-kms policies are judged by the second run."
)
#: The write actions KB 1025 grants on Resource *.
KB1025_EC2_WRITES = (
    "CancelImportTask",
    "CreateTags",
    "ImportImage",
    "ImportInstance",
    "ImportVolume",
    "ModifyInstanceAttribute",
    "MonitorInstances",
    "RequestSpotInstances",
    "RunInstances",
    "StartInstances",
    "StopInstances",
    "TerminateInstances",
)
VM_IMPORT_ROLE = (
    "The AWS VM Import/Export guide's policy for the vmimport service role. Only the VM "
    "Import service can assume the role (trust: sts:ExternalId vmimport, aws:SourceAccount, "
    "aws:SourceArn), and the restore identity has no iam:PassRole or sts:AssumeRole on it. "
)
ACL_WRITES = (
    "Only with object_acl_writes=True (BackupObjectAcls), for a backup tool that sets object "
    "ACLs on a bucket that still uses them (MSP360's granular S3 policy); an ACL can make a "
    "backup readable by another account or the public. The default has no ACL write: the "
    "object-acl-write and object-version-acl-write attack rows are denied unless the option "
    "is set (tests/test_attacks.py)."
)
KEY_GRANTS = (
    "On the backup key only, and only with kms:GrantIsForAWSResource true, as the EBS "
    "encryption guide recommends and AWS Backup's restore policy does: a grant goes to EBS for "
    "the restored volumes, never to a principal the holder chooses (attack row "
    "kms-grant-to-a-principal, denied in every profile)."
)
EBS_KEY_GRANTS = (
    "On the account's EBS encryption key (ebs_encryption_key) only, and only with "
    "kms:GrantIsForAWSResource true, as for the backup key (EBS encryption guide): a grant "
    "goes to EBS for the restored volumes, never to a principal the holder chooses "
    "(tests/test_real_accounts.py: test_grants_on_the_ebs_key_only_for_aws_resources)."
)
SPOT_SERVICE_LINKED_ROLE = (
    "Only the AWSServiceRoleForEC2Spot role's own ARN, and only with iam:AWSServiceName = "
    "spot.amazonaws.com: the EC2 user guide requires the role before a first Spot request "
    "through the API. A service-linked role's trust and policy are AWS's, not the "
    "creator's; any other service's role is denied (tests/test_real_accounts.py: "
    "test_no_other_services_role_can_be_created)."
)
GET_OBJECT = (
    "Reading the backups is the restore (MSP360's granular S3 policy for the identity, the VM "
    "Import guide for the vmimport role). The statement's Resource is the backup bucket's "
    "objects only; the evidence table's s3:GetObject on another bucket and the "
    "read-another-bucket attack row are denied."
)
#: parliament wants each action's required resource types in the same statement.
SPLIT_RESOURCE_TYPES = (
    "parliament's RESOURCE_MISMATCH asks for every required resource type of an action in the "
    "same statement. IAM authorizes each resource of a request on its own, and the tag guard "
    "splits an action's resource types over statements with different conditions "
    "(EC2_ACTION_RESOURCE_TYPES in policy/catalogue.py). test_analyzers.py checks that another "
    "statement of the same policy grants the action on each type reported missing, and the "
    "workflow matrix shows every call allowed on every resource it touches. "
)
S3_WILDCARD_MISMATCH = (
    KB1025 + "s3:* expands to actions on resource types this statement's ARN does not name "
    "(access points, jobs, Storage Lens, and the bucket or object level it is not); such an "
    "action grants nothing here."
)

ACCEPTED: tuple[Accepted, ...] = (
    # cloudsplaining's default scan: statements on Resource * without a condition.
    _cs(
        "CredentialsExposure",
        "Kb1025Federation: sts:GetFederationToken",
        KB1025 + "The article grants sts:GetFederationToken for MSP360 Managed Backup Service "
        "agents; a federation token never has more than the caller's permissions (STS "
        "GetFederationToken reference). LEAST_PRIVILEGE grants it only with federation=True.",
    ),
    *(
        _cs("InfrastructureModification", f"Kb1025Ec2: ec2:{action}", KB1025_EC2_UNSCOPED)
        for action in KB1025_EC2_WRITES
    ),
    _cs(
        "InfrastructureModification",
        "Kb1025Email: ses:*",
        KB1025 + "The article grants ses:* on *. LEAST_PRIVILEGE grants only ses:SendEmail and "
        "ses:SendRawEmail, and only with email_notifications=True.",
    ),
    _cs(
        "PrivilegeEscalation",
        "ModifyEC2InstanceUserDataThenRestart",
        KB1025_EC2_UNSCOPED + " A real escalation: the holder can change any instance's "
        "userData and restart it, running code as that instance's role. This is why KB1025 is "
        "not the default (the README's blast-radius section).",
    ),
    _cs(
        "ResourceExposure",
        "Kb1025Email: ses:*",
        KB1025 + "ses:* includes the SES identity-policy writes (CreateEmailIdentityPolicy and "
        "others), which let another account send as the account's verified identities.",
    ),
    _cs(
        "ServiceWildcard",
        "s3",
        KB1025 + "The article grants s3:*; the profile scopes it to the backup bucket and its "
        "objects (Kb1025Bucket, Kb1025Objects).",
    ),
    _cs("ServiceWildcard", "ses", KB1025 + "The article grants ses:* on *."),
    # cloudsplaining --flag-all-risky-actions: risky actions that an ARN or a condition scopes.
    _cs_all(
        "CredentialsExposure",
        "Federation: sts:GetFederationToken",
        "Only with federation=True, for MSP360 Managed Backup Service agents, and only on the "
        "account's federated-user ARNs. A federation token's permissions are the intersection "
        "of the caller's policies and the session policy (STS GetFederationToken reference), so "
        "it widens nothing.",
    ),
    _cs_all("DataExfiltration", "BackupObjects: s3:GetObject", GET_OBJECT),
    _cs_all(
        "DataExfiltration",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* includes s3:GetObject; the statement's Resource is the backup bucket.",
    ),
    _cs_all(
        "DataExfiltration",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* includes s3:GetObject; the statement's Resource is the backup bucket's "
        "objects.",
    ),
    _cs_all(
        "PrivilegeEscalation",
        "ModifyEC2InstanceUserDataThenRestart",
        "LEAST_PRIVILEGE grants ModifyInstanceAttribute, StopInstances and StartInstances "
        "(Ec2ManageInstances; with instance_tag, Ec2ManageTagged) only with Null "
        "ec2:InstanceProfile true: only on instances without a role, whose code runs with no "
        "role. The userdata-then-restart attack row is denied for every LEAST_PRIVILEGE option "
        "set (tests/test_attacks.py); userData on an instance without a role stays possible "
        "unless instance_tag is set (attack row userdata-on-unlaunched-instance). The second "
        "run also reports KB1025 with allowed_regions, whose only condition is the Region: "
        "there it is the real escalation described in the default scan's entry.",
    ),
    _cs_all("ResourceExposure", "BackupKey: kms:CreateGrant", VM_IMPORT_ROLE + "On the key."),
    _cs_all("ResourceExposure", "BackupKeyGrants: kms:CreateGrant", KEY_GRANTS),
    _cs_all("ResourceExposure", "EbsKeyGrants: kms:CreateGrant", EBS_KEY_GRANTS),
    _cs_all(
        "ResourceExposure",
        "SpotServiceLinkedRole: iam:CreateServiceLinkedRole",
        SPOT_SERVICE_LINKED_ROLE,
    ),
    _cs_all("ResourceExposure", "BackupObjectAcls: s3:PutObjectAcl", ACL_WRITES),
    _cs_all("ResourceExposure", "BackupObjectAcls: s3:PutObjectVersionAcl", ACL_WRITES),
    _cs_all(
        "ResourceExposure",
        "Ec2ImportSnapshots: ec2:ModifySnapshotAttribute",
        VM_IMPORT_ROLE + "VM Import shares the snapshot it makes; the guide grants it on *, "
        "this role on snapshot ARNs only.",
    ),
    _cs_all(
        "ResourceExposure",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* includes the bucket policy and ACL writes; the statement's Resource is "
        "the backup bucket.",
    ),
    _cs_all(
        "ResourceExposure",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* includes the object ACL writes; the statement's Resource is the backup "
        "bucket's objects.",
    ),
    # parliament, with its community auditors.
    _pa(
        "CREDENTIALS_EXPOSURE",
        "Kb1025Federation: sts:GetFederationToken",
        KB1025 + "A federation token never has more than the caller's permissions (STS "
        "GetFederationToken reference).",
    ),
    _pa("PERMISSIONS_MANAGEMENT_ACTIONS", "BackupKey: kms:CreateGrant", VM_IMPORT_ROLE),
    _pa("PERMISSIONS_MANAGEMENT_ACTIONS", "BackupKeyGrants: kms:CreateGrant", KEY_GRANTS),
    _pa("PERMISSIONS_MANAGEMENT_ACTIONS", "EbsKeyGrants: kms:CreateGrant", EBS_KEY_GRANTS),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "SpotServiceLinkedRole: iam:CreateServiceLinkedRole",
        SPOT_SERVICE_LINKED_ROLE,
    ),
    _pa("PERMISSIONS_MANAGEMENT_ACTIONS", "BackupObjectAcls: s3:PutObjectAcl", ACL_WRITES),
    _pa("PERMISSIONS_MANAGEMENT_ACTIONS", "BackupObjectAcls: s3:PutObjectVersionAcl", ACL_WRITES),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "Ec2ImportSnapshots: ec2:ModifySnapshotAttribute",
        VM_IMPORT_ROLE + "VM Import shares the snapshot it makes.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* includes the bucket policy and ACL writes, on the backup bucket only.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* includes the object ACL writes, on the backup bucket's objects only.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2CreateTagged: ec2:ImportImage",
        SPLIT_RESOURCE_TYPES + "The image type is in Ec2UseResources.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2CreateTagged: ec2:ImportSnapshot",
        SPLIT_RESOURCE_TYPES + "The snapshot type is in Ec2UseResources.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2CreateTagged: ec2:RunInstances",
        SPLIT_RESOURCE_TYPES + "The image, network-interface, security-group and subnet types "
        "are in Ec2UseResources.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ImportImage",
        SPLIT_RESOURCE_TYPES + "The import-image-task type is in Ec2CreateTagged, under the "
        "request tag.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ImportSnapshot",
        SPLIT_RESOURCE_TYPES + "The import-snapshot-task type is in Ec2CreateTagged, under the "
        "request tag.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ModifyInstanceAttribute",
        SPLIT_RESOURCE_TYPES + "The instance type is in Ec2ManageTagged, under the resource tag "
        "and Null ec2:InstanceProfile.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:RunInstances",
        SPLIT_RESOURCE_TYPES + "The instance type is in Ec2CreateTagged, under the request tag.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2VolumeSource: ec2:CreateVolume",
        SPLIT_RESOURCE_TYPES + "The volume type is in Ec2CreateTagged, under the request tag.",
    ),
    _pa("RESOURCE_MISMATCH", "Kb1025Bucket: s3:*", S3_WILDCARD_MISMATCH),
    _pa("RESOURCE_MISMATCH", "Kb1025Objects: s3:*", S3_WILDCARD_MISMATCH),
    _pa(
        "RESOURCE_STAR",
        "Ec2Describe: ec2:Describe*",
        VM_IMPORT_ROLE + "The guide grants ec2:Describe* on *; the Describe actions parliament "
        "names take ARNs, but they only read.",
    ),
    *(
        _pa("RESOURCE_STAR", f"Kb1025Ec2: ec2:{action}", KB1025_EC2)
        for action in KB1025_EC2_WRITES
        # parliament's RESOURCE_STAR names only actions with a required resource type.
        if action not in ("CancelImportTask", "CreateTags")
    ),
    _pa("RESOURCE_STAR", "Kb1025Email: ses:*", KB1025 + "The article grants ses:* on *."),
)
