"""Two identities on one bucket, as the README's "Two identities" section builds them.

The backup host's identity keeps the backup side; the restore host's identity
(``restore_only=True``) restores but can neither delete nor overwrite a backup.
Both are judged on their own synthesized documents (their policy and the
stack's shared one), with the workflow matrix and the attack rows.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from restore_permissions import PolicyProfile, RestorePermissions
from restore_permissions.policy import PolicyOptions
from restore_permissions.policy.attacks import attack
from restore_permissions.policy.workflows import WORKFLOWS, Availability

from .conftest import PSEUDO, Synthesized, resolve_cfn, synthesize_stack
from .oracle import as_policy
from .workflow_matrix import OptionSet, Policies, evaluate, evaluate_call, rows_for


@pytest.fixture(scope="module")
def two_hosts() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        RestorePermissions(stack, "BackupHost", bucket="my-backups")
        RestorePermissions(
            stack,
            "RestoreHost",
            bucket="my-backups",
            profile=PolicyProfile.least_privilege(restore_only=True),
        )

    return synthesize_stack(build)


def documents_of(synth: Synthesized, host: str) -> Policies:
    """The host identity's statements: its own policies and the shared ones attached to it."""
    policies = synth.resources("AWS::IAM::ManagedPolicy")
    group = next(iter(k for k in synth.resources("AWS::IAM::Group") if k.startswith(host)))
    statements: list[Any] = []
    for policy in policies.values():
        groups = policy["Properties"].get("Groups", [])
        if {"Ref": group} in groups:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    identity = {"Version": "2012-10-17", "Statement": statements}
    assert statements, f"no policy attached to {host}'s group"
    role = synth.policy_document("vmimport")
    return Policies(
        as_policy(resolve_cfn(identity, PSEUDO)), as_policy(resolve_cfn(role, PSEUDO), "vmimport")
    )


@pytest.mark.parametrize(
    ("host", "options"),
    [("BackupHost", PolicyOptions()), ("RestoreHost", PolicyOptions(restore_only=True))],
)
def test_each_host_serves_its_workflows_on_its_own_documents(
    two_hosts: Synthesized, host: str, options: PolicyOptions
) -> None:
    option_set = OptionSet(host, options)
    policies = documents_of(two_hosts, host)
    for flow in WORKFLOWS:
        status, rows = rows_for(option_set, flow)
        results = [evaluate(row, policies) is row.expected for row in rows]
        if status is Availability.SERVED:
            assert all(results), flow.name
        else:
            assert not all(evaluate(row, policies) for row in rows), flow.name


@pytest.mark.parametrize(("host", "destroys"), [("BackupHost", True), ("RestoreHost", False)])
def test_only_the_backup_host_can_delete_or_overwrite_backups(
    two_hosts: Synthesized, host: str, destroys: bool
) -> None:
    policies = documents_of(two_hosts, host)
    target = OptionSet(host, PolicyOptions()).target
    for name in (
        "delete-backups",
        "delete-backup-versions",
        "overwrite-backups",
        "weaken-object-lock",
    ):
        row = attack(name)
        assert all(evaluate_call(c, target, policies) for c in row.calls) is destroys, name
