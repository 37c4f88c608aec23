"""The analyzers' findings on the rendered policies that are accepted, each once, with its reason.

tests/test_analyzers.py runs cloudsplaining and parliament on every policy the
product renders and fails on a finding that is not listed here, and on an
entry here that no longer occurs. A subject is "Sid: action as the statement
grants it", a privilege-escalation method or a service prefix. The reasons
name what a reviewer can check: the statement, its resources and conditions,
and the test that shows what IAM allows.
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


#: KB1025 is opt-in: the vendor's policy as published, for comparison.
KB1025 = (
    "PolicyProfile.KB1025 grants what MSP360's KB 1025 article grants (invalid names corrected, "
    "S3 scoped to the bucket), for users who must match the vendor's page; it is opt-in, and "
    "LEAST_PRIVILEGE, the default, has no such finding. "
)
KB1025_EC2 = (
    KB1025 + "The article grants its EC2 actions on Resource *, and the profile keeps that; "
    "with allowed_regions an aws:RequestedRegion condition is added, which is why the "
    "kb1025-one-region and kb1025-two-regions-kms policies are not flagged."
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
#: parliament wants each action's required resource types in the same statement.
SPLIT_RESOURCE_TYPES = (
    "parliament's RESOURCE_MISMATCH asks for every required resource type of an action in the "
    "same statement. IAM authorizes each resource of a request on its own, and the tag guard "
    "splits an action's resource types over statements with different conditions "
    "(EC2_ACTION_RESOURCE_TYPES in policy/catalogue.py); test_analyzers.py checks that another "
    "statement of the same policy grants the action on each type reported missing, and the "
    "workflow matrix shows every call allowed on every resource it touches. "
)

ACCEPTED: tuple[Accepted, ...] = (
    # cloudsplaining, default scan: statements on Resource * without a condition.
    _cs(
        "CredentialsExposure",
        "Kb1025Federation: sts:GetFederationToken",
        KB1025 + "The "
        "article grants sts:GetFederationToken for MSP360 Managed Backup Service agents; a "
        "federation token never has more than the caller's own permissions (STS "
        "GetFederationToken reference), and LEAST_PRIVILEGE grants it only with federation=True, "
        "on the account's federated-user ARNs.",
    ),
    *(
        _cs("InfrastructureModification", f"Kb1025Ec2: ec2:{action}", KB1025_EC2)
        for action in KB1025_EC2_WRITES
    ),
    _cs(
        "InfrastructureModification",
        "Kb1025Email: ses:*",
        KB1025 + "The article grants "
        "ses:* on *; LEAST_PRIVILEGE grants ses:SendEmail and ses:SendRawEmail only, and only "
        "with email_notifications=True.",
    ),
    _cs(
        "PrivilegeEscalation",
        "ModifyEC2InstanceUserDataThenRestart",
        KB1025_EC2 + " A real "
        "escalation: the holder can change any instance's userData and restart it to run code "
        "with that instance's role; this is why KB1025 is not the default.",
    ),
    _cs(
        "ResourceExposure",
        "Kb1025Email: ses:*",
        KB1025 + "ses:* includes the SES identity "
        "policy writes (CreateEmailIdentityPolicy and others), which let another account send "
        "as the account's verified identities.",
    ),
    _cs(
        "ServiceWildcard",
        "s3",
        KB1025 + "The article grants s3:*; the profile scopes it to "
        "the backup bucket and its objects (Kb1025Bucket, Kb1025Objects).",
    ),
    _cs("ServiceWildcard", "ses", KB1025 + "The article grants ses:* on *."),
    # cloudsplaining --flag-all-risky-actions: risky actions that an ARN or a condition scopes.
    _cs_all(
        "CredentialsExposure",
        "Federation: sts:GetFederationToken",
        "Opt-in "
        "(federation=True) for MSP360 Managed Backup Service agents, on "
        "arn:PARTITION:sts::ACCOUNT:federated-user/* only; the token's permissions are the "
        "intersection of the caller's policies and the session policy (STS GetFederationToken "
        "reference), so it widens nothing.",
    ),
    _cs_all(
        "DataExfiltration",
        "BackupObjects: s3:GetObject",
        "Reading the backups is the "
        "restore (MSP360's granular S3 policy); the statement's Resource is the backup "
        "bucket's objects only, and the evidence table shows s3:GetObject on another bucket "
        "denied.",
    ),
    _cs_all(
        "DataExfiltration",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* includes s3:GetObject; the statement's Resource is the backup bucket only.",
    ),
    _cs_all(
        "DataExfiltration",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* includes s3:GetObject; "
        "the statement's Resource is the backup bucket's objects only.",
    ),
    _cs_all(
        "PrivilegeEscalation",
        "ModifyEC2InstanceUserDataThenRestart",
        "A real escalation "
        "path in LEAST_PRIVILEGE as of now: Ec2ManageInstances grants ModifyInstanceAttribute, "
        "StopInstances and StartInstances on every instance of the account (with instance_tag, "
        "Ec2ManageTagged, on tagged ones only). Issue 17 closes it with Null ec2:InstanceProfile and ec2:Attribute "
        "conditions.",
    ),
    _cs_all(
        "ResourceExposure",
        "BackupKey: kms:CreateGrant",
        "The AWS VM Import guide's KMS "
        "list for the vmimport role; the statement names the backup key only, and only the VM "
        "Import service can assume the role (trust: sts:ExternalId vmimport, aws:SourceAccount, "
        "aws:SourceArn).",
    ),
    _cs_all(
        "ResourceExposure",
        "BackupKeyGrants: kms:CreateGrant",
        "On the backup key only "
        "and only with kms:GrantIsForAWSResource true, as the EBS encryption guide recommends and "
        "AWS Backup's restore policy does: a grant can go to EBS for the restored volumes, never "
        "to a principal of the holder's choosing.",
    ),
    _cs_all(
        "ResourceExposure",
        "BackupObjects: s3:PutObjectAcl",
        "MSP360's granular S3 "
        "policy grants it for uploads; an object ACL can make a backup public or readable by "
        "another account. Scoped to the backup bucket's objects. Issue 17 takes it out of the "
        "default.",
    ),
    _cs_all(
        "ResourceExposure",
        "BackupObjects: s3:PutObjectVersionAcl",
        "As s3:PutObjectAcl, for object versions. Issue 17 takes it out of the default.",
    ),
    _cs_all(
        "ResourceExposure",
        "Ec2ImportSnapshots: ec2:ModifySnapshotAttribute",
        "The AWS "
        "VM Import guide's role policy (on *; here snapshot ARNs only): VM Import shares the "
        "snapshot it makes. Only the VM Import service can assume the role (trust: "
        "sts:ExternalId vmimport, aws:SourceAccount, aws:SourceArn), and the restore identity "
        "cannot pass or assume it.",
    ),
    _cs_all(
        "ResourceExposure",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* includes the bucket "
        "policy and ACL writes; the statement's Resource is the backup bucket only.",
    ),
    _cs_all(
        "ResourceExposure",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* includes the object "
        "ACL writes; the statement's Resource is the backup bucket's objects only.",
    ),
    # parliament, with its community auditors.
    _pa(
        "CREDENTIALS_EXPOSURE",
        "Kb1025Federation: sts:GetFederationToken",
        KB1025 + "See "
        "cloudsplaining's CredentialsExposure entry: the token never exceeds the caller.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "BackupKey: kms:CreateGrant",
        "The AWS VM Import "
        "guide's KMS list for the vmimport role, on the backup key only; only the VM Import "
        "service can assume the role.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "BackupKeyGrants: kms:CreateGrant",
        "On the backup "
        "key only, with kms:GrantIsForAWSResource true (EBS encryption guide): grants go to "
        "AWS services for the restored volumes only.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "BackupObjects: s3:PutObjectAcl",
        "MSP360's "
        "granular S3 policy grants it for uploads, on the backup bucket's objects. Issue 17 "
        "takes it out of the default.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "BackupObjects: s3:PutObjectVersionAcl",
        "As s3:PutObjectAcl, for object versions. Issue 17 takes it out of the default.",
    ),
    _pa(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "Ec2ImportSnapshots: ec2:ModifySnapshotAttribute",
        "The AWS VM Import guide's role policy: VM Import shares the snapshot it makes. Only "
        "the VM Import service can assume the role.",
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
        SPLIT_RESOURCE_TYPES + "The "
        "image, network-interface, security-group and subnet types are in Ec2UseResources.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ImportImage",
        SPLIT_RESOURCE_TYPES + "The "
        "import-image-task type is in Ec2CreateTagged, under the request tag.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ImportSnapshot",
        SPLIT_RESOURCE_TYPES + "The "
        "import-snapshot-task type is in Ec2CreateTagged, under the request tag.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Ec2UseResources: ec2:ModifyInstanceAttribute",
        SPLIT_RESOURCE_TYPES + "The instance type is in Ec2ManageTagged, under the resource tag.",
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
    _pa(
        "RESOURCE_MISMATCH",
        "Kb1025Bucket: s3:*",
        KB1025 + "s3:* expands to object, access "
        "point and job actions that the bucket ARN cannot serve; such an action grants nothing "
        "here.",
    ),
    _pa(
        "RESOURCE_MISMATCH",
        "Kb1025Objects: s3:*",
        KB1025 + "s3:* expands to bucket, access "
        "point and job actions that the object ARNs cannot serve; such an action grants nothing "
        "here.",
    ),
    _pa(
        "RESOURCE_STAR",
        "Ec2Describe: ec2:Describe*",
        "The AWS VM Import guide's role policy "
        "grants ec2:Describe* on *; the Describe actions parliament names take resource ARNs, "
        "but they only read, and only the VM Import service can assume the role.",
    ),
    *(
        _pa("RESOURCE_STAR", f"Kb1025Ec2: ec2:{action}", KB1025_EC2)
        for action in KB1025_EC2_WRITES
        # parliament's RESOURCE_STAR names only actions with a required resource type.
        if action not in ("CancelImportTask", "CreateTags")
    ),
    _pa("RESOURCE_STAR", "Kb1025Email: ses:*", KB1025 + "The article grants ses:* on *."),
)
