"""``diff --stack --deployed`` against the AWS emulator: a hand edit in IAM shows as a lost restore.

The example app is deployed to moto in-process (tests/test_moto.py's
``deploy``, which does by API what moto skips). Then a managed policy is
edited the way someone would in the console: a new default version without
``ec2:ImportSnapshot``. ``diff --stack NAME --deployed`` compares the stack's
template with the policies IAM attaches now, and must report the volume
restore lost, with exit code 1.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from restore_permissions.cli import main

from .conftest import Synthesized
from .test_moto import deploy, fresh_emulator

STACK = "DiffDrift"


def _without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """The document without ``action``; a statement left with no action goes."""
    edited = json.loads(json.dumps(document))
    for statement in edited["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        statement["Action"] = [a for a in actions if a != action]
    edited["Statement"] = [s for s in edited["Statement"] if s["Action"]]
    return edited


def test_a_hand_edited_policy_shows_as_a_lost_workflow(
    examples: dict[str, Synthesized], capsys: pytest.CaptureFixture[str]
) -> None:
    with fresh_emulator():
        deployed = deploy(examples["user_with_key"].template_json, STACK)
        assert main(["diff", "--stack", STACK, "--deployed"]) == 0
        untouched = capsys.readouterr().out
        assert "Nothing got worse." in untouched
        assert "statement" not in untouched  # IAM holds what the template says

        iam = boto3.client("iam")
        arns = deployed.output("Comma-separated ARNs of the restore managed policies").split(",")
        (shared,) = [
            arn
            for arn in arns
            if "ec2:ImportSnapshot"
            in json.dumps(
                iam.get_policy_version(
                    PolicyArn=arn,
                    VersionId=iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"],
                )["PolicyVersion"]["Document"]
            )
        ]
        version = iam.get_policy(PolicyArn=shared)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=shared, VersionId=version)["PolicyVersion"][
            "Document"
        ]
        edited = _without(document, "ec2:ImportSnapshot")
        iam.create_policy_version(
            PolicyArn=shared, PolicyDocument=json.dumps(edited), SetAsDefault=True
        )

        assert main(["diff", "--stack", STACK, "--deployed", "--format", "json"]) == 1
        report = json.loads(capsys.readouterr().out)
        identity = report["identities"][0]
        assert identity["new"].endswith("(IAM now)")
        assert {c["summary"] for c in identity["changes"]} == {
            "ebs-volume restore (my-backups) lost: ec2:ImportSnapshot removed",
            "cancel-snapshot-import restore (my-backups) lost: ec2:ImportSnapshot removed",
        }
        assert [s["sid"] for s in identity["statements"]] == ["Ec2Import"]
        sizes = {s["policy"]: (s["old"], s["new"]) for s in identity["sizes"]}
        old_size, new_size = next(
            v for k, v in sizes.items() if k.startswith("RestorePermissionsShared")
        )
        # IAM's count: the JSON without whitespace.
        assert new_size == len("".join(json.dumps(edited, separators=(",", ":")).split()))
        assert new_size < old_size


def test_a_stack_against_a_new_template(
    examples: dict[str, Synthesized], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``diff --stack NAME NEW``: what deploying NEW over the stack would do to restores."""
    template = examples["user_with_key"].template_json
    new = json.loads(json.dumps(template))
    for resource in new["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            document = resource["Properties"]["PolicyDocument"]
            resource["Properties"]["PolicyDocument"] = _without(document, "ec2:CreateVolume")
    (tmp_path / "new.json").write_text(json.dumps(new))
    with fresh_emulator():
        deploy(template, STACK)
        assert main(["diff", "--stack", STACK, str(tmp_path / "new.json")]) == 1
    out = capsys.readouterr().out
    assert "ebs-volume restore (my-backups) lost: ec2:CreateVolume removed" in out
    # The file is resolved in the stack's account, so nothing else differs.
    assert "cancel-snapshot-import" not in out


def test_a_stack_that_does_not_exist_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with fresh_emulator(), pytest.raises(SystemExit) as exit_info:
        main(["diff", "--stack", "NoSuchStack", "--deployed"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("restore-permissions: error: ValidationError")
    assert error.count("\n") == 1
