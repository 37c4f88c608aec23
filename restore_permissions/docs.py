"""Writes docs/permissions.md from the catalogue: ``python -m restore_permissions.docs``.

A test fails when the committed file differs from what this prints.
"""

from __future__ import annotations

from .cli import render_rows, resource_label, resource_pattern
from .policy import (
    KB1025_PUBLISHED_ACTIONS,
    PolicyOptions,
    PolicyProfile,
    Scope,
    grants,
    kb1025_correction_notes,
    vm_import_role_grants,
)


def permissions_markdown() -> str:
    sections = [
        "# Permissions granted by restore-permissions",
        "",
        "Generated from `restore_permissions/policy.py` by `make docs`; do not edit by hand.",
        "Print any combination with `restore-permissions explain` or "
        "`restore-permissions policy --bucket NAME`.",
        "",
        "## Resources",
        "",
        "| Resource | ARN |",
        "|---|---|",
        *(f"| {resource_label(scope)} | `{resource_pattern(scope)}` |" for scope in Scope),
        "",
        "`PARTITION` is the stack's partition and `ACCOUNT` its account (the CLI uses "
        "`${aws:PrincipalAccount}` without `--account`). `REGION` is the one allowed Region, "
        "or `*` with none or several; with `allowed_regions`, an `aws:RequestedRegion` "
        "condition restricts every EC2 statement. Images and snapshots have no account in "
        "their ARN: a launch may use a public AMI.",
        "",
        "## Identity policy: `PolicyProfile.LEAST_PRIVILEGE` (default)",
        "",
        "With `federation=True` and `email_notifications=True`, and a KMS key:",
        "",
        render_rows(
            grants(PolicyOptions(federation=True, email_notifications=True), kms=True), "markdown"
        ),
        "## Identity policy: `PolicyProfile.LEAST_PRIVILEGE` with `instance_tag`",
        "",
        "Launches and imports must carry the tag; only instances that carry it may be "
        "started, stopped, modified or terminated; tags may only be written by those "
        "creating calls or on resources that already carry the tag. The legacy "
        "`ImportInstance` and `ImportVolume` cannot tag what they create, so they are left "
        "out. Use it only if the backup tool tags what it launches.",
        "",
        render_rows(grants(PolicyOptions(instance_tag=("KEY", "VALUE"))), "markdown"),
        "## Identity policy: `PolicyProfile.KB1025`",
        "",
        "The vendor article's grants, bucket-scoped. Its invalid actions are replaced and "
        "its duplicates dropped; the construct reports this as a synth-time warning:",
        "",
        *(f"- {note}" for note in kb1025_correction_notes()),
        "",
        f"As published, the article lists {len(KB1025_PUBLISHED_ACTIONS)} actions on `*`, "
        "`s3:*` on `arn:aws:s3:::BUCKET` and its objects, `sts:GetFederationToken` and `ses:*`.",
        "",
        render_rows(grants(PolicyOptions(profile=PolicyProfile.KB1025), kms=True), "markdown"),
        "## The `vmimport` service role",
        "",
        "Trusted by `vmie.amazonaws.com` with `sts:Externalid = vmimport`, "
        "`aws:SourceAccount = ACCOUNT` and `aws:SourceArn like arn:PARTITION:vmie:*:ACCOUNT:*`. "
        "With `VmImportRole.USE_EXISTING` only the bucket (and key) statements are attached.",
        "",
        render_rows(vm_import_role_grants(kms=True), "markdown"),
    ]
    return "\n".join(sections)


if __name__ == "__main__":  # pragma: no cover
    print(permissions_markdown(), end="")
