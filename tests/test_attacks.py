"""The attack matrix: every attack row under every profile and option set.

An attack succeeds only if every call is allowed on every resource it
touches (tests/oracle.py, a test-only evaluator, judges each request). Each
row's verdict must be the one its closures promise, and the same run proves
that every restore workflow still passes (tests/test_workflows.py runs the same
option sets), so the attack rows cannot be closed by denying everything.
"""

from __future__ import annotations

import json

import pytest

from restore_permissions.policy.attacks import ATTACKS, Attack, AttackKind, Closure, attack
from restore_permissions.policy.workflows import Actor, Tagging, explain_calls

from .workflow_matrix import OPTION_SETS, OptionSet, Policies, evaluate_call, render

_RENDERED = {option_set.name: render(option_set) for option_set in OPTION_SETS}


def attack_allowed(row: Attack, option_set: OptionSet, policies: Policies) -> bool:
    return all(evaluate_call(call, option_set.target, policies) for call in row.calls)


@pytest.mark.parametrize("option_set", OPTION_SETS, ids=lambda o: o.name)
def test_every_attack_is_denied_exactly_where_its_closures_promise(option_set: OptionSet) -> None:
    policies = _RENDERED[option_set.name]
    wrong = [
        f"{row.name}: {'allowed' if allowed else 'denied'}, promised "
        f"{'denied' if row.expected_denied(option_set.options) else 'allowed'}"
        for row in ATTACKS
        if (allowed := attack_allowed(row, option_set, policies))
        is row.expected_denied(option_set.options)
    ]
    assert wrong == []


@pytest.mark.parametrize("option_set", OPTION_SETS, ids=lambda o: o.name)
def test_the_catalogue_explains_each_attack_as_the_evaluator_judges_it(
    option_set: OptionSet,
) -> None:
    """``explain --blast-radius`` reads the statement specs; it must agree with IAM's logic."""
    policies = _RENDERED[option_set.name]
    for row in ATTACKS:
        granted = all(
            grant.granted
            for grant in explain_calls(row.calls, option_set.options, kms=option_set.kms)
        )
        assert granted is attack_allowed(row, option_set, policies), row.name


def test_default_profile_allows_no_escalation_and_no_destruction_of_what_has_a_role() -> None:
    default = next(o for o in OPTION_SETS if o.name == "least-privilege")
    policies = _RENDERED[default.name]
    open_rows = {row.name for row in ATTACKS if attack_allowed(row, default, policies)}
    escalation = {r.name for r in ATTACKS if r.kind is AttackKind.PRIVILEGE_ESCALATION}
    assert not open_rows & escalation
    with_role = {
        r.name
        for r in ATTACKS
        if r.kind is AttackKind.DESTRUCTION
        and any(t.with_instance_profile for c in r.calls for t in c.touches)
    }
    assert with_role and not open_rows & with_role
    # What stays open by default, each closed by an option or documented as residual.
    assert open_rows == {
        "terminate-unlaunched-instance",
        "stop-unlaunched-instance",
        "delete-backups",
        "delete-backup-versions",
        "overwrite-backups",
        "weaken-object-lock",
        "launch-from-foreign-ami",
        "volume-from-foreign-snapshot",
        "tag-unlaunched-instance",
        "rename-foreign-ami",
        "userdata-on-unlaunched-instance",
    }


def test_tag_guard_with_restore_only_leaves_only_the_documented_residuals_open() -> None:
    guarded = next(o for o in OPTION_SETS if o.name == "tag-restore-only")
    policies = _RENDERED[guarded.name]
    open_rows = {row.name for row in ATTACKS if attack_allowed(row, guarded, policies)}
    assert open_rows == {row.name for row in ATTACKS if row.residual}
    assert open_rows == {"launch-from-foreign-ami", "volume-from-foreign-snapshot"}


def test_kb1025_is_measured_too() -> None:
    kb1025 = next(o for o in OPTION_SETS if o.name == "kb1025")
    policies = _RENDERED[kb1025.name]
    open_rows = {row.name for row in ATTACKS if attack_allowed(row, kb1025, policies)}
    assert {"userdata-then-restart", "delete-bucket", "make-backups-public"} <= open_rows


def test_attack_rows_are_well_formed() -> None:
    assert len(ATTACKS) >= 30
    assert len({row.name for row in ATTACKS}) == len(ATTACKS)
    assert {row.kind for row in ATTACKS} == set(AttackKind)
    for row in ATTACKS:
        assert row.source, row.name
        # A residual says why no option of the default profile closes the row.
        assert bool(row.residual) is (set(row.closed_by) <= {Closure.KB1025}), row.name
        for call in row.calls:
            assert call.actor is Actor.IDENTITY
            # The holder may tag what it creates; nothing it attacks carries the tag.
            assert all(t.tagging is not Tagging.ON_RESOURCE for t in call.touches), row.name
    assert {c for row in ATTACKS for c in row.closed_by} == set(Closure)


def test_an_unknown_attack_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"attack 'nope' is unknown: use one of userdata-then"):
        attack("nope")


def test_explain_blast_radius_prints_each_row_with_the_evaluators_verdict(capsys) -> None:
    from restore_permissions.cli import main  # noqa: PLC0415

    assert main(["explain", "--blast-radius", "--restore-only", "--format", "json"]) == 0
    records = {r["attack"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(records) == {row.name for row in ATTACKS}
    restore_only = next(o for o in OPTION_SETS if o.name == "restore-only")
    policies = _RENDERED[restore_only.name]
    for row in ATTACKS:
        # The option set has a KMS key; the CLI without --kms-key has none, and no
        # row is open only through the key.
        assert records[row.name]["allowed"] is attack_allowed(row, restore_only, policies)
    assert records["delete-backups"]["denied_at"] == "s3:DeleteObject"
    assert records["terminate-unlaunched-instance"]["closed_by"] == ["instance_tag"]
