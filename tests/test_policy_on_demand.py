"""An identity's own policy is created by synth, with its statements, unless the app
reads it first: both ways give the same template.

Created by synth, the policy costs the jsii round trips of a policy written by
hand (one ``PolicyDocument.fromJson``), not those of an empty policy filled at
synth (``make bench`` counts them). Read before synth (``managed_policy``,
``managed_policies``, a grant), it exists from then on, so that the app can
add to it, and synth adds the construct's statements to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from restore_permissions import PolicyProfile, RestoreIdentity, RestorePermissions

from .conftest import KMS_KEY_ARN, new_app

ROLE = RestoreIdentity.role(assumed_by=iam.AccountPrincipal("111122223333"))


def _kms(stack: cdk.Stack) -> dict[str, Any]:
    return {"bucket": "my-backups", "encryption_key": kms.Key.from_key_arn(stack, "K", KMS_KEY_ARN)}


#: Construct arguments, by what they exercise.
VARIANTS: dict[str, Callable[[cdk.Stack], dict[str, Any]]] = {
    "user with outputs": lambda _: {"bucket": "my-backups"},
    "role, no outputs": lambda _: {
        "bucket": "my-backups",
        "identity": ROLE,
        "create_outputs": False,
    },
    "bucket key": _kms,
    # Past 6,144 characters: extra policies that the first one depends on.
    "split": lambda _: {
        "buckets": [f"customer-{i:04d}-" + "b" * 40 for i in range(60)],
        "profile": PolicyProfile.kb1025(),
        "max_managed_policies": 20,
    },
}


def _template(variant: str, *, read_first: bool, added_bucket: bool = False) -> dict[str, Any]:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    restore = RestorePermissions(stack, "Restore", **VARIANTS[variant](stack))
    assert restore.node.try_find_child("Policy") is None, "created before anyone read it"
    if read_first:
        assert restore.managed_policy.node.path == "Test/Restore/Policy"
    if added_bucket:
        restore.add_bucket("added-later")
    template: dict[str, Any] = app.synth().get_stack_by_name("Test").template
    return template


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_policy_synth_creates_is_the_policy_the_app_reads(variant: str) -> None:
    created_by_synth = _template(variant, read_first=False)
    read_first = _template(variant, read_first=True)
    assert created_by_synth == read_first
    own = [i for i in created_by_synth["Resources"] if i.startswith("RestorePolicy")]
    assert len(own) > 1 if variant == "split" else len(own) == 1


def test_a_bucket_added_after_construction_is_in_the_policy_synth_creates() -> None:
    template = _template("role, no outputs", read_first=False, added_bucket=True)
    (own,) = [
        r
        for logical_id, r in template["Resources"].items()
        if logical_id.startswith("RestorePolicy")
    ]
    assert "added-later" in str(own["Properties"]["PolicyDocument"])
    assert template == _template("role, no outputs", read_first=True, added_bucket=True)


def test_the_policy_synth_creates_waits_for_the_shared_policy() -> None:
    template = _template("role, no outputs", read_first=False)
    (own_id,) = [i for i in template["Resources"] if i.startswith("RestorePolicy")]
    (shared_id,) = [i for i in template["Resources"] if i.startswith("RestorePermissionsShared")]
    assert template["Resources"][own_id]["DependsOn"] == [shared_id]


def test_a_statement_added_to_the_read_policy_is_kept() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    restore = RestorePermissions(stack, "Restore", bucket="my-backups", create_outputs=False)
    restore.managed_policy.add_statements(
        iam.PolicyStatement(
            sid="AddedByTheApp", actions=["s3:GetObject"], resources=["arn:aws:s3:::x/*"]
        )
    )
    template = app.synth().get_stack_by_name("Test").template
    (own,) = [r for i, r in template["Resources"].items() if i.startswith("RestorePolicy")]
    sids = [s.get("Sid") for s in own["Properties"]["PolicyDocument"]["Statement"]]
    assert "AddedByTheApp" in sids
    assert len(sids) > 1
