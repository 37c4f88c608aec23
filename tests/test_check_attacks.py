"""``check --attacks`` against a stubbed IAM policy simulator answered by the offline evaluator.

The requests are built by tests/test_check.py's ``expected_request``, from the
IAM API reference, not by the code under test; botocore's Stubber also checks
them against IAM's service model. Each answer is the test-only oracle's
verdict (tests/oracle.py) on the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from restore_permissions import check
from restore_permissions.policy import PolicyOptions, PolicyProfile, PolicyTargets, identity_policy
from restore_permissions.policy.attacks import ATTACKS, Attack
from restore_permissions.policy.workflows import Target

from .test_check import (
    ACCOUNT,
    BUCKET,
    REGION,
    USER_ARN,
    Oracle,
    StubbedSession,
    expected_request,
    run,
)

TARGET = Target(account=ACCOUNT, region=REGION, bucket=BUCKET)


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedSession]:
    stubbed = StubbedSession()
    monkeypatch.setattr(check, "_new_session", lambda: stubbed)
    yield stubbed


TAG = ("restore-permissions", "restored")


def queue_attacks(
    session: StubbedSession,
    oracle: Oracle,
    target: Target,
    *,
    custom: bool,
    attacks: Sequence[Attack] = ATTACKS,
) -> set[str]:
    """Queue what check asks, in order: each attack's calls up to its first denial.

    Returns the attacks the evaluator allows (every call allowed on every resource).
    """
    seen: set[str] = set()
    allowed = set()
    for row in attacks:
        for call in row.calls:
            request = expected_request(call, target)
            answer = oracle.answer(call.actor, request)
            key = json.dumps(request, sort_keys=True)
            if key not in seen:
                seen.add(key)
                source: dict[str, Any] = (
                    {"PolicyInputList": [json.dumps(d) for d in oracle.identity]}
                    if custom
                    else {"PolicySourceArn": USER_ARN}
                )
                operation = "simulate_custom_policy" if custom else "simulate_principal_policy"
                session.stub("iam").add_response(
                    operation,
                    {"EvaluationResults": answer, "IsTruncated": False},
                    {**source, **request, "MaxItems": 100},
                )
            if answer[0]["EvalDecision"] != "allowed":
                break
        else:
            allowed.add(row.name)
    return allowed


def policy_file(tmp_path, options: PolicyOptions) -> tuple[str, dict[str, Any]]:
    targets = PolicyTargets.for_buckets([BUCKET], account=ACCOUNT, regions=options.allowed_regions)
    document = identity_policy(options, targets)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    return str(path), document


ARGS = ("--bucket", BUCKET, "--account", ACCOUNT, "--region", REGION, "--attacks")


def test_default_policy_keeps_every_promise(session: StubbedSession, tmp_path) -> None:
    path, document = policy_file(tmp_path, PolicyOptions())
    allowed = queue_attacks(session, Oracle([document]), TARGET, custom=True)
    code, out, err = run("--policy-file", path, *ARGS, "--format", "json")
    session.assert_no_pending_responses()
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["passed"] is True
    assert {a["attack"] for a in report["attacks"] if a["allowed"]} == allowed
    assert "userdata-then-restart" not in allowed
    assert "delete-backups" in allowed  # not promised: closed by --restore-only
    (escalation,) = [a for a in report["attacks"] if a["attack"] == "userdata-then-restart"]
    assert escalation["denied_at"]["action"] == "ec2:StopInstances"
    assert escalation["denied_at"]["decision"] == "implicitDeny"


def test_a_broken_promise_exits_1(session: StubbedSession, tmp_path) -> None:
    """KB 1025's policy checked against the default profile's promises: escalation is open."""
    path, document = policy_file(tmp_path, PolicyOptions(profile=PolicyProfile.KB1025))
    allowed = queue_attacks(session, Oracle([document]), TARGET, custom=True)
    code, out, _ = run("--policy-file", path, *ARGS)
    session.assert_no_pending_responses()
    assert code == 1
    assert "userdata-then-restart" in allowed
    assert "userdata-then-restart              ALLOWED, promised denied" in out
    assert out.splitlines()[-1].endswith("the options promise to deny")


def test_tag_guard_and_restore_only_leave_only_the_residual_rows(
    session: StubbedSession, tmp_path
) -> None:
    options = PolicyOptions(instance_tag=TAG, restore_only=True)
    path, document = policy_file(tmp_path, options)
    target = Target(account=ACCOUNT, region=REGION, bucket=BUCKET, instance_tag=TAG)
    allowed = queue_attacks(session, Oracle([document]), target, custom=True)
    code, out, _ = run(
        "--policy-file",
        path,
        *ARGS,
        "--instance-tag",
        "=".join(TAG),
        "--restore-only",
        "--format",
        "json",
    )
    session.assert_no_pending_responses()
    assert code == 0
    assert allowed == {"launch-from-foreign-ami", "volume-from-foreign-snapshot"}
    assert {a["attack"] for a in json.loads(out)["attacks"] if a["allowed"]} == allowed


def test_a_deployed_identity_is_simulated_by_its_arn(session: StubbedSession, tmp_path) -> None:
    _, document = policy_file(tmp_path, PolicyOptions())
    queue_attacks(session, Oracle([document]), TARGET, custom=False)
    code, out, _ = run("--principal-arn", USER_ARN, *ARGS)
    session.assert_no_pending_responses()
    assert code == 0
    assert out.startswith(f"Attacks simulated: {USER_ARN}\n")
