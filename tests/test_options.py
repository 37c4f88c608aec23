"""Profiles and options on the construct: props, warnings, KMS, and cdk-nag in every combination."""

from __future__ import annotations

import itertools
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from restore_permissions import (
    PolicyProfile,
    RestorePermissions,
    VmImportMode,
)

from .conftest import PSEUDO, Synthesized, new_app, profile_of, synthesize, synthesize_stack

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policies(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Managed policy documents by owner, resolved."""
    return {owner: synth.policy_document(owner, refs=PSEUDO) for owner in ("identity", "vmimport")}


def by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        statement["Sid"]: statement for statement in document["Statement"] if "Sid" in statement
    }


def test_kb1025_reports_its_corrections_as_a_warning() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack, "Restore", bucket="my-backups", profile=PolicyProfile.kb1025()
        )
    )
    Annotations.from_stack(synth.stack).has_warning(
        "/Test/Restore",
        Match.string_like_regexp(
            r"^PolicyProfile\.kb1025\(\) corrected the vendor article: ami:ListRoles is not an IAM action; "
            r"granted iam:ListRoles instead; .*ec2:CancelImportTasks is not an IAM action; granted "
            r"ec2:CancelImportTask instead; listed twice, granted once: ec2:RunInstances, ec2:StartInstances"
        ),
    )


def test_least_privilege_has_no_warning(examples: dict[str, Synthesized]) -> None:
    Annotations.from_stack(examples["user_with_key"].stack).has_no_warning("*", Match.any_value())


def test_bucket_encryption_key_is_used_for_both_policies() -> None:
    def build(stack: cdk.Stack) -> None:
        key = kms.Key(stack, "BackupKey", enable_key_rotation=True)
        bucket = s3.Bucket(stack, "Backups", encryption_key=key)
        RestorePermissions(stack, "Restore", bucket=bucket)

    synth = synthesize_stack(build)
    key_id = next(iter(synth.resources("AWS::KMS::Key")))
    identity, role = policies(synth)["identity"], policies(synth)["vmimport"]
    for sid in ("BackupKeyViaS3", "BackupKeyViaEbs", "BackupKeyGrants"):
        assert by_sid(identity)[sid]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}, sid
    assert "kms:Decrypt" in by_sid(identity)["BackupKeyViaS3"]["Action"]
    assert by_sid(role)["BackupKey"]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert "kms:Decrypt" in by_sid(role)["BackupKey"]["Action"]


def test_explicit_encryption_key_for_an_imported_bucket() -> None:
    def build(stack: cdk.Stack) -> None:
        key = kms.Key.from_key_arn(stack, "BackupKey", KEY_ARN)
        RestorePermissions(stack, "Restore", bucket="my-backups", encryption_key=key)

    synth = synthesize_stack(build)
    found = policies(synth)
    for sid in ("BackupKeyViaS3", "BackupKeyViaEbs", "BackupKeyGrants"):
        assert by_sid(found["identity"])[sid]["Resource"] == KEY_ARN, sid
    assert by_sid(found["vmimport"])["BackupKey"]["Resource"] == KEY_ARN


def test_no_key_no_kms_statement(examples: dict[str, Synthesized]) -> None:
    # The only KMS in the template is the secrets' key and its key policy.
    synth = examples["user_with_key"]
    assert "kms:" not in json.dumps(synth.resources("AWS::IAM::ManagedPolicy"))


def test_one_region_goes_into_arns_and_condition() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            profile=PolicyProfile.least_privilege(allowed_regions=["eu-west-1"]),
        )
    )
    launch = by_sid(policies(synth)["identity"])["Ec2Launch"]
    assert "arn:aws:ec2:eu-west-1:111122223333:instance/*" in launch["Resource"]
    assert launch["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    assert "Condition" not in by_sid(policies(synth)["identity"])["AccountLists"]


def test_deploy_time_regions_are_not_checked_at_synth() -> None:
    def build(stack: cdk.Stack) -> None:
        region = cdk.CfnParameter(stack, "RestoreRegion").value_as_string
        RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            profile=PolicyProfile.least_privilege(allowed_regions=[region]),
        )

    synth = synthesize_stack(build)
    resolved = synth.policy_document(refs={**PSEUDO, "RestoreRegion": "eu-west-1"})
    launch = by_sid(resolved)["Ec2Launch"]
    assert launch["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    assert "arn:aws:ec2:eu-west-1:111122223333:instance/*" in launch["Resource"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"allowed_regions": "us-east-1"},
            "allowed_regions='us-east-1' is invalid: pass a list of Region names, for example ['us-east-1']",
        ),
        (
            {"allowed_regions": []},
            "allowed_regions=[] is invalid: it would deny every EC2 call; leave it out to allow any Region",
        ),
        (
            {"allowed_regions": ["us-east-1", "useast2"]},
            "allowed_regions contains 'useast2', which is not an AWS Region name "
            "(for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')",
        ),
        (
            {"instance_tag": ("aws:created-by", "x")},
            "instance_tag key 'aws:created-by' is invalid: tag keys are 1 to 128 characters of letters, "
            "digits, spaces and _.:/=+-@, and may not start with 'aws:'",
        ),
    ],
)
def test_bad_options(props: dict[str, Any], message: str) -> None:
    # Options are values of the profile: the factory refuses them, before any construct.
    stack = cdk.Stack(new_app(), "Test")
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Restore", bucket="my-backups", profile=profile_of(**props))
    assert str(error.value) == message
    assert stack.node.try_find_child("Restore") is None


def every_combination() -> list[dict[str, Any]]:
    combinations: list[dict[str, Any]] = []
    for regions, tag, opt_ins, key in itertools.product(
        [None, ["us-east-1"], ["us-east-1", "eu-central-1"]],
        [None, ("restore", "yes")],
        [False, True],
        [False, True],
    ):
        combinations.append(
            {
                "allowed_regions": regions,
                "instance_tag": tag,
                "federation": opt_ins,
                "email_notifications": opt_ins,
                "key": key,
            }
        )
    for regions, key in itertools.product([None, ["us-east-1"]], [False, True]):
        combinations.append(
            {"profile": PolicyProfile.KB1025, "allowed_regions": regions, "key": key}
        )
    return combinations


@pytest.fixture(scope="module")
def every_combination_app() -> cdk.App:
    """One app, one stack per combination (vmimport CREATE and USE_EXISTING alternate)."""
    app = new_app()
    for index, combination in enumerate(every_combination()):
        stack = cdk.Stack(app, f"Combination{index}")
        props = dict(combination)
        key = kms.Key.from_key_arn(stack, "BackupKey", KEY_ARN) if props.pop("key") else None
        RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            encryption_key=key,
            vm_import=VmImportMode.CREATE if index % 2 else VmImportMode.USE_EXISTING,
            profile=profile_of(**props),
        )
    synthesize(app, stack)
    return app


@pytest.mark.parametrize(
    "pack", [AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks]
)
def test_every_combination_passes_the_four_packs(every_combination_app: cdk.App, pack: Any) -> None:
    stacks = [
        child for child in every_combination_app.node.children if isinstance(child, cdk.Stack)
    ]
    assert len(stacks) == 3 * 2 * 2 * 2 + 4
    report = pack().validate_scope(every_combination_app)
    assert sorted({v.rule_name for v in report.violations}) == []
