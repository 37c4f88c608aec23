"""The action catalogue: pure Python, no CDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from restore_permissions.policy import (
    KB1025_CORRECTIONS,
    KB1025_PUBLISHED_ACTIONS,
    RESTORE_IDENTITY_GRANTS,
    VM_IMPORT_ROLE_BUCKET_GRANTS,
    VM_IMPORT_ROLE_GRANTS,
    Grant,
    Scope,
    Source,
    policy_statements,
)

from .sources import KB1025_CORRECTED_ACTIONS, MSP360_BUCKET_ACTIONS, MSP360_OBJECT_ACTIONS

IDENTITY_ACTIONS = {grant.action for grant in RESTORE_IDENTITY_GRANTS}


def test_catalogue_imports_without_cdk() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, restore_permissions.policy, restore_permissions.bucket_names; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_every_kb1025_action_is_granted_once_corrected_and_deduplicated() -> None:
    corrected = {KB1025_CORRECTIONS.get(action, action) for action in KB1025_PUBLISHED_ACTIONS}
    assert corrected == KB1025_CORRECTED_ACTIONS
    assert corrected <= IDENTITY_ACTIONS
    assert (
        len(KB1025_PUBLISHED_ACTIONS) - len(set(KB1025_PUBLISHED_ACTIONS)) == 2
    )  # RunInstances, StartInstances


@pytest.mark.parametrize(
    "invalid", ["ami:ListRoles", "ami:CancelImportTasks", "ec2:CancelImportTasks"]
)
def test_invalid_kb1025_actions_are_not_granted(invalid: str) -> None:
    assert invalid in KB1025_PUBLISHED_ACTIONS
    assert invalid not in IDENTITY_ACTIONS
    assert KB1025_CORRECTIONS[invalid] in IDENTITY_ACTIONS


def test_corrections_target_the_real_actions() -> None:
    assert dict(KB1025_CORRECTIONS) == {
        "ami:ListRoles": "iam:ListRoles",
        "ami:CancelImportTasks": "ec2:CancelImportTask",
        "ec2:CancelImportTasks": "ec2:CancelImportTask",
    }


def test_no_service_wide_or_identity_writing_action_is_granted() -> None:
    for action in IDENTITY_ACTIONS:
        service, name = action.split(":")
        assert "*" not in name, action
        assert service not in ("ses", "sts"), action
        if service == "iam":
            assert name.startswith("List"), action


def test_s3_rights_are_msp360s_granular_list_on_bucket_and_objects() -> None:
    by_scope: dict[Scope, set[str]] = {}
    for grant in RESTORE_IDENTITY_GRANTS:
        if grant.service == "s3":
            by_scope.setdefault(grant.scope, set()).add(grant.action)
    assert by_scope == {
        Scope.ANY: {"s3:ListAllMyBuckets"},
        Scope.BUCKET: MSP360_BUCKET_ACTIONS,
        Scope.OBJECTS: MSP360_OBJECT_ACTIONS,
    }


def test_describe_images_is_added_from_the_vm_import_guide() -> None:
    (grant,) = [g for g in RESTORE_IDENTITY_GRANTS if g.action == "ec2:DescribeImages"]
    assert grant.source is Source.VM_IMPORT_GUIDE
    assert "ec2:DescribeImages" not in KB1025_PUBLISHED_ACTIONS


@pytest.mark.parametrize(
    "grants", [RESTORE_IDENTITY_GRANTS, VM_IMPORT_ROLE_GRANTS], ids=["identity", "vmimport"]
)
def test_every_grant_is_unique_and_has_a_one_line_reason(grants: tuple[Grant, ...]) -> None:
    actions = [grant.action for grant in grants]
    assert len(actions) == len(set(actions))
    for grant in grants:
        assert grant.reason.strip() and "\n" not in grant.reason, grant.action
        assert grant.reason.endswith("."), grant.action


def test_vm_import_role_grants_follow_the_aws_guide() -> None:
    assert {(g.action, g.scope) for g in VM_IMPORT_ROLE_GRANTS} == {
        ("s3:GetBucketLocation", Scope.BUCKET),
        ("s3:ListBucket", Scope.BUCKET),
        ("s3:GetObject", Scope.OBJECTS),
        ("ec2:ModifySnapshotAttribute", Scope.ANY),
        ("ec2:CopySnapshot", Scope.ANY),
        ("ec2:RegisterImage", Scope.ANY),
        ("ec2:Describe*", Scope.ANY),
    }
    assert {g.scope for g in VM_IMPORT_ROLE_BUCKET_GRANTS} == {Scope.BUCKET, Scope.OBJECTS}


def test_policy_statements_group_by_scope_in_a_stable_order() -> None:
    statements = policy_statements(
        RESTORE_IDENTITY_GRANTS,
        {
            Scope.ANY: ["*"],
            Scope.BUCKET: ["arn:aws:s3:::b1", "arn:aws:s3:::b2", "arn:aws:s3:::b1"],
            Scope.OBJECTS: ["arn:aws:s3:::b1/*"],
        },
    )
    assert [s["Sid"] for s in statements] == ["AnyResource", "BackupBucket", "BackupObjects"]
    assert statements[1]["Resource"] == ["arn:aws:s3:::b1", "arn:aws:s3:::b2"]
    assert statements[2]["Resource"] == "arn:aws:s3:::b1/*"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        assert isinstance(actions, list) and actions == sorted(actions)


def test_policy_statements_refuse_a_scope_without_resources() -> None:
    with pytest.raises(ValueError, match="no resources given for scope BUCKET"):
        policy_statements(
            RESTORE_IDENTITY_GRANTS, {Scope.ANY: ["*"], Scope.BUCKET: [], Scope.OBJECTS: ["x"]}
        )
