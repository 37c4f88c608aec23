#!/usr/bin/env python3
"""Example app: one stack with a RestorePermissions, checked by cdk-nag's AwsSolutions pack.

    npx cdk synth -c bucket_name=my-backups
    npx cdk synth                      # the bucket becomes a BucketName parameter

Context options (``-c key=value``), all optional:

======================  =======================================================  ====================
key                     meaning                                                  default
======================  =======================================================  ====================
bucket_name             backup bucket name                                       BucketName parameter
legacy_bucket_name      accept a legacy us-east-1 bucket name (true/false)       false
principal_type          ``user`` or ``role``                                     user
create_access_key       user mode: create an access key (true/false)             true
access_key_slots        user mode: key slots ``a``, ``b`` or ``a,b`` (rotation)  a
access_key_serial       user mode: change to replace slot a's key at once        none
aws_managed_secret_key  encrypt the key secrets with aws/secretsmanager          false
trusted_account         role mode: 12-digit account that may assume the role     this account
instance_profile        role mode: trust EC2, add an instance profile (true)     false
external_id             role mode: required sts:ExternalId                       none
vm_import_role          ``create``, ``use-existing`` or ``none``                 create
profile                 ``least-privilege`` or ``kb1025``                        least-privilege
allowed_regions         comma-separated Regions for the EC2 calls                any Region
instance_tag            ``KEY=VALUE`` tag guard on launched instances            none
kms_key_arn             KMS key that encrypts the backups                        none
federation              grant sts:GetFederationToken (true/false)                false
email_notifications     grant ses:SendEmail/SendRawEmail (true/false)            false
restore_only            read and restore backups, never write or delete them     false
stack_name              CloudFormation stack name                                RestorePermissions
bucket_prefix           per-account bucket: PREFIX + account id (for rollouts)   none
rollout                 ``stackset``: roll out to AWS Organizations OUs          off
target_ous              rollout: comma-separated OU (or root) ids                required
regions                 rollout: the one Region the stacks go to                 required
======================  =======================================================  ====================

With ``-c rollout=stackset``, the app holds the member stack (in stage
``Member``, without a bootstrap check) and ``RestorePermissionsStackSet``, a
service-managed StackSet that deploys the member template to every account of
the OUs: ``cdk deploy RestorePermissionsStackSet -c rollout=stackset ...`` from
the management (or a delegated administrator) account.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from restore_permissions import (
    AccessKeySlot,
    PolicyProfile,
    PrincipalType,
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
    RoleIdentity,
    SecretEncryption,
    UserIdentity,
    VmImportMode,
)
from restore_permissions.bucket_names import (
    ALLOWED_PATTERN,
    CONSTRAINT_DESCRIPTION,
    MAX_LENGTH,
    MIN_LENGTH,
    bucket_name_error,
    bucket_name_problem,
)
from restore_permissions.policy.statements import (
    kms_key_arn_problem,
    region_problem,
    tag_key_problem,
    tag_value_problem,
)
from restore_permissions.rollout import OrganizationRollout, ou_id_problem

DEFAULT_STACK_NAME = "RestorePermissions"
STACKSET_STACK_NAME = "RestorePermissionsStackSet"


class ContextError(ValueError):
    """A ``-c key=value`` the app refuses; the message names the key as the user typed it."""


class RestorePermissionsStack(cdk.Stack):
    """The example stack, configured from the app's context."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="IAM permissions to restore image-based backups as EC2 instances "
            "(restore-permissions)",
            **kwargs,
        )
        context = _Context(self)
        legacy_bucket_name = context.flag("legacy_bucket_name", default=False)
        bucket_name = context.text("bucket_name")
        if bucket_name is not None:
            error = bucket_name_error(
                bucket_name, legacy=legacy_bucket_name, legacy_option="-c legacy_bucket_name=true"
            )
            if error is not None:
                raise ContextError(f"-c bucket_name={bucket_name!r} is invalid: {error}")
        bucket_prefix = context.text("bucket_prefix")
        if bucket_prefix is not None:
            if bucket_name is not None:
                raise ContextError(
                    "-c bucket_name and -c bucket_prefix exclude each other: give one"
                )
            problem = bucket_name_problem(bucket_prefix + "123456789012")
            if problem is not None:
                raise ContextError(
                    f"-c bucket_prefix={bucket_prefix!r} is invalid: with an account id "
                    f"appended, {problem}"
                )
            bucket_name = bucket_prefix + cdk.Aws.ACCOUNT_ID
        if bucket_name is None:
            # One template for console users too: CloudFormation checks the
            # name against the same rules the construct applies at synth.
            bucket_name = cdk.CfnParameter(
                self,
                "BucketName",
                type="String",
                description="Name of the S3 bucket that holds the image-based backups",
                min_length=MIN_LENGTH,
                max_length=MAX_LENGTH,
                allowed_pattern=ALLOWED_PATTERN,
                constraint_description=CONSTRAINT_DESCRIPTION,
            ).value_as_string

        kms_key_arn = context.text("kms_key_arn")
        if kms_key_arn is not None and (problem := kms_key_arn_problem(kms_key_arn)):
            raise ContextError(f"-c kms_key_arn={kms_key_arn!r} {problem}")
        encryption_key = (
            kms.Key.from_key_arn(self, "BackupKey", kms_key_arn)
            if kms_key_arn is not None
            else None
        )

        identity = _identity(context)
        allowed_regions = context.regions("allowed_regions")
        profile = context.choice("profile", PolicyProfile, PolicyProfile.LEAST_PRIVILEGE)
        if profile is PolicyProfile.KB1025:
            for key in ("instance_tag", "federation", "email_notifications", "restore_only"):
                if context.text(key) is not None:
                    raise ContextError(
                        f"-c {key} is only valid with -c profile=least-privilege: "
                        "-c profile=kb1025 grants exactly what the vendor article grants"
                    )
            policy = PolicyProfile.kb1025(allowed_regions=allowed_regions)
        else:
            policy = PolicyProfile.least_privilege(
                allowed_regions=allowed_regions,
                instance_tag=context.tag("instance_tag"),
                federation=context.flag("federation", default=False),
                email_notifications=context.flag("email_notifications", default=False),
                restore_only=context.flag("restore_only", default=False),
            )

        RestorePermissions(
            self,
            "Restore",
            bucket=bucket_name,
            legacy_bucket_name=legacy_bucket_name,
            identity=identity,
            profile=policy,
            vm_import=context.choice("vm_import_role", VmImportMode, VmImportMode.CREATE),
            encryption_key=encryption_key,
        )


def _identity(context: _Context) -> UserIdentity | RoleIdentity:
    """The user (default) or the role, from -c principal_type and its options."""
    instance_profile = context.flag("instance_profile", default=False)
    principal_type = context.choice("principal_type", PrincipalType, PrincipalType.USER)
    if principal_type is not PrincipalType.ROLE:
        if instance_profile:
            raise ContextError("-c instance_profile=true is only valid with -c principal_type=role")
        return RestoreIdentity.user(
            access_keys=(
                _slots(context.items("access_key_slots") or ["a"])
                if context.flag("create_access_key", default=True)
                else []
            ),
            access_key_serial=context.integer("access_key_serial"),
            secret_encryption=SecretEncryption.aws_managed_key()
            if context.flag("aws_managed_secret_key", default=False)
            else None,
        )
    trusted_account = context.text("trusted_account")
    assumed_by: iam.IPrincipal
    if instance_profile:
        # A backup tool on EC2 signs in with its instance's role.
        if trusted_account is not None:
            raise ContextError(
                "-c instance_profile=true and -c trusted_account exclude each other: "
                "the role is then assumed by EC2, for the instance the tool runs on"
            )
        assumed_by = iam.ServicePrincipal("ec2.amazonaws.com")
    elif trusted_account is None:
        assumed_by = iam.AccountRootPrincipal()
    elif re.fullmatch(r"\d{12}", trusted_account):
        assumed_by = iam.AccountPrincipal(trusted_account)
    else:
        raise ContextError(
            f"-c trusted_account={trusted_account!r} is invalid: "
            "it must be a 12-digit AWS account id"
        )
    return RestoreIdentity.role(
        assumed_by=assumed_by,
        external_id=context.text("external_id"),
        instance_profile=instance_profile,
    )


def _slots(names: list[str]) -> list[AccessKeySlot]:
    by_name = {slot.value: slot for slot in AccessKeySlot}
    for name in names:
        if name not in by_name:
            raise ContextError(
                f"-c access_key_slots={','.join(names)!r} is invalid: use a, b or a,b"
            )
    return [by_name[name] for name in names]


class _Context:
    """Typed reads of ``-c key=value`` options, with errors that name the key."""

    def __init__(self, scope: Construct) -> None:
        self._node = scope.node

    def text(self, key: str) -> str | None:
        value = self._node.try_get_context(key)
        return None if value is None or value == "" else str(value)

    def flag(self, key: str, *, default: bool) -> bool:
        value = self._node.try_get_context(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ContextError(f"-c {key}={value!r} is invalid: use true or false")

    def integer(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        if not value.isdigit():
            raise ContextError(f"-c {key}={value!r} is invalid: use a whole number >= 0")
        return int(value)

    def items(self, key: str) -> list[str] | None:
        value = self.text(key)
        return None if value is None else [item.strip() for item in value.split(",")]

    def regions(self, key: str) -> list[str] | None:
        regions = self.items(key)
        for region in regions or ():
            problem = region_problem(region)
            if problem is not None:
                raise ContextError(f"-c {key}={self.text(key)!r} is invalid: {region!r} {problem}")
        return regions

    def tag(self, key: str) -> tuple[str, str] | None:
        value = self.text(key)
        if value is None:
            return None
        tag_key, sep, tag_value = value.partition("=")
        if not sep or not tag_key:
            raise ContextError(f"-c {key}={value!r} is invalid: use KEY=VALUE")
        problem = tag_key_problem(tag_key) or tag_value_problem(tag_value)
        if problem is not None:
            raise ContextError(f"-c {key}={value!r} is invalid: {problem}")
        return tag_key, tag_value

    def choice(self, key: str, enum_type: Any, default: Any) -> Any:
        value = self.text(key)
        if value is None:
            return default
        for member in enum_type:
            if member.value == value:
                return member
        allowed = ", ".join(member.value for member in enum_type)
        raise ContextError(f"-c {key}={value!r} is invalid: use one of {allowed}")


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The example app. ``cdk synth`` passes context through the environment;
    tests pass cdk.json's context (and variant options) here."""
    app = cdk.App(context=dict(context) if context is not None else None)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    stack_name = app.node.try_get_context("stack_name") or DEFAULT_STACK_NAME
    rollout = _Context(app).text("rollout")
    if rollout is None:
        RestorePermissionsStack(app, stack_name)
    elif rollout == "stackset":
        _stackset_rollout(app, stack_name)
    else:
        raise ContextError(f"-c rollout={rollout!r} is invalid: use stackset, or leave it out")
    return app


def _stackset_rollout(app: cdk.App, stack_name: str) -> None:
    context = _Context(app)
    target_ous = context.items("target_ous")
    regions = context.items("regions")
    if not target_ous:
        raise ContextError("-c target_ous is required with -c rollout=stackset: ou-...,ou-...")
    for ou in target_ous:
        if (problem := ou_id_problem(ou)) is not None:
            raise ContextError(
                f"-c target_ous={context.text('target_ous')!r} is invalid: {ou!r} {problem}"
            )
    if not regions or len(regions) != 1:
        raise ContextError(
            f"-c regions={context.text('regions')!r} is invalid: name exactly one Region. "
            "IAM is global, so a second Region would create a second vmimport role and fail; "
            "restrict the EC2 calls with -c allowed_regions instead"
        )
    # Member accounts are not CDK-bootstrapped: no bootstrap version check.
    member = RestorePermissionsStack(
        cdk.Stage(app, "Member"),
        stack_name,
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    rollout_stack = cdk.Stack(
        app,
        STACKSET_STACK_NAME,
        description="Rolls restore-permissions out to AWS Organizations OUs (restore-permissions)",
    )
    OrganizationRollout(
        rollout_stack,
        "Rollout",
        member=member,
        organizational_unit_ids=target_ous,
        region=regions[0],
    )


def main() -> int:
    """``cdk synth``'s entry point: a bad option is one line on stderr and exit code 1."""
    try:
        app = build_app()
    except (ContextError, RestorePermissionsError) as error:
        print(f"app.py: error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
