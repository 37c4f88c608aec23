"""CDK's own CloudFormation validation finds nothing in the example's templates.

The tests turn CDK's automatic validation off (tests/conftest.py says why) and
add it by hand to the example apps. This checks what it reports there, with a
control that the same way of adding it reports a template it should refuse.
"""

from __future__ import annotations

import pathlib

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from .conftest import (
    EXAMPLE_VARIANTS,
    Synthesized,
    add_cloudformation_validate,
    cloudformation_validate_findings,
    new_app,
)


@pytest.mark.parametrize("variant", EXAMPLE_VARIANTS)
def test_the_example_variants_have_no_findings(
    variant: str, examples: dict[str, Synthesized]
) -> None:
    assert cloudformation_validate_findings(examples[variant].app) == []


def test_a_template_it_refuses_has_a_finding() -> None:
    # cdk.json turns on "@aws-cdk/core:validateAgainstDefaultRules": a finding fails synth.
    app = add_cloudformation_validate(new_app())
    iam.CfnUser(cdk.Stack(app, "Bad"), "User", path="no-leading-slash")
    with pytest.raises(RuntimeError, match=r"ERROR Path: 'no-leading-slash' does not match"):
        app.synth()
    (finding,) = cloudformation_validate_findings(app)
    assert finding.startswith("F3031: Path: 'no-leading-slash' does not match pattern"), finding


def test_without_the_plugin_the_tests_apps_are_not_validated() -> None:
    """The other half of the pair: CDK_VALIDATION=false is what keeps the tests fast."""
    app = new_app()
    iam.CfnUser(cdk.Stack(app, "Bad"), "User", path="no-leading-slash")
    app.synth()  # no error, and no validation report written
    assert not (pathlib.Path(app.outdir) / "validation-report.json").exists()
