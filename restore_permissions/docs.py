"""Writes docs/permissions.md from the catalogue: ``python -m restore_permissions.docs``.

A test fails when the committed file differs from what this prints.
"""

from __future__ import annotations

from .policy import (
    KB1025_PUBLISHED_ACTIONS,
    NOT_GRANTED,
    OPTIONAL_RESOURCE_TYPES,
    VM_IMPORT_ROLE_WITHOUT_WORKFLOW,
    WITHOUT_WORKFLOW,
    PolicyOptions,
    PolicyProfile,
    ResourceType,
    catalogue_rows,
    kb1025_correction_notes,
    vm_import_role_rows,
)
from .policy.attacks import ATTACKS
from .policy.blast_radius import threat_model_markdown
from .policy.explain import render_rows, render_workflows, resource_label, resource_pattern


def permissions_markdown() -> str:
    sections = [
        "# Permissions granted by restore-permissions",
        "",
        "Generated from the `restore_permissions/policy/` package by `make docs`; do not edit by hand.",
        "Print any combination with `restore-permissions explain` or "
        "`restore-permissions policy --bucket NAME`.",
        "",
        "## Resources",
        "",
        "| Resource | ARN |",
        "|---|---|",
        *(
            f"| {resource_label(resource_type)} | `{resource_pattern(resource_type)}` |"
            for resource_type in ResourceType
        ),
        "",
        "`PARTITION` is the stack's partition and `ACCOUNT` its account (the CLI uses "
        "`${aws:PrincipalAccount}` without `--account`). `REGION` is the one allowed Region, "
        "or `*` with none or several; with `allowed_regions`, an `aws:RequestedRegion` "
        "condition restricts every EC2 statement. Images and snapshots have no account in "
        "their ARN: a launch may use a public AMI.",
        "",
        "## Identity policy: `PolicyProfile.least_privilege()` (default)",
        "",
        "Instances are started, stopped, modified, terminated and renamed only when they "
        "have no instance profile (`Null ec2:InstanceProfile = true`): the identity has no "
        "`iam:PassRole`, so what it launches has none, and an instance with a role is out of "
        "its reach. Tags are written only as part of a creating call, on such instances, "
        "and as an AMI's `Name`. `restore_only=True` leaves out every backup write; "
        "`object_acl_writes=True` adds `s3:PutObjectAcl` and `s3:PutObjectVersionAcl`.",
        "",
        "With `federation=True`, `email_notifications=True` and `object_lock=True`, a KMS "
        "key on the bucket, and a customer managed EBS key (`ebs_encryption_key`):",
        "",
        render_rows(
            catalogue_rows(_ALL_OPT_INS, kms=True, ebs_key=True),
            "markdown",
        ),
        *_REAL_ACCOUNTS,
        "## Identity policy: `PolicyProfile.least_privilege(instance_tag=...)`",
        "",
        "Launches (the instance), imports (the task) and new volumes must carry the tag in "
        "their request; only instances and import tasks that carry it may be started, "
        "stopped, modified, terminated or cancelled. What a call only uses, and the volumes "
        "and network interfaces a launch makes beside its instance, need no tag, as in "
        "Elastic Disaster Recovery's and Application Migration Service's policies. Tags "
        "may be written by those creating calls, on tagged resources, and on an AMI when "
        "the request adds the tag (to name the AMI an import produced). Not granted, and "
        "reported as a synth-time warning: the legacy `ImportInstance` and `ImportVolume`, "
        "which cannot tag what they create, and `RequestSpotInstances`, whose instance never "
        "carries the tag and so could never be stopped or terminated (launch Spot through "
        "`RunInstances` instead). Use it only if the backup tool tags what it creates.",
        "",
        render_rows(catalogue_rows(PolicyOptions(instance_tag=("KEY", "VALUE"))), "markdown"),
        "## Identity policy: `PolicyProfile.kb1025()`",
        "",
        "The vendor article's grants, bucket-scoped. Its invalid actions are replaced and "
        "its duplicates dropped; the construct reports this as a synth-time warning:",
        "",
        *(f"- {note}" for note in kb1025_correction_notes()),
        "",
        f"As published, the article lists {len(KB1025_PUBLISHED_ACTIONS)} actions on `*`, "
        "`s3:*` on `arn:aws:s3:::BUCKET` and its objects, `sts:GetFederationToken` and `ses:*`.",
        "",
        render_rows(
            catalogue_rows(PolicyOptions(profile=PolicyProfile.KB1025), kms=True), "markdown"
        ),
        "## The `vmimport` service role",
        "",
        "Trusted by `vmie.amazonaws.com` with `sts:Externalid = vmimport`, "
        "`aws:SourceAccount = ACCOUNT` and `aws:SourceArn like arn:PARTITION:vmie:*:ACCOUNT:*`. "
        "With `VmImportMode.USE_EXISTING` only the bucket (and key) statements are attached.",
        "",
        render_rows(vm_import_role_rows(kms=True, ebs_key=True), "markdown"),
        "## What is kept without a workflow, and what is not granted",
        "",
        "Every action is called by at least one restore workflow below, except these, "
        "kept for the reason given (`make mutate` checks this list):",
        "",
        *(f"- `{action}`: {why}" for action, why in WITHOUT_WORKFLOW.items()),
        *(
            f"- `{action}` (vmimport role): {why}"
            for action, why in VM_IMPORT_ROLE_WITHOUT_WORKFLOW.items()
        ),
        *(
            f"- `{action}` on `{resource_type.value}`: {why}"
            for (action, resource_type), why in OPTIONAL_RESOURCE_TYPES.items()
        ),
        "",
        "Listed by a source for restores, and deliberately not granted:",
        "",
        *(f"- `{action}` ({r.source.value}): {r.why}" for action, r in NOT_GRANTED.items()),
        "",
        "## Threat model: what a holder of the credential can do",
        "",
        "The restore identity's credential is what an attacker gets: in user mode a "
        "long-lived access key on the backup server, in role mode whatever runs the tool. "
        "Each row below is an attack (`restore_permissions/policy/attacks.py`, each with "
        "its source), judged for each profile and option, all with a KMS key. "
        "`restore-permissions explain --blast-radius` prints it for any options, and "
        "`restore-permissions check --attacks` asks IAM's policy simulator for a deployed "
        "identity. The tests evaluate every row under every option set "
        "(`tests/test_attacks.py`).",
        "",
        *threat_model_markdown(),
        "",
        "Open in every least-privilege column, and why no option closes them:",
        "",
        *(f"- `{a.name}`: {a.residual}" for a in ATTACKS if a.residual),
        "",
        "## Restore workflows",
        "",
        "Each restore path as the calls it makes, in order, and the statement that allows "
        "each call on each resource it touches, for the default profile with `federation`, "
        "`email_notifications`, `object_lock`, `shared_subnet_owners`, a KMS key and an EBS key. "
        "`restore-permissions explain --workflows` prints them for any options. The tests "
        "evaluate every call, and a denied twin of each scoped call, under every profile "
        "and option (`tests/test_workflows.py`).",
        "",
        render_workflows(_ALL_OPT_INS, kms=True, ebs_key=True, output_format="markdown"),
    ]
    return "\n".join(sections)


#: The default profile with every opt-in, as the catalogue and workflows above show it.
_ALL_OPT_INS = PolicyOptions(
    federation=True,
    email_notifications=True,
    object_lock=True,
    shared_subnet_owners=("444455556666",),
)

#: What accounts set up in common ways add (policy/real_accounts.py), in prose.
_REAL_ACCOUNTS = (
    "Accounts set up in common ways:",
    "",
    "- **EBS encryption by default with a customer managed key** (`ebs_encryption_key`): "
    "the identity may use that key only through EBS (`kms:ViaService` = "
    "`ec2.REGION.amazonaws.com`) and create grants on it only for AWS resources "
    "(`kms:GrantIsForAWSResource`), as for the bucket's key (EBS encryption guide); the "
    "`vmimport` role gets the VM Import guide's KMS actions on it (statement `EbsKey`).",
    "- **Spot in an account that never used Spot**: `iam:CreateServiceLinkedRole` on "
    "`arn:PARTITION:iam::ACCOUNT:role/aws-service-role/spot.amazonaws.com/"
    "AWSServiceRoleForEC2Spot` with `iam:AWSServiceName = spot.amazonaws.com` (EC2 user "
    "guide: with the API, the role must exist before the first Spot request).",
    "- **Tags on the parts of a launch**: `ec2:CreateTags` on network interfaces and Spot "
    "requests only with `ec2:CreateAction` = `RunInstances` or `RequestSpotInstances` "
    "(their `TagSpecifications`, botocore's EC2 model).",
    "- **S3 Object Lock** (`object_lock=True`): `s3:PutObjectRetention` and "
    "`s3:GetObjectRetention` on the objects. `s3:BypassGovernanceRetention` is never "
    "granted (see below).",
    "- **Shared VPC** (`shared_subnet_owners=[ACCOUNT, ...]`): the subnet ARNs of those "
    "accounts, `arn:PARTITION:ec2:REGION:OWNER:subnet/*`, beside this account's. Only "
    "subnets: instances, volumes, network interfaces and security groups stay this "
    "account's (VPC user guide, share your VPC).",
    "",
)


if __name__ == "__main__":  # pragma: no cover
    print(permissions_markdown(), end="")
