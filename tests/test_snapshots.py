"""Template snapshots, for review, and cfn-lint on every synthesized template.

After an intended change, run `make snapshot-update`, read `git diff
tests/__snapshots__`, and say in the commit message why each template changed.
A failing snapshot says first what the change does to restores (which
workflows are lost or gained, which attack rows open or close), from
`restore-permissions diff` between the stored snapshot and the new template.
"""

from __future__ import annotations

import json
import pathlib

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from restore_permissions.diff import template_impact

from .conftest import EXAMPLE_VARIANTS, Synthesized

VARIANTS = [*EXAMPLE_VARIANTS, "two_in_one_stack"]
STORED = pathlib.Path(__file__).parent / "__snapshots__" / "test_snapshots"


def restore_impact(variant: str, template: dict[str, object]) -> str:
    """What the new template does to restores, against the stored snapshot (for the failure)."""
    stored = STORED / f"test_template_snapshot[{variant}].json"
    if not stored.exists():
        return "no stored snapshot yet"
    return template_impact(json.loads(stored.read_text()), template)


def synthesized(
    examples: dict[str, Synthesized], two_in_one_stack: Synthesized, variant: str
) -> Synthesized:
    return two_in_one_stack if variant == "two_in_one_stack" else examples[variant]


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("variant", VARIANTS)
def test_template_snapshot(
    examples: dict[str, Synthesized],
    two_in_one_stack: Synthesized,
    variant: str,
    json_snapshot: SnapshotAssertion,
) -> None:
    template = synthesized(examples, two_in_one_stack, variant).template_json
    # The message is built only when the snapshot differs.
    assert template == json_snapshot, restore_impact(variant, template)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cfn_lint_finds_nothing(
    examples: dict[str, Synthesized], two_in_one_stack: Synthesized, variant: str
) -> None:
    from cfnlint.api import ManualArgs, lint  # noqa: PLC0415 - 1 s to import; only here

    template = json.dumps(synthesized(examples, two_in_one_stack, variant).template_json)
    # Every rule, informational ones included, in the three partitions' main Regions.
    matches = lint(
        template,
        config=ManualArgs(
            regions=["us-east-1", "cn-north-1", "us-gov-west-1"], include_checks=["I"]
        ),
    )
    assert [str(match) for match in matches] == []


def test_cfn_lint_would_report_the_seed_policys_invalid_actions() -> None:
    from cfnlint.api import ManualArgs, lint  # noqa: PLC0415 - 1 s to import; only here

    # The check above can fail: the KB 1025 policy as published draws W3037.
    template = {
        "Resources": {
            "Seed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["ami:ListRoles", "ec2:CancelImportTasks"],
                                "Resource": "*",
                            }
                        ],
                    }
                },
            }
        }
    }
    rules = {
        match.rule.id
        for match in lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    }
    assert "W3037" in rules
