# mypy: disable-error-code="arg-type"
"""Strict input, proven by property-based tests (Hypothesis).

For every argument of every public constructor and factory, a value of any
wrong type gives a ValueError that names the argument: a
RestorePermissionsError, whose message starts with the construct's path,
where a construct exists. Never a TypeError, an AttributeError, a jsii error,
or silent acceptance. The values come from one strategy of many types
(``WRONG``), each argument skipping only what it accepts.

The examples are derandomized (a fixed seed: the same cases in CI and on a
laptop) and the constructs share one app: the checks run before any child is
created, so nothing is synthesized.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from restore_permissions import (
    AccessKeySlot,
    PolicyProfile,
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
    SecretEncryption,
    VmImportAccountRole,
    VmImportMode,
    VmImportServiceRole,
)
from restore_permissions.policy import PolicyOptions
from restore_permissions.rollout import OrganizationRollout

from .conftest import KMS_KEY_ARN, new_app

#: The examples per argument; derandomize fixes the seed.
EXAMPLES = 40
STRICT = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)

#: Values of many types: what a caller might pass by mistake.
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=5), min_size=1, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sets(st.integers(), max_size=2),
    st.sampled_from(
        [
            object(),
            1j,
            VmImportMode.NONE,
            PolicyProfile.KB1025,
            AccessKeySlot.A,
            SecretEncryption.stack_key(),
            iam.AccountPrincipal("111122223333"),
        ]
    ),
)

_app = new_app()
STACK = cdk.Stack(_app, "Strict")
KEY = kms.Key.from_key_arn(STACK, "Key", KMS_KEY_ARN)
MEMBER = cdk.Stack(cdk.Stage(_app, "Member"), "Member")
_ids = itertools.count()


def fresh_id() -> str:
    return f"C{next(_ids)}"


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_list_of(kind: type, value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, kind) for v in value)


#: Each argument: (how a call with the value is made, which values are accepted,
#: whether a construct path exists). Accepted strings may still be refused for
#: their value; only other types are generated for them.
Case = tuple[Callable[[Any], object], Callable[[Any], bool], bool]


def construct(**props: Any) -> object:
    props.setdefault("bucket", "my-backups")
    props.setdefault("create_outputs", False)
    return RestorePermissions(STACK, fresh_id(), **props)


def user(**kwargs: Any) -> object:
    return construct(identity=RestoreIdentity.user(**kwargs))


def role(**kwargs: Any) -> object:
    kwargs.setdefault("assumed_by", iam.AccountPrincipal("111122223333"))
    return construct(identity=RestoreIdentity.role(**kwargs))


_BUCKET_HOLDER = RestorePermissions(STACK, "Holder", bucket="holder-backups", create_outputs=False)


def rollout(**kwargs: Any) -> object:
    kwargs.setdefault("member", MEMBER)
    kwargs.setdefault("organizational_unit_ids", ["ou-abcd-12345678"])
    kwargs.setdefault("region", "us-east-1")
    return OrganizationRollout(STACK, fresh_id(), **kwargs)


def is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_ebs_key(value: Any) -> bool:
    """A kms.IKey, a KMS key ARN, or None: what ebs_encryption_key accepts."""
    from restore_permissions.policy.statements import kms_key_arn_problem  # noqa: PLC0415

    if isinstance(value, str):
        return kms_key_arn_problem(value) is None
    return value is None or hasattr(value, "key_arn")


def _is_account_id(value: str) -> bool:
    return re.fullmatch(r"\d{12}", value) is not None


CASES: dict[str, Case] = {
    # RestorePermissions
    "RestorePermissions.bucket": (
        lambda v: construct(bucket=v),
        lambda v: isinstance(v, str) or hasattr(v, "bucket_arn"),
        True,
    ),
    "RestorePermissions.buckets": (
        lambda v: construct(bucket=None, buckets=v),
        lambda v: isinstance(v, str) or (is_list_of(str, v) and len(v) > 0),
        True,
    ),
    "RestorePermissions.identity": (lambda v: construct(identity=v), lambda v: v is None, True),
    "RestorePermissions.profile": (lambda v: construct(profile=v), lambda v: v is None, True),
    "RestorePermissions.encryption_key": (
        lambda v: construct(encryption_key=v),
        lambda v: v is None,
        True,
    ),
    "RestorePermissions.ebs_encryption_key": (
        lambda v: construct(ebs_encryption_key=v),
        _is_ebs_key,
        True,
    ),
    "RestorePermissions.vm_import": (
        lambda v: construct(vm_import=v),
        lambda v: isinstance(v, VmImportMode) and v is VmImportMode.NONE,
        True,
    ),
    "RestorePermissions.create_outputs": (lambda v: construct(create_outputs=v), is_bool, True),
    "RestorePermissions.legacy_bucket_name": (
        lambda v: construct(legacy_bucket_name=v),
        is_bool,
        True,
    ),
    "RestorePermissions.max_managed_policies": (
        lambda v: construct(max_managed_policies=v),
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 20,
        True,
    ),
    # add_bucket
    "add_bucket.bucket": (
        _BUCKET_HOLDER.add_bucket,
        lambda v: isinstance(v, str),
        True,
    ),
    "add_bucket.encryption_key": (
        lambda v: _BUCKET_HOLDER.add_bucket("more-backups", encryption_key=v),
        lambda v: v is None,
        True,
    ),
    # RestoreIdentity
    "RestoreIdentity.user.name": (lambda v: user(name=v), is_str_or_none, False),
    "RestoreIdentity.user.access_keys": (
        lambda v: user(access_keys=v),
        lambda v: is_list_of(AccessKeySlot, v),
        False,
    ),
    "RestoreIdentity.user.access_key_serial": (
        lambda v: user(access_key_serial=v),
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
        False,
    ),
    "RestoreIdentity.user.secret_encryption": (
        lambda v: user(secret_encryption=v),
        lambda v: v is None or isinstance(v, SecretEncryption),
        False,
    ),
    "RestoreIdentity.role.assumed_by": (
        lambda v: role(assumed_by=v),
        lambda v: hasattr(v, "policy_fragment"),
        False,
    ),
    "RestoreIdentity.role.external_id": (lambda v: role(external_id=v), is_str_or_none, False),
    "RestoreIdentity.role.name": (lambda v: role(name=v), is_str_or_none, False),
    "RestoreIdentity.role.instance_profile": (
        lambda v: role(instance_profile=v),
        lambda v: v is False,
        False,
    ),
    # PolicyProfile
    **{
        f"PolicyProfile.least_privilege.{name}": (
            lambda v, name=name: PolicyProfile.least_privilege(**{name: v}),  # type: ignore[misc]
            is_bool,
            False,
        )
        for name in (
            "federation",
            "email_notifications",
            "restore_only",
            "object_acl_writes",
            "object_lock",
        )
    },
    "PolicyProfile.least_privilege.allowed_regions": (
        lambda v: PolicyProfile.least_privilege(allowed_regions=v),
        lambda v: v is None,
        False,
    ),
    "PolicyProfile.least_privilege.instance_tag": (
        lambda v: PolicyProfile.least_privilege(instance_tag=v),
        lambda v: v is None,
        False,
    ),
    "PolicyProfile.least_privilege.shared_subnet_owners": (
        lambda v: PolicyProfile.least_privilege(shared_subnet_owners=v),
        lambda v: (
            v is None
            or (
                isinstance(v, (list, tuple))
                and all(isinstance(a, str) and _is_account_id(a) for a in v)
            )
        ),
        False,
    ),
    "PolicyProfile.kb1025.allowed_regions": (
        lambda v: PolicyProfile.kb1025(allowed_regions=v),
        lambda v: v is None,
        False,
    ),
    # SecretEncryption
    "SecretEncryption.customer_key.key": (
        SecretEncryption.customer_key,
        lambda v: False,
        False,
    ),
    # The vmimport role
    "VmImportAccountRole.max_managed_policies": (
        lambda v: VmImportAccountRole(
            cdk.Stack(_app, fresh_id()), "VmImport", max_managed_policies=v
        ),
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 20,
        True,
    ),
    "VmImportAccountRole.role_exists": (
        lambda v: VmImportAccountRole(cdk.Stack(_app, fresh_id()), "VmImport", role_exists=v),
        is_bool,
        True,
    ),
    "VmImportAccountRole.ebs_encryption_key": (
        lambda v: VmImportAccountRole(
            cdk.Stack(_app, fresh_id()), "VmImport", ebs_encryption_key=v
        ),
        _is_ebs_key,
        True,
    ),
    "VmImportServiceRole.mode": (
        lambda v: VmImportServiceRole(cdk.Stack(_app, fresh_id()), "VmImport", mode=v),
        lambda v: isinstance(v, VmImportMode) and v is not VmImportMode.NONE,
        True,
    ),
    "VmImportServiceRole.max_managed_policies": (
        lambda v: VmImportServiceRole(
            cdk.Stack(_app, fresh_id()),
            "VmImport",
            mode=VmImportMode.USE_EXISTING,
            max_managed_policies=v,
        ),
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 20,
        True,
    ),
    # OrganizationRollout
    "OrganizationRollout.member": (lambda v: rollout(member=v), lambda v: False, True),
    "OrganizationRollout.organizational_unit_ids": (
        lambda v: rollout(organizational_unit_ids=v),
        lambda v: False,
        True,
    ),
    "OrganizationRollout.region": (lambda v: rollout(region=v), lambda v: False, True),
    "OrganizationRollout.stack_set_name": (
        lambda v: rollout(stack_set_name=v),
        lambda v: v is None,
        True,
    ),
    "OrganizationRollout.call_as": (lambda v: rollout(call_as=v), lambda v: False, True),
}

#: The string values an argument accepts, when its check of a string is not its type.
_VALID_STRINGS = {
    "RestorePermissions.bucket",
    "add_bucket.bucket",
    "RestoreIdentity.user.name",
    "RestoreIdentity.role.external_id",
    "RestoreIdentity.role.name",
    "OrganizationRollout.stack_set_name",
}


def argument_of(case: str) -> str:
    return case.rsplit(".", 1)[1]


@pytest.mark.parametrize("case", list(CASES))
@STRICT
@given(value=WRONG)
def test_a_wrong_type_gives_a_value_error_naming_the_argument(case: str, value: Any) -> None:
    call, accepted, has_path = CASES[case]
    # Not a wrong type for this argument: Hypothesis draws another value.
    assume(not accepted(value) and not (case in _VALID_STRINGS and isinstance(value, str)))
    with pytest.raises(ValueError) as error:
        call(value)
    message = str(error.value)
    assert argument_of(case) in message, message
    if has_path:
        assert isinstance(error.value, RestorePermissionsError), message
    # The message names the value as given.
    assert repr(value)[:40] in message or argument_of(case) in message


def test_the_cases_cover_every_public_argument() -> None:
    import inspect  # noqa: PLC0415

    documented = set()
    for owner, names in [
        (RestorePermissions.__init__, "RestorePermissions"),
        (RestorePermissions.add_bucket, "add_bucket"),
        (RestoreIdentity.user, "RestoreIdentity.user"),
        (RestoreIdentity.role, "RestoreIdentity.role"),
        (PolicyProfile.least_privilege, "PolicyProfile.least_privilege"),
        (PolicyProfile.kb1025, "PolicyProfile.kb1025"),
        (SecretEncryption.customer_key, "SecretEncryption.customer_key"),
        (VmImportAccountRole.__init__, "VmImportAccountRole"),
        (VmImportServiceRole.__init__, "VmImportServiceRole"),
        (OrganizationRollout.__init__, "OrganizationRollout"),
    ]:
        for parameter in inspect.signature(owner).parameters:
            if parameter not in ("self", "scope", "construct_id"):
                documented.add(f"{names}.{parameter}")
    assert documented == set(CASES)
    # The factories without arguments have nothing to get wrong.
    assert SecretEncryption.stack_key() != SecretEncryption.aws_managed_key()
    assert PolicyOptions() == PolicyProfile.least_privilege()


_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: The six wrong-type cases the issue found, and the exact message each gives now.
ISSUE_CASES: list[tuple[Callable[[], object], type[ValueError], str]] = [
    (
        lambda: RestorePermissions(cdk.Stack(new_app(), "Test"), "Restore", buckets=5),
        RestorePermissionsError,
        "Test/Restore: buckets=5 is invalid: pass a list of buckets (s3.IBucket or names)",
    ),
    (
        lambda: PolicyProfile.least_privilege(allowed_regions=5),
        ValueError,
        "allowed_regions=5 is invalid: pass a list of Region names",
    ),
    (
        lambda: RestorePermissions(
            cdk.Stack(new_app(), "Test"),
            "Restore",
            bucket="my-backups",
            identity=RestoreIdentity.user(access_keys=None),
        ),
        RestorePermissionsError,
        "Test/Restore: access_keys=None is invalid: pass a list of AccessKeySlot, for example "
        "[AccessKeySlot.A, AccessKeySlot.B], or [] for none",
    ),
    (
        lambda: VmImportAccountRole(
            cdk.Stack(new_app(), "Account"), "VmImport", role_exists="false"
        ),
        RestorePermissionsError,
        "Account/VmImport: role_exists='false' is invalid: pass True or False (a bool)",
    ),
    (
        lambda: VmImportAccountRole(
            cdk.Stack(new_app(), "Account"), "VmImport", max_managed_policies="10"
        ),
        RestorePermissionsError,
        "Account/VmImport: max_managed_policies='10' is invalid: IAM allows 1 to 20 managed "
        "policies per user, group or role (10 by default)",
    ),
    (
        lambda: SecretEncryption.customer_key(_KEY_ARN),
        ValueError,
        f"key='{_KEY_ARN}' is invalid: pass a kms.IKey, for example "
        "kms.Key.from_key_arn(self, 'SecretKey', 'arn:aws:kms:...')",
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "message"), ISSUE_CASES, ids=[m.split(" is ")[0] for _, _, m in ISSUE_CASES]
)
def test_the_cases_the_issue_found(
    call: Callable[[], object], kind: type[ValueError], message: str
) -> None:
    with pytest.raises(kind) as error:
        call()
    assert str(error.value) == message
