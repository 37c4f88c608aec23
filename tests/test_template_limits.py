"""CloudFormation's template limits fail synth, naming the stack, the measure and the fix."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest

from restore_permissions import RestorePermissions
from restore_permissions.template_limits import INLINE_CONTEXT, TemplateLimits

from .conftest import new_app


def write(tmp_path: pathlib.Path, template: Mapping[str, Any], pad: int = 0) -> pathlib.Path:
    path = tmp_path / "Customers.template.json"
    text = json.dumps(template)
    path.write_text(text + " " * pad)
    return path


def test_a_template_within_every_limit_has_no_problem(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, {"Resources": {"A": {}}, "Outputs": {"O": {}}}, pad=999_000)
    assert TemplateLimits().problems(path) == []


def test_past_1_000_000_bytes_from_s3(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, {"Resources": {}}, pad=1_000_000)
    ((rule, description, fix),) = TemplateLimits().problems(path)
    assert rule == "TemplateSize"
    assert description == (
        "stack 'Customers': the template is 1,000,017 bytes; CloudFormation accepts 1,000,000 "
        "for a template read from S3"
    )
    assert fix == "spread the customers over more stacks, or use create_outputs=False"


def test_past_51_200_bytes_inline(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, {"Resources": {}}, pad=51_200)
    ((rule, description, _),) = TemplateLimits(inline=True).problems(path)
    assert rule == "TemplateSize"
    assert description.endswith("CloudFormation accepts 51,200 for a template passed inline")
    assert TemplateLimits(inline=False).problems(path) == []


def test_resources_and_outputs(tmp_path: pathlib.Path) -> None:
    template: dict[str, Any] = {
        "Resources": {f"R{i}": {} for i in range(501)},
        "Outputs": {f"O{i}": {} for i in range(201)},
    }
    found = {rule: text for rule, text, _ in TemplateLimits().problems(write(tmp_path, template))}
    assert found == {
        "ResourceCount": "stack 'Customers': 501 resources; CloudFormation allows 500",
        "OutputCount": "stack 'Customers': 201 outputs; CloudFormation allows 200",
    }


@pytest.mark.parametrize("inline", [False, True], ids=["from S3", "inline"])
def test_synth_fails_only_past_the_limit_that_applies(inline: bool) -> None:
    app = new_app(**({INLINE_CONTEXT: "true"} if inline else {}))
    stack = cdk.Stack(app, "Customers")
    for i in range(25):
        RestorePermissions(
            stack, f"Customer{i}", bucket=f"customer-{i}-backups", create_outputs=False
        )
    if inline:
        with pytest.raises(RuntimeError, match="ValidationFailed"):
            app.synth()
    else:
        app.synth()


def exactly(tmp_path: pathlib.Path, size: int, **template: Any) -> pathlib.Path:
    """A template file of exactly ``size`` bytes."""
    path = write(tmp_path, template)
    return write(tmp_path, template, pad=size - path.stat().st_size)


@pytest.mark.parametrize(
    ("limits", "limit"),
    [(TemplateLimits(), 1_000_000), (TemplateLimits(inline=True), 51_200)],
    ids=["from S3", "inline"],
)
def test_a_template_of_exactly_the_size_limit_passes_and_one_byte_more_fails(
    tmp_path: pathlib.Path, limits: TemplateLimits, limit: int
) -> None:
    at_limit = exactly(tmp_path, limit, Resources={"A": {}})
    assert at_limit.stat().st_size == limit
    assert limits.problems(at_limit) == []
    past = exactly(tmp_path, limit + 1, Resources={"A": {}})
    assert [rule for rule, _, _ in limits.problems(past)] == ["TemplateSize"]


def test_exactly_500_resources_and_200_outputs_pass(tmp_path: pathlib.Path) -> None:
    # CloudFormation's quotas are "500 resources" and "200 outputs" per stack: both accepted.
    template: dict[str, dict[str, Any]] = {
        "Resources": {f"R{i}": {} for i in range(500)},
        "Outputs": {f"O{i}": {} for i in range(200)},
    }
    assert TemplateLimits().problems(write(tmp_path, template)) == []
    template["Resources"]["R500"] = {}
    assert [rule for rule, _, _ in TemplateLimits().problems(write(tmp_path, template))] == [
        "ResourceCount"
    ]


def test_the_construct_accepts_exactly_200_outputs() -> None:
    # 5 outputs per user-mode customer (name, ARN, policies, key id, secret ARN)
    # and the stack's one vmimport output: 39 customers make 196, then 4 of the app's own.
    app = new_app()
    stack = cdk.Stack(app, "Customers")
    for i in range(39):
        RestorePermissions(stack, f"Customer{i}", bucket=f"customer-{i}-backups")
    for i in range(4):
        cdk.CfnOutput(stack, f"Own{i}", value="x")
    template = app.synth().get_stack_by_name("Customers").template
    assert len(template["Outputs"]) == 200
    cdk.CfnOutput(stack, "OneMore", value="x")
    with pytest.raises(RuntimeError, match="has 201 outputs; CloudFormation allows 200"):
        app.synth(force=True)
