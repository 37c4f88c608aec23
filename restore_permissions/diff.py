"""``restore-permissions diff``: what a change of policies does to restores.

    restore-permissions diff OLD.template.json NEW.template.json [--format markdown]
    restore-permissions diff --stack RestorePermissions cdk.out/RestorePermissions.template.json
    restore-permissions diff --stack RestorePermissions --deployed

For each identity both sides hold (the restore user or role, and the vmimport
role) it reports the restore workflows gained and lost with the first call
that changed, the attack rows opened and closed, the statements added,
removed and changed (by Sid), and each managed policy's size against IAM's
6,144-character quota. Workflows and attacks are judged offline
(:mod:`.impact`, :mod:`.policy.evaluator`); what cannot be judged is
reported as unknown.

Exit codes: 0 when nothing got worse, 1 when a workflow was lost or an
attack opened, 2 when the diff could not run. boto3 loads only for
``--stack`` (:mod:`.diff_aws`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .diff_sources import DiffError, Identity, Role, Side, from_json, load_file
from .impact import ScenarioResult, Targets, judge_side, targets_for
from .policy import iam_size
from .policy.evaluator import Outcome, matches_action
from .policy.workflows import WORKFLOWS, Actor
from .template_values import Pseudo

PROG = "restore-permissions"


@dataclass(frozen=True)
class Change:
    """One workflow or attack row whose outcome differs between the sides."""

    name: str
    title: str
    attack: bool
    bucket: str
    old: Outcome
    new: Outcome
    #: The first call whose outcome changed, and why, in a few words.
    first_call: str
    cause: str

    @property
    def verb(self) -> str:
        if Outcome.UNKNOWN in (self.old, self.new):
            return "unknown"
        if self.attack:
            return "opened" if self.new is Outcome.ALLOWED else "closed"
        return "gained" if self.new is Outcome.ALLOWED else "lost"

    @property
    def worse(self) -> bool:
        return self.verb in ("lost", "opened")

    def summary(self) -> str:
        """One line: ``ebs-volume restore lost: ec2:ImportSnapshot removed``."""
        where = f" ({self.bucket})" if self.bucket else ""
        subject = f"attack {self.name}" if self.attack else f"{self.name} restore"
        verb = self.verb if self.verb != "unknown" else f"{self.old.value} -> {self.new.value}"
        return f"{subject}{where} {verb}: {self.cause}"


@dataclass(frozen=True)
class StatementChange:
    kind: str  # added, removed, changed
    sid: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicySize:
    name: str
    old: int | None
    new: int | None
    managed: bool


@dataclass
class IdentityDiff:
    key: str
    role: Role
    old_label: str
    new_label: str
    changes: list[Change] = field(default_factory=list)
    statements: list[StatementChange] = field(default_factory=list)
    sizes: list[PolicySize] = field(default_factory=list)
    #: (allowed before, allowed after, judged) workflows; attack rows (open before, after, rows).
    workflow_counts: tuple[int, int, int] = (0, 0, 0)
    attack_counts: tuple[int, int, int] = (0, 0, 0)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.old_label == self.new_label:
            return self.old_label
        return f"{self.old_label} -> {self.new_label}"


@dataclass
class DiffReport:
    old: str
    new: str
    targets: Targets
    identities: list[IdentityDiff]
    unresolved: list[str] = field(default_factory=list)

    @property
    def worse(self) -> list[Change]:
        return [c for i in self.identities for c in i.changes if c.worse]

    @property
    def exit_code(self) -> int:
        return 1 if self.worse else 0

    def summary_lines(self) -> list[str]:
        """One line per changed workflow or attack row, worst first."""
        several = len([i for i in self.identities if i.role is Role.RESTORE]) > 1
        lines = []
        for identity in self.identities:
            prefix = f"{identity.label}: " if several else ""
            ordered = sorted(identity.changes, key=lambda c: (not c.worse, c.verb == "unknown"))
            lines += [prefix + change.summary() for change in ordered]
        return lines


def compare(old: Side, new: Side, *, pseudo: Pseudo | None = None) -> DiffReport:
    """The restore impact of going from ``old`` to ``new``."""
    targets = targets_for([old, new], pseudo or Pseudo())
    pairs = _pairs(old, new)
    if not pairs:
        raise DiffError(
            f"no restore identity or vmimport role found in {old.label!r} or {new.label!r}"
        )
    old_results = judge_side(old, targets)
    new_results = judge_side(new, targets)
    identities = []
    for old_identity, new_identity in pairs:
        found = IdentityDiff(
            key=(new_identity or old_identity).key,  # type: ignore[union-attr]
            role=(new_identity or old_identity).role,  # type: ignore[union-attr]
            old_label=old_identity.label if old_identity else "(none)",
            new_label=new_identity.label if new_identity else "(none)",
        )
        for identity in (old_identity, new_identity):
            if identity is not None and identity.partial:
                found.notes.append(f"{identity.label}: {identity.partial}")
        if found.role is Role.RESTORE:
            before = old_results.get(old_identity.key, []) if old_identity else []
            after = new_results.get(new_identity.key, []) if new_identity else []
            found.changes = _changes(before, after, new_identity)
            found.workflow_counts = _counts(before, after, attack=False)
            found.attack_counts = _counts(before, after, attack=True)
        found.statements = statement_changes(
            old_identity.documents if old_identity else [],
            new_identity.documents if new_identity else [],
        )
        found.sizes = _sizes(old_identity, new_identity)
        identities.append(found)
    return DiffReport(
        old.label,
        new.label,
        targets,
        identities,
        list(dict.fromkeys(old.unresolved + new.unresolved)),
    )


def template_impact(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The restore-impact summary of a template change, for snapshot review.

    One line per workflow or attack row that changed (``ebs-volume restore
    (my-backups) lost: ec2:ImportSnapshot removed``), then the statements
    that changed, by Sid.
    """
    try:
        report = compare(from_json(old, "stored"), from_json(new, "synthesized"))
    except DiffError as error:
        return f"Restore impact: not computed ({error})"
    lines = ["Restore impact (restore-permissions diff):"]
    lines += [f"  {line}" for line in report.summary_lines()] or [
        "  no restore workflow or attack row changed"
    ]
    statements = [
        f"{identity.role.value} {statement.kind} {statement.sid}"
        + (f" ({', '.join(statement.details)})" if statement.kind == "changed" else "")
        for identity in report.identities
        for statement in identity.statements
    ]
    if statements:
        lines.append(f"  statements: {'; '.join(statements)}")
    if report.unresolved:
        lines.append(f"  not resolved (unknown): {', '.join(report.unresolved)}")
    return "\n".join(lines)


def _pairs(old: Side, new: Side) -> list[tuple[Identity | None, Identity | None]]:
    """Identities paired by key; one restore identity on each side pairs whatever its key."""
    old_restore, new_restore = old.restore_identities(), new.restore_identities()
    pairs: list[tuple[Identity | None, Identity | None]] = []
    if len(old_restore) == 1 and len(new_restore) == 1:
        pairs.append((old_restore[0], new_restore[0]))
    else:
        new_by_key = {i.key: i for i in new_restore}
        for identity in old_restore:
            pairs.append((identity, new_by_key.pop(identity.key, None)))
        pairs += [(None, identity) for identity in new_by_key.values()]
    old_role, new_role = old.vm_import_role(), new.vm_import_role()
    if old_role or new_role:
        pairs.append((old_role, new_role))
    return pairs


def _counts(
    before: Sequence[ScenarioResult], after: Sequence[ScenarioResult], *, attack: bool
) -> tuple[int, int, int]:
    def allowed(results: Sequence[ScenarioResult]) -> int:
        return sum(r.outcome is Outcome.ALLOWED for r in results if r.attack is attack)

    return allowed(before), allowed(after), len([r for r in after or before if r.attack is attack])


def _changes(
    before: Sequence[ScenarioResult], after: Sequence[ScenarioResult], identity: Identity | None
) -> list[Change]:
    after_by_key = {(r.name, r.bucket, r.attack): r for r in after}
    changes = []
    for old in before:
        new = after_by_key.get((old.name, old.bucket, old.attack))
        if new is None or new.outcome is old.outcome:
            continue
        first_call, cause = _first_change(old, new, identity)
        reason = _tag_guard_reason(old, new, identity)
        if reason:
            cause += f"; by design with the tag guard: {reason}"
        changes.append(
            Change(
                old.name,
                old.title,
                old.attack,
                old.bucket,
                old.outcome,
                new.outcome,
                first_call,
                cause,
            )
        )
    return changes


def _first_change(
    old: ScenarioResult, new: ScenarioResult, identity: Identity | None
) -> tuple[str, str]:
    """The first call whose outcome differs, and why it changed."""
    for before, after in zip(old.calls, new.calls, strict=True):
        if before.outcome is after.outcome:
            continue
        call = after.call
        caller = "" if call.actor is Actor.IDENTITY else "vmimport role: "
        worse = after.outcome is not Outcome.ALLOWED
        touches = after.denied_on() if worse else before.denied_on()
        types = ", ".join(dict.fromkeys(t.resource_type.value for t in touches))
        described = (
            f"step {after.step} {caller}{call.action} ({call.what}) on {types}: "
            f"{before.outcome.value} -> {after.outcome.value}"
        )
        unknown = [u for t in touches for u in (t.evaluation.unknown if worse else ())]
        if after.outcome is Outcome.UNKNOWN and unknown:
            return described, f"{call.action} cannot be judged ({unknown[0]})"
        if worse:
            was = sorted({s for t in before.touches for s in t.evaluation.allowed_by})
            denied_by = sorted({s for t in touches for s in t.evaluation.denied_by})
            if denied_by:
                return described, f"{call.action} denied by {', '.join(denied_by)}"
            if (
                call.actor is Actor.IDENTITY
                and identity is not None
                and not _grants(identity, call.action)
            ):
                return described, f"{call.action} removed"
            was_text = f" (was allowed by {', '.join(was)})" if was else ""
            return described, f"{call.action} no longer allowed on {types}{was_text}"
        now = sorted({s for t in after.touches for s in t.evaluation.allowed_by})
        return described, f"{call.action} now allowed" + (f" by {', '.join(now)}" if now else "")
    return "", "the outcome changed"


def _tag_guard_reason(old: ScenarioResult, new: ScenarioResult, identity: Identity | None) -> str:
    """Why the tag guard cannot serve a workflow it lost, when the new policies have the guard."""
    if old.attack or new.outcome is not Outcome.DENIED or identity is None:
        return ""
    guarded = any(
        key.lower().startswith("aws:requesttag/")
        for document in identity.documents
        for statement in _statements(document)
        for block in (statement.get("Condition") or {}).values()
        for key in block
    )
    found = next((w for w in WORKFLOWS if w.name == old.name), None)
    return (found.not_with_instance_tag or "") if guarded and found else ""


def _grants(identity: Identity, action: str) -> bool:
    """Whether any Allow statement of the identity names ``action`` (on whatever resource)."""
    return any(
        statement.get("Effect") == "Allow" and matches_action(statement, action) is not False
        for document in identity.documents
        for statement in _statements(document)
    )


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def _keyed(documents: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    keyed: dict[str, Mapping[str, Any]] = {}
    for number, statement in enumerate((s for d in documents for s in _statements(d)), 1):
        sid = str(statement.get("Sid") or f"(no Sid) #{number}")
        while sid in keyed:
            sid += "'"
        keyed[sid] = statement
    return keyed


def statement_changes(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[StatementChange]:
    """Statements added, removed and changed, grouped by Sid."""
    before, after = _keyed(old), _keyed(new)
    found = [StatementChange("removed", sid) for sid in before if sid not in after]
    found += [
        StatementChange("added", sid, _describe(after[sid])) for sid in after if sid not in before
    ]
    for sid in before:
        if sid in after and _normal(before[sid]) != _normal(after[sid]):
            found.append(StatementChange("changed", sid, _differences(before[sid], after[sid])))
    return found


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def _normal(statement: Mapping[str, Any]) -> Any:
    """The statement as IAM reads it: one value or a list of one are the same, order aside."""
    found = dict(_plain(statement))
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in found:
            found[element] = sorted(_as_list(found[element]))
    found["Condition"] = {
        operator: {key: sorted(_as_list(values)) for key, values in block.items()}
        for operator, block in (found.get("Condition") or {}).items()
    }
    return found


def _describe(statement: Mapping[str, Any]) -> tuple[str, ...]:
    actions = _as_list(statement.get("Action") or statement.get("NotAction"))
    return (f"{statement.get('Effect')} {', '.join(actions)}",)


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    details = []
    for element in ("Effect", "Action", "NotAction", "Resource", "NotResource"):
        before, after = _as_list(old.get(element)), _as_list(new.get(element))
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if removed:
            details.append(f"{element} - {', '.join(removed)}")
        if added:
            details.append(f"{element} + {', '.join(added)}")
    if _normal(old)["Condition"] != _normal(new)["Condition"]:
        details.append(
            f"Condition {json.dumps(_plain(old.get('Condition')))} -> "
            f"{json.dumps(_plain(new.get('Condition')))}"
        )
    return tuple(details)


def _sizes(old: Identity | None, new: Identity | None) -> list[PolicySize]:
    before = {p.name: p for p in old.policies} if old else {}
    after = {p.name: p for p in new.policies} if new else {}
    names = list(dict.fromkeys([*before, *after]))
    return [
        PolicySize(
            name,
            iam_size(before[name].document) if name in before else None,
            iam_size(after[name].document) if name in after else None,
            (after.get(name) or before[name]).managed,
        )
        for name in names
    ]


__all__ = [
    "PROG",
    "Change",
    "DiffError",
    "DiffReport",
    "IdentityDiff",
    "PolicySize",
    "StatementChange",
    "compare",
    "load_file",
    "statement_changes",
    "template_impact",
]
