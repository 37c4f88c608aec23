"""The README's Python examples run as written."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from .conftest import ROOT, new_app

EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) == 4


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
