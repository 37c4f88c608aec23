"""``restore-permissions diff`` on the repo's own templates: what each change does to restores.

The pairs come from the stored snapshots (tests/__snapshots__), from the
example app synthesized with one option changed, and from a template edited
the way a reviewer would see it (one grant dropped). Each test names the
workflows it expects by hand, from what the change means, not from the code.
"""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from restore_permissions.cli import main
from restore_permissions.diff import DiffReport, compare
from restore_permissions.diff_sources import from_json
from restore_permissions.policy.attacks import ATTACKS, Closure

from .conftest import BUCKET, ROOT, synthesize_example

SNAPSHOTS = ROOT / "tests" / "__snapshots__"
CLI = pathlib.Path(sys.executable).with_name("restore-permissions")


def snapshot(variant: str) -> dict[str, Any]:
    path = SNAPSHOTS / "test_snapshots" / f"test_template_snapshot[{variant}].json"
    value: dict[str, Any] = json.loads(path.read_text())
    return value


def diff(old: dict[str, Any], new: dict[str, Any]) -> DiffReport:
    return compare(from_json(old, "old"), from_json(new, "new"))


def drop_action(template: dict[str, Any], action: str, *, role: bool = False) -> dict[str, Any]:
    """The template with ``action`` taken out of every statement of the identity (or the role)."""
    edited = copy.deepcopy(template)
    for logical_id, resource in edited["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        if logical_id.startswith("VmImportServiceRole") != role:
            continue
        statements = resource["Properties"]["PolicyDocument"]["Statement"]
        for statement in statements:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            statement["Action"] = [a for a in actions if a != action]
        resource["Properties"]["PolicyDocument"]["Statement"] = [
            s for s in statements if s["Action"]
        ]
    return edited


def lost(report: DiffReport) -> set[str]:
    return {c.name for i in report.identities for c in i.changes if c.verb == "lost"}


def gained(report: DiffReport) -> set[tuple[str, str]]:
    return {(c.name, c.bucket) for i in report.identities for c in i.changes if c.verb == "gained"}


def test_the_same_template_changes_nothing() -> None:
    report = diff(snapshot("user_with_key"), snapshot("user_with_key"))
    assert [c for i in report.identities for c in i.changes] == []
    assert [s for i in report.identities for s in i.statements] == []
    assert report.exit_code == 0


def test_dropping_import_snapshot_loses_the_volume_restore_and_its_cancel() -> None:
    old = snapshot("user_with_key")
    report = diff(old, drop_action(old, "ec2:ImportSnapshot"))
    assert lost(report) == {"ebs-volume", "cancel-snapshot-import"}
    assert report.summary_lines() == [
        "ebs-volume restore (my-backups) lost: ec2:ImportSnapshot removed",
        "cancel-snapshot-import restore (my-backups) lost: ec2:ImportSnapshot removed",
    ]
    (identity, _role) = report.identities
    (change, *_) = identity.changes
    assert change.first_call.startswith("step 7 ec2:ImportSnapshot (import the disk as an EBS")
    assert [(s.kind, s.sid, s.details) for s in identity.statements] == [
        ("changed", "Ec2Import", ("Action - ec2:ImportSnapshot",))
    ]
    assert report.exit_code == 1


def test_dropping_a_vmimport_role_grant_loses_every_import_through_it() -> None:
    old = snapshot("user_with_key")
    report = diff(old, drop_action(old, "s3:GetObject", role=True))
    # Every workflow whose import VM Import/Export reads from the bucket.
    assert lost(report) == {"instance", "ami-only", "ebs-volume"}
    for change in report.identities[0].changes:
        assert "vmimport role: s3:GetObject" in change.first_call
    assert report.exit_code == 1


def test_dropping_a_scoped_resource_says_where_it_is_no_longer_allowed() -> None:
    old = snapshot("user_with_key")
    new = copy.deepcopy(old)
    for resource in new["Resources"].values():
        for statement in (
            resource.get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])
        ):
            if statement.get("Sid") == "Ec2CreateVolume":
                statement["Resource"] = [
                    r for r in statement["Resource"] if "snapshot" not in json.dumps(r)
                ]
    report = diff(old, new)
    cause = "ec2:CreateVolume no longer allowed on snapshot (was allowed by Ec2CreateVolume)"
    # The volume restore is lost, and the attack of a volume from someone else's snapshot closes.
    assert [(c.name, c.verb, c.cause) for c in report.identities[0].changes] == [
        ("ebs-volume", "lost", cause),
        ("volume-from-foreign-snapshot", "closed", cause),
    ]


def test_adding_a_bucket_changes_nothing_else() -> None:
    before = json.loads(
        (
            SNAPSHOTS / "test_scale" / "test_adding_a_bucket_keeps_every_logical_id[before].json"
        ).read_text()
    )
    after = json.loads(
        (
            SNAPSHOTS / "test_scale" / "test_adding_a_bucket_keeps_every_logical_id[after].json"
        ).read_text()
    )
    report = diff(before, after)
    assert report.exit_code == 0
    assert lost(report) == set()
    # Only workflows on the new bucket change, and only for the better.
    changes = [c for i in report.identities for c in i.changes]
    assert {c.bucket for c in changes} == {"customer-b-backups"}
    assert {c.verb for c in changes} == {"gained"}
    assert {c.name for c in changes} == {
        "instance",
        "ami-only",
        "ebs-volume",
        "legacy-import",
        "backup-upload",
        "retention",
        "archived-restore",
    }
    statements = {(i.role.value, s.kind, s.sid) for i in report.identities for s in i.statements}
    assert statements == {
        (role, "changed", sid)
        for role in ("restore identity", "vmimport role")
        for sid in ("BackupBucket", "BackupObjects")
    }


@pytest.fixture(scope="module")
def tag_guard_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """The example app without and with the instance-tag guard, nothing else changed."""
    return (
        synthesize_example(bucket_name=BUCKET).template_json,
        synthesize_example(
            bucket_name=BUCKET, instance_tag="restore-permissions=restored"
        ).template_json,
    )


def test_turning_on_the_tag_guard_loses_only_what_it_cannot_serve(
    tag_guard_pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    report = diff(*tag_guard_pair)
    # The two workflows the tag guard cannot serve (their calls cannot tag what they create).
    assert lost(report) == {"legacy-import", "spot-launch"}
    assert gained(report) == set()
    causes = {c.name: c.cause for c in report.identities[0].changes}
    assert "cannot tag what they create" in causes["legacy-import"]


def test_turning_on_the_tag_guard_closes_the_right_attacks(
    tag_guard_pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    report = diff(*tag_guard_pair)
    changes = [c for c in report.identities[0].changes if c.attack]
    closed = {c.name for c in changes if c.verb == "closed"}
    # What a stolen credential could do to instances and AMIs the restore did not create.
    assert closed == {
        "terminate-unlaunched-instance",
        "stop-unlaunched-instance",
        "tag-unlaunched-instance",
        "rename-foreign-ami",
        "userdata-on-unlaunched-instance",
    }
    # Exactly the rows that attacks.py says the tag guard closes; none opens.
    assert closed == {row.name for row in ATTACKS if Closure.TAG_GUARD in row.closed_by}
    assert {c.verb for c in changes} == {"closed"}


def test_the_markdown_for_a_pull_request(tmp_path: pathlib.Path) -> None:
    old = snapshot("user_with_key")
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(drop_action(old, "ec2:ImportSnapshot")))
    result = subprocess.run(
        [str(CLI), "diff", "old.json", "new.json", "--format", "markdown"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "| **lost** | `ebs-volume` (my-backups): Restore as an EBS volume |" in result.stdout
    assert "| changed | `Ec2Import` | Action - ec2:ImportSnapshot |" in result.stdout
    assert result.stderr == ""


def test_json_output_and_exit_zero(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(snapshot("user_with_key")))
    assert main(["diff", str(old), str(old), "--format", "json"]) == 0
    value = json.loads(capsys.readouterr().out)
    assert value["worse"] is False
    assert [i["role"] for i in value["identities"]] == ["restore identity", "vmimport role"]
    sizes = {s["policy"]: s["new"] for s in value["identities"][0]["sizes"]}
    assert all(
        0 < size <= s["limit"] for s in value["identities"][0]["sizes"] for size in [s["new"]]
    )
    assert len(sizes) == 2


def test_a_policy_file_against_a_template(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `policy` prints, with --account, against the same options' template.
    assert main(["policy", "--bucket", BUCKET, "--account", "111122223333"]) == 0
    (tmp_path / "policy.json").write_text(capsys.readouterr().out)
    (tmp_path / "template.json").write_text(json.dumps(snapshot("user_with_key")))
    code = main(["diff", str(tmp_path / "template.json"), str(tmp_path / "policy.json")])
    out = capsys.readouterr().out
    # The policy file holds the restore identity only: its workflows through VM Import/Export
    # cannot be judged without the role, and are reported as unknown, not lost.
    assert code == 0, out
    assert "LOST" not in out
    assert "UNKNOWN instance (my-backups)" in out
    assert "statement" not in out.split("vmimport role:")[0]  # the same statements


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "only-one.json"], "diff needs OLD and NEW"),
        (["diff", "missing.json", "missing.json"], "cannot read 'missing.json'"),
        (["diff", "--deployed", "a.json"], "--deployed needs --stack NAME"),
        (["diff", "--stack", "S", "a.json", "b.json"], "with --stack give NEW only"),
        (["diff", "bad.json", "bad.json"], "'bad.json' is not JSON"),
        (["diff", "list.json", "list.json"], "neither a CloudFormation template nor"),
    ],
)
def test_a_diff_that_cannot_run_exits_2_with_one_line(
    tmp_path: pathlib.Path, argv: list[str], message: str
) -> None:
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "list.json").write_text("[]")
    result = subprocess.run(
        [str(CLI), *argv], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_diff_loads_neither_cdk_nor_boto3(tmp_path: pathlib.Path) -> None:
    path = SNAPSHOTS / "test_snapshots" / "test_template_snapshot[kb1025].json"
    code = (
        "import sys\n"
        "from restore_permissions.cli import main\n"
        f"main(['diff', {str(path)!r}, {str(path)!r}])\n"
        "print(sorted(m for m in ('boto3', 'aws_cdk', 'jsii') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_a_failing_snapshot_says_what_the_change_does_to_restores() -> None:
    from .test_snapshots import restore_impact  # noqa: PLC0415 - the message test_snapshots uses

    message = restore_impact(
        "user_with_key", drop_action(snapshot("user_with_key"), "ec2:ImportSnapshot")
    )
    assert (
        "ebs-volume restore (my-backups) lost: ec2:ImportSnapshot removed"
        in message.splitlines()[1]
    )
    assert "restore identity changed Ec2Import (Action - ec2:ImportSnapshot)" in message


def test_snapshot_update_prints_the_impact_of_every_rewritten_snapshot(
    tmp_path: pathlib.Path,
) -> None:
    before, after = tmp_path / "before" / "test_snapshots", tmp_path / "after" / "test_snapshots"
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    for variant in ("user_with_key", "kb1025"):
        name = f"test_template_snapshot[{variant}].json"
        (before / name).write_text(json.dumps(snapshot(variant)))
        (after / name).write_text(json.dumps(snapshot(variant)))
    rewritten = after / "test_template_snapshot[user_with_key].json"
    rewritten.write_text(json.dumps(drop_action(snapshot("user_with_key"), "ec2:ImportSnapshot")))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "snapshot_impact.py"),
            str(before.parent),
            str(after.parent),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == f"{rewritten}:"
    assert "    ebs-volume restore (my-backups) lost: ec2:ImportSnapshot removed" in lines
    assert "kb1025" not in result.stdout  # unchanged snapshots are not reported


def test_granting_pass_role_opens_the_launch_with_a_role() -> None:
    old = snapshot("user_with_key")
    new = copy.deepcopy(old)
    policy = new["Resources"]["RestorePolicyB065ADAD"]["Properties"]["PolicyDocument"]
    policy["Statement"].append(
        {"Sid": "HandAdded", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    )
    report = diff(old, new)
    opened = {c.name for c in report.worse}
    # iam:PassRole is the missing half of a launch with a role (RunInstances is granted); the
    # association rows still need ec2:AssociateIamInstanceProfile / Replace..., never granted.
    assert opened == {"launch-with-instance-profile"}
    assert all(c.verb == "opened" and c.attack for c in report.worse)
    assert lost(report) == set()
    assert report.exit_code == 1
