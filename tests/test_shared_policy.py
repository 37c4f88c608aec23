"""The stack's shared policy is created with its statements; statements added to it
later must still fit, or synth says so (it cannot split as an identity's own
policy does)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from restore_permissions import RestoreIdentity, RestorePermissions

from .conftest import new_app


def _with_added(resources: int) -> tuple[dict[str, Any], list[str], str]:
    """A stack whose shared policy gets one more statement naming ``resources`` buckets:
    its template, its error messages and the shared policy's path. CDK raises
    at synth on an error: its message is returned as the one error."""
    app = new_app()
    stack = cdk.Stack(app, "Test")
    restore = RestorePermissions(
        stack,
        "Restore",
        bucket="my-backups",
        identity=RestoreIdentity.role(assumed_by=iam.AccountPrincipal("111122223333")),
        create_outputs=False,
    )
    shared = restore.managed_policies[-1]
    assert "RestorePermissionsShared" in shared.node.path
    shared.add_statements(
        iam.PolicyStatement(
            sid="AddedByTheApp",
            actions=["s3:GetObject"],
            resources=[f"arn:aws:s3:::added-{i:04d}-{'x' * 50}/*" for i in range(resources)],
        )
    )
    try:
        artifact = app.synth().get_stack_by_name("Test")
    except RuntimeError as error:
        (line,) = [line for line in str(error).splitlines() if line.startswith("ValidationFailed")]
        return {}, [line.removeprefix("ValidationFailed: ERROR ")], shared.node.path
    errors = [str(m.entry.data) for m in artifact.messages if m.level.name == "ERROR"]
    return artifact.template, errors, shared.node.path


def _shared_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (shared,) = [
        resource
        for logical_id, resource in template["Resources"].items()
        if logical_id.startswith("RestorePermissionsShared")
    ]
    return list(shared["Properties"]["PolicyDocument"]["Statement"])


def test_a_statement_that_fits_is_added_to_the_shared_policy() -> None:
    template, errors, _ = _with_added(1)
    assert errors == []
    statements = _shared_statements(template)
    assert statements[-1]["Sid"] == "AddedByTheApp"
    assert len({s["Sid"] for s in statements}) == len(statements) > 1


def test_statements_that_do_not_fit_the_shared_policy_fail_synth() -> None:
    # 100 ARNs of about 70 characters: more than the room the shared statements leave.
    _, errors, path = _with_added(100)
    assert errors == [
        f"1 statements added to {path} leave no room for its own in one managed policy "
        "(6,144 characters): add them to a policy of your own instead (Annotation)"
    ]
