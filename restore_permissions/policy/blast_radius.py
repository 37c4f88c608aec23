"""What a holder of the restore credential could do: the attack rows, judged offline.

``restore-permissions explain --blast-radius`` and the threat-model table of
``docs/permissions.md`` read the catalogue's statements (as ``explain
--workflows`` does), not an IAM evaluation; tests/test_attacks.py checks that
this agrees with an offline evaluator on every row and option set.
``restore-permissions check --attacks`` asks IAM's policy simulator instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .attacks import ATTACKS, Attack
from .explain import DEFAULT_WIDTH, wrapped
from .statements import PolicyOptions, PolicyProfile
from .workflows import explain_calls


@dataclass(frozen=True)
class AttackVerdict:
    attack: Attack
    #: The first call no statement allows on every resource it touches; None: all are allowed.
    first_denied: str | None
    #: Whether the options promise to deny it (its closures).
    promised_denied: bool

    @property
    def open(self) -> bool:
        return self.first_denied is None


def judge(attack: Attack, options: PolicyOptions, *, kms: bool) -> AttackVerdict:
    grants = explain_calls(attack.calls, options, kms=kms)
    first = next((grant.call.action for grant in grants if not grant.granted), None)
    return AttackVerdict(attack, first, attack.expected_denied(options))


def verdicts(options: PolicyOptions, *, kms: bool) -> list[AttackVerdict]:
    return [judge(attack, options, kms=kms) for attack in ATTACKS]


def _record(verdict: AttackVerdict) -> dict[str, Any]:
    attack = verdict.attack
    return {
        "attack": attack.name,
        "kind": attack.kind.value,
        "title": attack.title,
        "allowed": verdict.open,
        "denied_at": verdict.first_denied,
        "closed_by": [closure.value for closure in attack.closed_by],
        "residual": attack.residual,
        "source": attack.source,
        "calls": [call.action for call in attack.calls],
    }


def render_blast_radius(
    options: PolicyOptions, *, kms: bool, output_format: str, width: int = DEFAULT_WIDTH
) -> str:
    """Every attack row: allowed or denied (and at which call) under ``options``."""
    records = [_record(v) for v in verdicts(options, kms=kms)]
    if output_format == "json":
        return json.dumps(records, indent=2) + "\n"
    if output_format == "markdown":
        lines = ["| Attack | Kind | Verdict | Closed by | Source |", "|---|---|---|---|---|"]
        for r in records:
            verdict = "**allowed**" if r["allowed"] else f"denied at `{r['denied_at']}`"
            closed = ", ".join(r["closed_by"]) or "no option"
            lines.append(
                f"| {r['title']} (`{r['attack']}`) | {r['kind']} | {verdict} | {closed} "
                f"| {r['source']} |"
            )
        return "\n".join(lines) + "\n"
    allowed = [r for r in records if r["allowed"]]
    lines = wrapped(
        "",
        f"{len(allowed)} of {len(records)} attack rows are allowed with these options.",
        width,
    )
    for r in records:
        verdict = "ALLOWED" if r["allowed"] else f"denied at {r['denied_at']}"
        lines += wrapped(f"{r['attack']:<34} ", f"{verdict} ({r['kind']})", width, hanging=4)
        if r["allowed"]:
            closes = ", ".join(r["closed_by"]) or "no option of the default profile"
            lines += wrapped("    closed by: ", closes, width)
            if r["residual"]:
                lines += wrapped("    why: ", r["residual"], width)
    return "\n".join(lines) + "\n"


#: The columns of the threat-model table: each profile and the options that
#: change what an attacker can do.
THREAT_MODEL_COLUMNS: tuple[tuple[str, PolicyOptions], ...] = (
    ("default", PolicyOptions()),
    ("restore_only", PolicyOptions(restore_only=True)),
    ("instance_tag", PolicyOptions(instance_tag=("restore-permissions", "restored"))),
    (
        "instance_tag + restore_only",
        PolicyOptions(instance_tag=("restore-permissions", "restored"), restore_only=True),
    ),
    ("object_acl_writes", PolicyOptions(object_acl_writes=True)),
    ("KB 1025", PolicyOptions(profile=PolicyProfile.KB1025)),
)


def threat_model_markdown() -> list[str]:
    """One row per attack, one column per profile or option (all with a KMS key)."""
    columns = [(name, verdicts(options, kms=True)) for name, options in THREAT_MODEL_COLUMNS]
    lines = [
        "| Attack | Kind | " + " | ".join(f"`{name}`" for name, _ in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for index, attack in enumerate(ATTACKS):
        cells = ["**allowed**" if column[index].open else "denied" for _, column in columns]
        lines.append(f"| {attack.title} | {attack.kind.value} | " + " | ".join(cells) + " |")
    totals = [str(sum(v.open for v in column)) for _, column in columns]
    lines.append("| **Allowed rows** | | " + " | ".join(totals) + " |")
    return lines
