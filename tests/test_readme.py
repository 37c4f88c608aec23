"""The README's Python examples run as written."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from .conftest import ROOT, new_app
from .test_evaluation import ROWS
from .test_moto import ASSUME_ROWS, IDENTITY_CALLS

EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) == 9


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_synthesizes_and_passes_nag(code: str) -> None:
    app = new_app()
    namespace: dict[str, object] = {}
    if "self" in code:  # the snippets that compose into a stack run inside one
        namespace["self"] = cdk.Stack(app, "Readme")
    exec(compile(code, "README.md", "exec"), namespace)
    for scope in [namespace.get("app"), app]:
        if isinstance(scope, cdk.App) and scope.node.children:
            scope.synth()
            # The snippets' own resources (for example a bucket without access
            # logs) may draw findings; the construct's findings are acknowledged.
            report = AwsSolutionsChecks().validate_scope(scope)
            assert not [
                v.rule_name
                for v in report.violations
                if "IAM" in v.rule_name or "SMG" in v.rule_name
            ]


def evidence_table() -> str:
    """The allowed/denied table of test_moto.py and test_evaluation.py, as the README shows it."""
    lines = ["| Request | Who | Expected | Judged by |", "| --- | --- | --- | --- |"]
    for call in IDENTITY_CALLS:
        who = "user" if "AttachUserPolicy" in call.what else "user, role session"
        lines.append(f"| `{call.what}` | {who} | {call.expected} | moto |")
    for what, outcome, engine in ASSUME_ROWS:
        lines.append(f"| `sts:AssumeRole` with {what} | backup agent | {outcome} | {engine} |")
    for variant, what, action, _resource, _context, allowed in ROWS:
        lines.append(
            f"| `{action}`: {what} | {variant} example | {'allowed' if allowed else 'denied'} | principalmapper |"
        )
    return "\n".join(lines) + "\n"


def test_readme_shows_the_evidence_table_the_tests_run() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- evidence-table:start -->\n", "<!-- evidence-table:end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)] == evidence_table()
