"""The opt-in StackSet rollout of the example app: AWS Organizations OUs, service-managed."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

import app as example_app
from restore_permissions import RestorePermissions, RestorePermissionsError
from restore_permissions.app_context import DEFAULT_STACK_NAME, STACKSET_STACK_NAME
from restore_permissions.rollout import OrganizationRollout

from .conftest import CDK_JSON_CONTEXT, new_app

ROLLOUT = {
    "rollout": "stackset",
    "target_ous": "ou-ab12-11111111,ou-ab12-22222222",
    "regions": "eu-west-1",
    "bucket_prefix": "msp-backups-",
}


@pytest.fixture(scope="module")
def rollout() -> tuple[cdk.App, dict[str, Any], dict[str, Any]]:
    """The app, the StackSet stack's template, and the member template it embeds."""
    app = example_app.build_app({**CDK_JSON_CONTEXT, **ROLLOUT})
    assembly = app.synth()
    stackset = assembly.get_stack_by_name(STACKSET_STACK_NAME).template
    member_stage = app.node.find_child("Member")
    assert isinstance(member_stage, cdk.Stage)
    member_stack = member_stage.node.find_child(DEFAULT_STACK_NAME)
    assert isinstance(member_stack, cdk.Stack)
    member = member_stage.synth().get_stack_by_name(member_stack.stack_name).template
    return app, stackset, member


def stack_set(template: dict[str, Any]) -> dict[str, Any]:
    (resource,) = template["Resources"].values()
    assert resource["Type"] == "AWS::CloudFormation::StackSet"
    return resource["Properties"]


def test_stackset_targets_the_ous_service_managed(
    rollout: tuple[cdk.App, dict[str, Any], dict[str, Any]],
) -> None:
    _, template, _ = rollout
    properties = stack_set(template)
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert properties["StackInstancesGroup"] == [
        {
            "DeploymentTargets": {
                "OrganizationalUnitIds": ["ou-ab12-11111111", "ou-ab12-22222222"]
            },
            "Regions": ["eu-west-1"],
        }
    ]
    assert properties["CallAs"] == "SELF"


def test_stackset_embeds_the_member_template(
    rollout: tuple[cdk.App, dict[str, Any], dict[str, Any]],
) -> None:
    _, template, member = rollout
    body = stack_set(template)["TemplateBody"]
    assert json.loads(body) == member
    # Canonical text: the same template is the same body whatever order its
    # constructs were created in, so no StackSet update rolls out for nothing.
    assert body == json.dumps(member, separators=(",", ":"), sort_keys=True)
    assert "BootstrapVersion" not in member.get("Parameters", {})
    assert "Rules" not in member
    # Each account's own bucket: the prefix and the account id.
    by_sid = {
        s["Sid"]: s
        for r in member["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    }
    assert by_sid["BackupBucket"]["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":s3:::msp-backups-", {"Ref": "AWS::AccountId"}],
        ]
    }


@pytest.mark.parametrize(
    "pack", [AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks]
)
def test_rollout_passes_the_four_packs(
    rollout: tuple[cdk.App, dict[str, Any], dict[str, Any]], pack: Any
) -> None:
    app, _, _ = rollout
    assert [v.rule_name for v in pack().validate_scope(app).violations] == []


def test_rollout_templates_lint_clean(
    rollout: tuple[cdk.App, dict[str, Any], dict[str, Any]],
) -> None:
    from cfnlint.api import ManualArgs, lint  # noqa: PLC0415 - 1 s to import; only here

    _, template, member = rollout
    for body in (template, member):
        assert [
            str(m) for m in lint(json.dumps(body), config=ManualArgs(regions=["eu-west-1"]))
        ] == []


def test_rollout_snapshots(
    rollout: tuple[cdk.App, dict[str, Any], dict[str, Any]], snapshot: SnapshotAssertion
) -> None:
    _, template, member = rollout
    json_snapshot = snapshot.use_extension(JSONSnapshotExtension)
    # The member template twice: inside TemplateBody (what StackSets gets) and
    # parsed, so that review diffs read line by line.
    assert template == json_snapshot(name="stackset-stack")
    assert member == json_snapshot(name="member-template")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"target_ous": "ou-ab12-11111111,"},
            "-c target_ous='ou-ab12-11111111,' is invalid: it has an empty item",
        ),
        (
            {"regions": "us-east-1,eu-west-1"},
            "-c regions='us-east-1,eu-west-1' is invalid: name exactly one Region. IAM is global, so a "
            "second Region would create a second vmimport role and fail; restrict the EC2 calls with "
            "-c allowed_regions instead",
        ),
        (
            {"target_ous": "ou-ab12-11111111,accounting"},
            "-c target_ous='ou-ab12-11111111,accounting' is invalid: 'accounting' is not an OU id "
            "(ou-xxxx-xxxxxxxx) or a root id (r-xxxx)",
        ),
        (
            {"bucket_prefix": "MSP_"},
            "-c bucket_prefix='MSP_' is invalid: with an account id appended, it contains 'M', 'P', "
            "'S', '_'; only lowercase letters, digits, '.' and '-' are allowed",
        ),
        (
            {"bucket_name": "central-backups"},
            "-c bucket_name and -c bucket_prefix exclude each other: give one",
        ),
        (
            {"rollout": "everywhere"},
            "-c rollout='everywhere' is invalid: use stackset, or leave it out",
        ),
    ],
)
def test_bad_rollout_context(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as error:
        example_app.build_app({**CDK_JSON_CONTEXT, **ROLLOUT, **options})
    assert str(error.value) == message


def test_member_must_be_synthesizable_on_its_own() -> None:
    app = new_app()
    member = cdk.Stack(app, "Member")
    RestorePermissions(member, "Restore", bucket="my-backups")
    with pytest.raises(RestorePermissionsError) as error:
        OrganizationRollout(
            cdk.Stack(app, "Rollout"),
            "Rollout",
            member=member,
            organizational_unit_ids=["r-ab12"],
            region="us-east-1",
        )
    assert str(error.value) == (
        "Rollout/Rollout: member='Member' is invalid: put the member stack in its own cdk.Stage, so that it is synthesized on its own"
    )


def test_a_member_with_a_bootstrap_check_fails_synth() -> None:
    app = new_app()
    staged = cdk.Stack(cdk.Stage(app, "Stage"), "Member")
    RestorePermissions(staged, "Restore", bucket="my-backups")
    OrganizationRollout(
        cdk.Stack(app, "Rollout2"),
        "Rollout",
        member=staged,
        organizational_unit_ids=["r-ab12"],
        region="us-east-1",
    )
    with pytest.raises(RuntimeError) as error:
        app.synth()
    assert (
        "[Rollout2/Rollout] member='Stage/Member' is invalid: its template checks the CDK "
        "bootstrap version"
    ) in str(error.value)


def test_the_member_may_change_after_the_rollout_is_created() -> None:
    # The template is rendered at synth: a bucket added later reaches every account.
    app = new_app()
    member = cdk.Stack(
        cdk.Stage(app, "Member"),
        "Member",
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    restore = RestorePermissions(member, "Restore", bucket="first-backups")
    rollout_stack = cdk.Stack(app, "Rollout")
    OrganizationRollout(
        rollout_stack,
        "Rollout",
        member=member,
        organizational_unit_ids=["r-ab12"],
        region="us-east-1",
    )
    restore.add_bucket("second-backups")
    cdk.aws_sns.Topic(member, "LateResource")
    body = app.synth().get_stack_by_name("Rollout").template["Resources"]
    (stack_set,) = [r for r in body.values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    text = stack_set["Properties"]["TemplateBody"]
    assert "second-backups" in text and "AWS::SNS::Topic" in text
