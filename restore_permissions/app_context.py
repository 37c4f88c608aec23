"""The example app's ``-c key=value`` options: read, checked, and turned into construct props.

``app.py`` stays an example: it asks :meth:`AppContext.of` for the checked
options and passes :meth:`AppContext.construct_props` to RestorePermissions.
Every plain key the user passes is checked here, so that a typo cannot fall
back to a default unnoticed:

- an unknown key is refused, with the closest known key (difflib);
- an empty value (``-c bucket_name=``) is refused;
- a key that does not apply to the chosen mode (``external_id`` for a user,
  ``federation`` with ``profile=kb1025``, ``target_ous`` without a rollout)
  is refused;
- every value is checked with the library's own rules.

Each error is a :class:`ContextError` whose message names the key as typed:
``app.py`` prints it as one line and exits with code 1. Namespaced keys
(``@aws-cdk/...`` feature flags, ``aws:cdk:...``, ``restore-permissions:...``)
are CDK's and the library's settings, not app options, and are left alone.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from .bucket_names import (
    ALLOWED_PATTERN,
    CONSTRAINT_DESCRIPTION,
    MAX_LENGTH,
    MIN_LENGTH,
    bucket_name_error,
    bucket_name_problem,
)
from .identity import (
    AccessKeySlot,
    PrincipalType,
    RestoreIdentity,
    RoleIdentity,
    SecretEncryption,
    UserIdentity,
)
from .policy import PolicyOptions, PolicyProfile
from .policy.statements import (
    kms_key_arn_problem,
    region_problem,
    tag_key_problem,
    tag_value_problem,
)
from .rollout import OrganizationRollout, ou_id_problem
from .vm_import import VmImportMode

DEFAULT_STACK_NAME = "RestorePermissions"
STACKSET_STACK_NAME = "RestorePermissionsStackSet"
STACK_DESCRIPTION = (
    "IAM permissions to restore image-based backups as EC2 instances (restore-permissions)"
)
#: CloudFormation's stack-name rule (CDK refuses other names with a jsii traceback).
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_ACCOUNT_ID = re.compile(r"\d{12}")
#: Context keys of the CDK CLI's own without a namespace (``cdk acknowledge``
#: writes this one to cdk.context.json).
_CDK_PLAIN_KEYS = frozenset({"acknowledged-issue-numbers"})


class ContextError(ValueError):
    """A ``-c key=value`` the app refuses; the message names the key as the user typed it."""


@dataclass(frozen=True)
class Option:
    """One ``-c`` key of the example app."""

    meaning: str
    default: str
    #: ``(key, value)``: the option applies only when that key has that value
    #: (its default counts), for example ``("principal_type", "role")``.
    applies_with: tuple[str, str] | None = None


_USER = ("principal_type", "user")
_ROLE = ("principal_type", "role")
_LEAST = ("profile", "least-privilege")
_ROLLOUT = ("rollout", "stackset")

#: Every ``-c`` key the example app takes, in the order the README lists them.
OPTIONS: Mapping[str, Option] = {
    "bucket_name": Option("backup bucket name", "a `BucketName` parameter"),
    "legacy_bucket_name": Option(
        "accept a legacy us-east-1 bucket name given with `bucket_name` (true/false)", "false"
    ),
    "principal_type": Option("`user` or `role`", "user"),
    "create_access_key": Option("create an access key (true/false)", "true", _USER),
    "access_key_slots": Option("key slots `a`, `b` or `a,b` (rotation)", "a", _USER),
    "access_key_serial": Option("change it to replace slot a's key at once", "none", _USER),
    "aws_managed_secret_key": Option(
        "encrypt the key secrets with aws/secretsmanager (true/false)", "false", _USER
    ),
    "trusted_account": Option("12-digit account that may assume the role", "this account", _ROLE),
    "instance_profile": Option("trust EC2, add an instance profile (true/false)", "false", _ROLE),
    "external_id": Option("required `sts:ExternalId` in the trust policy", "none", _ROLE),
    "vm_import_role": Option("`create`, `use-existing` or `none`", "create"),
    "profile": Option("`least-privilege` or `kb1025`", "least-privilege"),
    "allowed_regions": Option("comma-separated Regions for the EC2 calls", "any Region"),
    "instance_tag": Option("`KEY=VALUE` tag guard on launched instances", "none", _LEAST),
    "kms_key_arn": Option("ARN of the KMS key that encrypts the backups", "none"),
    "ebs_kms_key_arn": Option(
        "ARN of the customer managed key of EBS encryption by default", "none"
    ),
    "object_lock": Option(
        "the bucket uses S3 Object Lock: grant retention (true/false)", "false", _LEAST
    ),
    "shared_subnet_owners": Option(
        "comma-separated accounts whose subnets are shared with this one (AWS RAM)", "none", _LEAST
    ),
    "federation": Option("grant `sts:GetFederationToken` (true/false)", "false", _LEAST),
    "email_notifications": Option(
        "grant `ses:SendEmail`, `ses:SendRawEmail` (true/false)", "false", _LEAST
    ),
    "restore_only": Option(
        "read and restore backups, never write or delete them (true/false)", "false", _LEAST
    ),
    "stack_name": Option("CloudFormation stack name", DEFAULT_STACK_NAME),
    "bucket_prefix": Option("per-account bucket: PREFIX + the account id", "none"),
    "rollout": Option("`stackset`: roll out to AWS Organizations OUs", "none"),
    "target_ous": Option("comma-separated OU (or root) ids", "required", _ROLLOUT),
    "regions": Option("the one Region the StackSet deploys to", "required", _ROLLOUT),
}


def options_table() -> str:
    """The README's table of the ``-c`` keys (a test keeps the README equal to it)."""
    lines = ["| Key | Meaning | Default | Only with |", "| --- | --- | --- | --- |"]
    for key, option in OPTIONS.items():
        only = "-c {}={}".format(*option.applies_with) if option.applies_with else ""
        lines.append(
            f"| `{key}` | {option.meaning} | {option.default} | {f'`{only}`' if only else ''} |"
        )
    return "\n".join(lines) + "\n"


E = TypeVar("E", bound=enum.Enum)


class _Reader:
    """Typed reads of the checked ``-c`` values, with errors that name the key."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, key: str) -> str | None:
        return self._values.get(key)

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.text(key)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise ContextError(f"-c {key}={value!r} is invalid: use true or false")
        return value.lower() == "true"

    def integer(self, key: str) -> int | None:
        value = self.text(key)
        if value is not None and not value.isdigit():
            raise ContextError(f"-c {key}={value!r} is invalid: use a whole number >= 0")
        return None if value is None else int(value)

    def items(self, key: str) -> list[str] | None:
        value = self.text(key)
        if value is None:
            return None
        items = [item.strip() for item in value.split(",")]
        if "" in items:
            raise ContextError(f"-c {key}={value!r} is invalid: it has an empty item")
        return items

    def choice(self, key: str, enum_type: type[E], default: E) -> E:
        value = self.text(key)
        if value is None:
            return default
        for member in enum_type:
            if member.value == value:
                return member
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise ContextError(f"-c {key}={value!r} is invalid: use one of {allowed}")


def _plain_values(context: Mapping[str, Any]) -> dict[str, str]:
    """The app options among ``context``: unknown and empty ones refused."""
    values: dict[str, str] = {}
    for key, raw in context.items():
        if ":" in key or "/" in key or key.startswith("@") or key in _CDK_PLAIN_KEYS:
            continue  # CDK's feature flags and settings, and the library's own
        if key not in OPTIONS:
            close = difflib.get_close_matches(key, OPTIONS, n=1, cutoff=0.6)
            hint = (
                f"did you mean -c {close[0]}?" if close else "the options are " + ", ".join(OPTIONS)
            )
            raise ContextError(f"-c {key} is not an option of this app: {hint}")
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if not value.strip():
            raise ContextError(
                f"-c {key} is empty: give a value (-c {key}=VALUE), or leave the option out "
                f"(default: {OPTIONS[key].default.replace('`', '')})"
            )
        values[key] = value
    return values


def _check_modes(values: Mapping[str, str]) -> None:
    """Refuse a key that does not apply to the mode chosen (or defaulted) by another key."""
    for key in values:
        applies_with = OPTIONS[key].applies_with
        if applies_with is None:
            continue
        other, needed = applies_with
        actual = values.get(other, OPTIONS[other].default)
        if actual != needed:
            raise ContextError(
                f"-c {key} applies only with -c {other}={needed}, and -c {other} is {actual}"
                f"{'' if other in values else ' (the default)'}"
            )


@dataclass(frozen=True)
class AppContext:
    """The example app's options, checked."""

    stack_name: str
    bucket_name: str | None
    bucket_prefix: str | None
    legacy_bucket_name: bool
    kms_key_arn: str | None
    identity: UserIdentity | RoleIdentity
    profile: PolicyOptions
    vm_import: VmImportMode
    #: ``(OU ids, Region)`` with ``-c rollout=stackset``, else None.
    rollout: tuple[tuple[str, ...], str] | None
    #: The customer managed key of EBS encryption by default, or None.
    ebs_kms_key_arn: str | None = None

    @classmethod
    def of(cls, app: cdk.App) -> AppContext:
        """The app's options, from its context (``cdk synth -c``, cdk.json, CDK_CONTEXT_JSON)."""
        return cls.parse(app.node.get_all_context())

    @classmethod
    def parse(cls, context: Mapping[str, Any]) -> AppContext:
        values = _plain_values(context)
        read = _Reader(values)
        # The keys that choose a mode first, so that a bad mode is named as such.
        read.choice("principal_type", PrincipalType, PrincipalType.USER)
        read.choice("profile", PolicyProfile, PolicyProfile.LEAST_PRIVILEGE)
        if (rollout := read.text("rollout")) not in (None, "stackset"):
            raise ContextError(f"-c rollout={rollout!r} is invalid: use stackset, or leave it out")
        _check_modes(values)
        stack_name = read.text("stack_name") or DEFAULT_STACK_NAME
        if not _STACK_NAME.fullmatch(stack_name):
            raise ContextError(
                f"-c stack_name={stack_name!r} is invalid: a stack name is 1 to 128 letters, "
                "digits and hyphens, starting with a letter"
            )
        bucket_name, bucket_prefix = read.text("bucket_name"), read.text("bucket_prefix")
        legacy = read.flag("legacy_bucket_name", default=False)
        if read.text("legacy_bucket_name") is not None and bucket_name is None:
            raise ContextError("-c legacy_bucket_name applies only with -c bucket_name")
        if bucket_name is not None:
            if bucket_prefix is not None:
                raise ContextError(
                    "-c bucket_name and -c bucket_prefix exclude each other: give one"
                )
            error = bucket_name_error(
                bucket_name, legacy=legacy, legacy_option="-c legacy_bucket_name=true"
            )
            if error is not None:
                raise ContextError(f"-c bucket_name={bucket_name!r} is invalid: {error}")
        if bucket_prefix is not None and (
            problem := bucket_name_problem(bucket_prefix + "123456789012")
        ):
            raise ContextError(
                f"-c bucket_prefix={bucket_prefix!r} is invalid: with an account id "
                f"appended, {problem}"
            )
        kms_key_arn = read.text("kms_key_arn")
        if kms_key_arn is not None and (problem := kms_key_arn_problem(kms_key_arn)):
            raise ContextError(f"-c kms_key_arn={kms_key_arn!r} {problem}")
        ebs_kms_key_arn = read.text("ebs_kms_key_arn")
        if ebs_kms_key_arn is not None and (problem := kms_key_arn_problem(ebs_kms_key_arn)):
            raise ContextError(f"-c ebs_kms_key_arn={ebs_kms_key_arn!r} {problem}")
        return cls(
            stack_name=stack_name,
            bucket_name=bucket_name,
            bucket_prefix=bucket_prefix,
            legacy_bucket_name=legacy,
            kms_key_arn=kms_key_arn,
            identity=_identity(read),
            profile=_profile(read),
            vm_import=read.choice("vm_import_role", VmImportMode, VmImportMode.CREATE),
            rollout=_rollout(read),
            ebs_kms_key_arn=ebs_kms_key_arn,
        )

    def new_stack(self, app: cdk.App) -> cdk.Stack:
        """The stack that holds RestorePermissions: in stage ``Member`` for a rollout."""
        if self.rollout is None:
            return cdk.Stack(app, self.stack_name, description=STACK_DESCRIPTION)
        # Member accounts are not CDK-bootstrapped: no bootstrap version check.
        return cdk.Stack(
            cdk.Stage(app, "Member"),
            self.stack_name,
            description=STACK_DESCRIPTION,
            synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        )

    def construct_props(self, stack: cdk.Stack) -> dict[str, Any]:
        """RestorePermissions' keyword arguments; the bucket parameter and key are made in ``stack``."""
        return {
            "bucket": self._bucket(stack),
            "legacy_bucket_name": self.legacy_bucket_name,
            "identity": self.identity,
            "profile": self.profile,
            "vm_import": self.vm_import,
            "encryption_key": kms.Key.from_key_arn(stack, "BackupKey", self.kms_key_arn)
            if self.kms_key_arn is not None
            else None,
            "ebs_encryption_key": self.ebs_kms_key_arn,
        }

    def add_rollout(self, app: cdk.App, *, member: cdk.Stack) -> None:
        """With ``-c rollout=stackset``: the StackSet stack that deploys ``member`` to the OUs."""
        if self.rollout is None:
            return
        target_ous, region = self.rollout
        rollout_stack = cdk.Stack(
            app,
            STACKSET_STACK_NAME,
            description="Rolls restore-permissions out to AWS Organizations OUs "
            "(restore-permissions)",
        )
        OrganizationRollout(
            rollout_stack,
            "Rollout",
            member=member,
            organizational_unit_ids=list(target_ous),
            region=region,
        )

    def _bucket(self, stack: cdk.Stack) -> str:
        if self.bucket_name is not None:
            return self.bucket_name
        if self.bucket_prefix is not None:
            return self.bucket_prefix + cdk.Aws.ACCOUNT_ID
        # One template for console users too: CloudFormation checks the name
        # against the same rules the construct applies at synth.
        return cdk.CfnParameter(
            stack,
            "BucketName",
            type="String",
            description="Name of the S3 bucket that holds the image-based backups",
            min_length=MIN_LENGTH,
            max_length=MAX_LENGTH,
            allowed_pattern=ALLOWED_PATTERN,
            constraint_description=CONSTRAINT_DESCRIPTION,
        ).value_as_string


def _identity(read: _Reader) -> UserIdentity | RoleIdentity:
    """The user (default) or the role; the other mode's keys were refused before."""
    if read.choice("principal_type", PrincipalType, PrincipalType.USER) is PrincipalType.USER:
        slots = read.items("access_key_slots")
        if not read.flag("create_access_key", default=True):
            if slots is not None:
                raise ContextError(
                    "-c access_key_slots and -c create_access_key=false exclude each other"
                )
            slots = []
        by_name = {slot.value: slot for slot in AccessKeySlot}
        if any(name not in by_name for name in slots or ()):
            raise ContextError(
                f"-c access_key_slots={read.text('access_key_slots')!r} is invalid: use a, b or a,b"
            )
        return RestoreIdentity.user(
            access_keys=[by_name[name] for name in (["a"] if slots is None else slots)],
            access_key_serial=read.integer("access_key_serial"),
            secret_encryption=SecretEncryption.aws_managed_key()
            if read.flag("aws_managed_secret_key", default=False)
            else None,
        )
    instance_profile = read.flag("instance_profile", default=False)
    trusted_account = read.text("trusted_account")
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
    elif _ACCOUNT_ID.fullmatch(trusted_account):
        assumed_by = iam.AccountPrincipal(trusted_account)
    else:
        raise ContextError(
            f"-c trusted_account={trusted_account!r} is invalid: "
            "it must be a 12-digit AWS account id"
        )
    return RestoreIdentity.role(
        assumed_by=assumed_by,
        external_id=read.text("external_id"),
        instance_profile=instance_profile,
    )


def _profile(read: _Reader) -> PolicyOptions:
    regions = read.items("allowed_regions")
    for region in regions or ():
        if (problem := region_problem(region)) is not None:
            raise ContextError(
                f"-c allowed_regions={read.text('allowed_regions')!r} is invalid: "
                f"{region!r} {problem}"
            )
    if read.choice("profile", PolicyProfile, PolicyProfile.LEAST_PRIVILEGE) is (
        PolicyProfile.KB1025
    ):
        return PolicyProfile.kb1025(allowed_regions=regions)
    return PolicyProfile.least_privilege(
        allowed_regions=regions,
        instance_tag=_tag(read),
        federation=read.flag("federation", default=False),
        email_notifications=read.flag("email_notifications", default=False),
        restore_only=read.flag("restore_only", default=False),
        object_lock=read.flag("object_lock", default=False),
        shared_subnet_owners=_shared_subnet_owners(read),
    )


def _shared_subnet_owners(read: _Reader) -> list[str] | None:
    owners = read.items("shared_subnet_owners")
    for owner in owners or ():
        if not re.fullmatch(r"\d{12}", owner):
            raise ContextError(
                f"-c shared_subnet_owners={read.text('shared_subnet_owners')!r} is invalid: "
                f"{owner!r} is not a 12-digit AWS account id"
            )
    return owners


def _tag(read: _Reader) -> tuple[str, str] | None:
    value = read.text("instance_tag")
    if value is None:
        return None
    tag_key, sep, tag_value = value.partition("=")
    if not sep or not tag_key:
        raise ContextError(f"-c instance_tag={value!r} is invalid: use KEY=VALUE")
    problem = tag_key_problem(tag_key) or tag_value_problem(tag_value)
    if problem is not None:
        raise ContextError(f"-c instance_tag={value!r} is invalid: {problem}")
    return tag_key, tag_value


def _rollout(read: _Reader) -> tuple[tuple[str, ...], str] | None:
    if read.text("rollout") is None:
        return None
    target_ous, regions = read.items("target_ous"), read.items("regions")
    if not target_ous:
        raise ContextError("-c target_ous is required with -c rollout=stackset: ou-...,ou-...")
    for ou in target_ous:
        if (problem := ou_id_problem(ou)) is not None:
            raise ContextError(
                f"-c target_ous={read.text('target_ous')!r} is invalid: {ou!r} {problem}"
            )
    if not regions:
        raise ContextError("-c regions is required with -c rollout=stackset: one Region")
    if len(regions) != 1:
        raise ContextError(
            f"-c regions={read.text('regions')!r} is invalid: name exactly one Region. "
            "IAM is global, so a second Region would create a second vmimport role and fail; "
            "restrict the EC2 calls with -c allowed_regions instead"
        )
    return tuple(target_ous), regions[0]
