"""The library relies on no cdk.json feature flag: what README.md's "CDK settings" says.

A consumer app (a bucket in one stack, RestorePermissions in another) is built
with the context `cdk init` writes (the CLI's recommended feature flags, which
this repository's cdk.json also holds) and with none (`{"app": ...}` only). The
policies grant the same; the differences are the ones the README lists.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from restore_permissions import RestorePermissions

from .conftest import ROOT

#: What `cdk init` puts in cdk.json's context, for the project's CDK CLI.
CDK_INIT_CONTEXT = json.loads(
    (ROOT / "node_modules/aws-cdk/lib/init-templates/.recommended-feature-flags.json").read_text()
)
STRENGTH = "@aws-cdk/core:defaultCrossStackReferences"


def consumer(context: dict[str, Any]) -> tuple[dict[str, Any], list[str], int]:
    """The restore stack's template, its warnings, and the AwsSolutions findings."""
    app = cdk.App(context=context)
    bucket = s3.Bucket(
        cdk.Stack(app, "Storage"), "Archive", enforce_ssl=True, server_access_logs_prefix="logs/"
    )
    stack = cdk.Stack(app, "BackupRestore")
    RestorePermissions(stack, "Restore", buckets=["my-backups", bucket])
    artifact = app.synth().get_stack_by_name("BackupRestore")
    warnings = [str(m.entry.data) for m in artifact.messages if m.level.name == "WARNING"]
    findings = len(AwsSolutionsChecks().validate_scope(app).violations)
    return artifact.template, warnings, findings


def _references_as_one(value: Any) -> Any:
    """A weak (Fn::GetStackOutput) or strong (Fn::ImportValue) reference, as one placeholder."""
    if isinstance(value, dict):
        if set(value) & {"Fn::GetStackOutput", "Fn::ImportValue"}:
            return "REFERENCE TO Storage/Archive"
        return {key: _references_as_one(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_references_as_one(item) for item in value]
    return value


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, rest of the statement) pairs: the same grants however statements are merged."""
    return {
        (action, json.dumps({k: v for k, v in s.items() if k != "Action"}, sort_keys=True))
        for s in statements
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }


def test_cdk_init_context_is_this_repositorys() -> None:
    assert json.loads((ROOT / "cdk.json").read_text())["context"] == CDK_INIT_CONTEXT


def test_a_consumer_app_grants_the_same_without_any_feature_flag() -> None:
    init, init_warnings, init_findings = consumer(CDK_INIT_CONTEXT)
    bare, bare_warnings, bare_findings = consumer({})
    assert (init_findings, bare_findings) == (0, 0)
    assert sorted(init["Resources"]) == sorted(bare["Resources"])
    for logical_id, resource in init["Resources"].items():
        other = bare["Resources"][logical_id]
        if resource["Type"] == "AWS::KMS::Key":
            # @aws-cdk/aws-iam:minimizePolicies merges the key policy's statements.
            assert _grants(resource["Properties"]["KeyPolicy"]["Statement"]) == _grants(
                other["Properties"]["KeyPolicy"]["Statement"]
            )
            continue
        # The bucket of the other stack: Fn::GetStackOutput ("weak", cdk init) or
        # Fn::ImportValue ("strong", CDK's default without the flag).
        assert _references_as_one(resource) == _references_as_one(other), logical_id
    assert "Fn::GetStackOutput" in json.dumps(init) and "Fn::ImportValue" in json.dumps(bare)
    # Only the bare app is told to choose a strength.
    assert [w for w in bare_warnings if "cross-stack-reference strength" in w]
    assert not [w for w in init_warnings if "cross-stack-reference strength" in w]


def test_the_readme_names_the_settings() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### CDK settings in cdk.json") :]
    section = section[: section.index("\n## ")]
    for setting in (STRENGTH, "@aws-cdk/aws-iam:minimizePolicies", "versionReporting"):
        assert setting in section
