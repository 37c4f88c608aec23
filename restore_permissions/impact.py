"""What a side's policies do to restores: each workflow allowed or not, each attack open or closed.

A workflow (:mod:`.policy.workflows`) is allowed when every one of its calls is
allowed on every resource it touches, the restore identity's calls by its
policies and VM Import/Export's by the vmimport role's. An attack row
(:mod:`.policy.attacks`) is OPEN on the same rule,
and closed otherwise. Calls are judged by the offline evaluator
(:mod:`.policy.evaluator`), each touched resource with its own request
context, as IAM authorizes a call per resource.

The requests name one concrete restore (:class:`~.policy.workflows.Target`):
the partition, account and Region the side's template resolves to, each
bucket its policies name, its KMS key and its instance tag. Both sides of a
diff are judged against the same targets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .diff_sources import Identity, Side
from .policy.attacks import ATTACKS
from .policy.catalogue import ResourceType
from .policy.evaluator import Evaluation, Outcome, Unknown, evaluate
from .policy.workflows import WORKFLOWS, Actor, Call, Target, Touch
from .template_values import Pseudo


class Scenario(Protocol):
    """A workflow or an attack row: a name, a title and the calls it makes."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def calls(self) -> tuple[Call, ...]: ...


@dataclass(frozen=True)
class TouchResult:
    resource_type: ResourceType
    resource: str
    evaluation: Evaluation


@dataclass(frozen=True)
class CallResult:
    step: int
    call: Call
    touches: tuple[TouchResult, ...]

    @property
    def outcome(self) -> Outcome:
        return _worst(t.evaluation.outcome for t in self.touches)

    def denied_on(self) -> list[TouchResult]:
        return [t for t in self.touches if t.evaluation.outcome is not Outcome.ALLOWED]


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    title: str
    #: True for an attack row (OPEN when allowed), False for a restore workflow.
    attack: bool
    #: The attack row's kind ("" for a workflow).
    kind: str
    #: The bucket the requests name ("" for attack rows judged once).
    bucket: str
    calls: tuple[CallResult, ...]

    @property
    def outcome(self) -> Outcome:
        return _worst(c.outcome for c in self.calls)


def _worst(outcomes: Iterable[Outcome]) -> Outcome:
    found = set(outcomes)
    if Outcome.DENIED in found:
        return Outcome.DENIED
    if Outcome.UNKNOWN in found:
        return Outcome.UNKNOWN
    return Outcome.ALLOWED


def judge(
    scenario: Scenario,
    target: Target,
    identity: Identity | None,
    vm_import_role: Identity | None,
    *,
    attack: bool = False,
) -> ScenarioResult:
    """Each call of ``scenario`` under the identity's and the vmimport role's policies."""
    results = []
    for step, call in enumerate(scenario.calls, 1):
        actor = identity if call.actor is Actor.IDENTITY else vm_import_role
        touches: Sequence[Touch | None] = call.touches or (None,)
        found = []
        for touch in touches:
            resource_type = touch.resource_type if touch else ResourceType.ANY
            resource = target.touch_arn(touch)
            context: dict[str, str] = {
                "aws:PrincipalAccount": target.account,
                **target.context(call, touch),
            }
            found.append(
                TouchResult(resource_type, resource, _evaluate(actor, call, resource, context))
            )
        results.append(CallResult(step, call, tuple(found)))
    kind = getattr(scenario, "kind", "") if attack else ""
    return ScenarioResult(
        scenario.name,
        scenario.title,
        attack,
        str(getattr(kind, "value", kind)),
        target.bucket,
        tuple(results),
    )


def _evaluate(
    actor: Identity | None, call: Call, resource: str, context: Mapping[str, str]
) -> Evaluation:
    if actor is None:
        who = "restore identity" if call.actor is Actor.IDENTITY else "vmimport role"
        return Evaluation(Outcome.UNKNOWN, unknown=(f"no {who} on this side",))
    found = evaluate(actor.documents, call.action, resource, context)
    if found.outcome is Outcome.DENIED and not found.denied_by and actor.partial:
        # Not allowed by the policies we see; the ones we do not see may allow it.
        return Evaluation(Outcome.UNKNOWN, unknown=(actor.partial,))
    return found


# --- the targets both sides are judged against ------------------------------

_BUCKET = re.compile(r"arn:[\w-]+:s3:::([^/*?]+)$")
_KEY = re.compile(r"arn:[\w-]+:kms:[^:*]+:\d{12}:key/[^*?]+$")
_REGION_KEY = "aws:requestedregion"
_REQUEST_TAG = "aws:requesttag/"


@dataclass(frozen=True)
class Targets:
    """What the requests name: one Target per bucket (the first is used for attack rows)."""

    targets: tuple[Target, ...]

    @property
    def first(self) -> Target:
        return self.targets[0]

    def describe(self) -> str:
        first = self.first
        buckets = ", ".join(t.bucket for t in self.targets)
        tag = f", instance tag {'='.join(first.instance_tag)}" if first.instance_tag else ""
        return (
            f"partition {first.partition}, account {first.account}, Region {first.region}, "
            f"bucket {buckets}, KMS key {first.kms_key_arn}{tag}"
        )


def targets_for(sides: Sequence[Side], pseudo: Pseudo) -> Targets:
    """One concrete restore per bucket the sides' policies name, in both sides' terms."""
    statements = [
        statement
        for side in sides
        for identity in side.identities
        for document in identity.documents
        for statement in _statements(document)
        if statement.get("Effect") == "Allow"
    ]
    resources = [str(r) for s in statements for r in _list(s.get("Resource", []))]
    buckets = list(dict.fromkeys(m.group(1) for r in resources if (m := _BUCKET.match(r))))
    keys = [r for r in resources if _KEY.match(r)]
    tag = None
    regions_by_side: list[list[str]] = []
    for side in sides:
        side_regions: list[str] = []
        for identity in side.identities:
            for document in identity.documents:
                for statement in _statements(document):
                    for operator, block in (statement.get("Condition") or {}).items():
                        for key, values in block.items():
                            lowered = key.lower()
                            if operator == "StringEquals" and lowered == _REGION_KEY:
                                side_regions += [str(v) for v in _list(values)]
                            if (
                                operator == "StringEquals"
                                and lowered.startswith(_REQUEST_TAG)
                                and tag is None
                                and not isinstance(values, Unknown)
                            ):
                                tag = (key[len(_REQUEST_TAG) :], str(_list(values)[0]))
        regions_by_side.append(list(dict.fromkeys(side_regions)))
    region = _region(regions_by_side, pseudo.region)
    # Without a key in the policies, a key of the same account stands in (denied on both sides).
    key_id = Target.kms_key_arn.rsplit("/", 1)[-1]
    base = Target(
        partition=pseudo.partition,
        account=pseudo.account,
        region=region,
        kms_key_arn=keys[0]
        if keys
        else f"arn:{pseudo.partition}:kms:{region}:{pseudo.account}:key/{key_id}",
        instance_tag=tag,
    )
    return Targets(tuple(replace(base, bucket=b) for b in buckets or [base.bucket]))


def _region(regions_by_side: list[list[str]], default: str) -> str:
    """A Region every side allows, if there is one; else the first side's; else ``default``."""
    restricted = [regions for regions in regions_by_side if regions]
    if not restricted:
        return default
    common = [r for r in restricted[0] if all(r in others for others in restricted)]
    if default in common or (not common and default in restricted[0]):
        return default
    return (common or restricted[0])[0]


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def judge_side(
    side: Side, targets: Targets, *, identity_key: str | None = None
) -> dict[str, list[ScenarioResult]]:
    """Workflows (per bucket) and attack rows of each restore identity of ``side``."""
    role = side.vm_import_role()
    found: dict[str, list[ScenarioResult]] = {}
    for identity in side.restore_identities():
        if identity_key is not None and identity.key != identity_key:
            continue
        results = [
            judge(flow, target, identity, role) for target in targets.targets for flow in WORKFLOWS
        ]
        results += [
            replace(judge(row, targets.first, identity, role, attack=True), bucket="")
            for row in ATTACKS
        ]
        found[identity.key] = results
    return found


__all__ = [
    "CallResult",
    "Scenario",
    "ScenarioResult",
    "Targets",
    "TouchResult",
    "judge",
    "judge_side",
    "targets_for",
]
