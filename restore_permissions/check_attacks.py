"""``restore-permissions check --attacks``: the attack rows, asked of IAM's policy simulator.

Each attack is a call, or a short sequence of calls
(:mod:`restore_permissions.policy.attacks`). Its calls are simulated in order,
exactly as a workflow's are, until one is denied: a sequence cannot complete
past a denied call. The report says which attacks the identity could carry
out, and the exit code is 1 when one that the options promise to deny is
allowed. It imports neither boto3 nor CDK; ``check`` passes in its simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .policy.attacks import ATTACKS, Attack
from .policy.explain import DEFAULT_WIDTH, wrapped
from .policy.simulation import SimulatedCall, Step, Verdict, steps, verdict
from .policy.statements import PolicyOptions
from .policy.workflows import Actor, Target

#: Answers one request with its EvaluationResults (check's Simulator).
Simulate = Callable[[Actor, SimulatedCall], list[dict[str, Any]]]


@dataclass(frozen=True)
class AttackResult:
    attack: Attack
    #: The calls simulated, in order, up to and including the first denied one.
    simulated: tuple[tuple[Step, Verdict], ...]
    promised_denied: bool

    @property
    def allowed(self) -> bool:
        return all(found.allowed for _, found in self.simulated)

    @property
    def broken_promise(self) -> bool:
        return self.allowed and self.promised_denied

    @property
    def denied_at(self) -> tuple[Step, Verdict] | None:
        return next(((s, v) for s, v in self.simulated if not v.allowed), None)


def run_attacks(
    target: Target,
    options: PolicyOptions,
    simulate: Simulate,
    attacks: Sequence[Attack] = ATTACKS,
) -> list[AttackResult]:
    results = []
    for attack in attacks:
        simulated: list[tuple[Step, Verdict]] = []
        for step in steps(attack, target):
            found = verdict(step.request, simulate(step.call.actor, step.request))
            simulated.append((step, found))
            if not found.allowed:
                break
        results.append(AttackResult(attack, tuple(simulated), attack.expected_denied(options)))
    return results


def attacks_json(results: Sequence[AttackResult]) -> dict[str, Any]:
    return {
        "passed": not any(r.broken_promise for r in results),
        "allowed": sum(r.allowed for r in results),
        "attacks": [_attack_json(r) for r in results],
    }


def _attack_json(result: AttackResult) -> dict[str, Any]:
    denied = result.denied_at
    return {
        "attack": result.attack.name,
        "kind": result.attack.kind.value,
        "title": result.attack.title,
        "allowed": result.allowed,
        "promised_denied": result.promised_denied,
        "denied_at": None
        if denied is None
        else {
            "step": denied[0].number,
            "action": denied[0].call.action,
            "decision": denied[1].decision.value,
            "resources": list(denied[1].denied_resources),
            "denied_by": list(denied[1].denied_by),
        },
        "closed_by": [closure.value for closure in result.attack.closed_by],
        "source": result.attack.source,
    }


def attacks_table(
    results: Sequence[AttackResult], subject: str, *, width: int = DEFAULT_WIDTH
) -> str:
    lines = [f"Attacks simulated: {subject}"]
    for result in results:
        denied = result.denied_at
        if denied is None:
            status = "ALLOWED, promised denied" if result.promised_denied else "allowed"
        else:
            step, found = denied
            status = f"denied at step {step.number} {step.call.action} ({found.decision.value})"
        lines += wrapped(f"{result.attack.name:<34} ", status, width, hanging=4)
        if result.allowed and not result.promised_denied:
            closes = ", ".join(c.value for c in result.attack.closed_by) or "no option"
            lines += wrapped("    closed by: ", closes, width)
    allowed = sum(r.allowed for r in results)
    broken = sum(r.broken_promise for r in results)
    lines.append(
        f"{allowed} of {len(results)} attacks allowed"
        + (f"; {broken} the options promise to deny" if broken else "")
    )
    return "\n".join(lines) + "\n"
