"""The ``diff`` subcommand: its flags, its sides, and its three output formats."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any

from .diff import Change, DiffReport, IdentityDiff, compare
from .diff_sources import DiffError, load_file
from .policy import MANAGED_POLICY_LIMIT
from .template_values import Pseudo

PROG = "restore-permissions"


def add_diff_parser(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="what a change of policies does to restores: workflows lost, attacks opened",
        description="Compare two templates or policy files (or a deployed stack) by what "
        "they do to restores: workflows gained and lost, attack rows opened and closed, "
        "statements changed, and each managed policy's size. Exit 0: nothing got worse; "
        "1: a workflow was lost or an attack opened; 2: the diff could not run.",
    )
    diff.add_argument(
        "sides",
        nargs="*",
        metavar="OLD NEW",
        help="a synthesized template (cdk.out/*.template.json, a stored snapshot) or a "
        "policy file (what `policy` or `vmimport-role` prints); with --stack, one file is "
        "NEW and the stack is OLD",
    )
    diff.add_argument(
        "--stack",
        metavar="NAME",
        help="the deployed stack's template (CloudFormation GetTemplate) as OLD",
    )
    diff.add_argument(
        "--deployed",
        action="store_true",
        help="with --stack: the identities' managed policies as IAM has them now; without "
        "a file, OLD is the stack's template and NEW is IAM (hand edits); with a file, OLD "
        "is IAM and NEW the file",
    )
    diff.add_argument("--region", help="the stack's Region (default: the AWS configuration's)")
    diff.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter's value (default: its Default; else it stays unknown)",
    )
    diff.add_argument("--format", choices=("table", "markdown", "json"), default="table")


def run_diff(args: argparse.Namespace, parser: Any) -> int:
    try:
        report = _report(args)
    except DiffError as error:
        parser.exit(2, f"{PROG}: error: {error}\n")
    print(RENDERERS[args.format](report), end="")
    return report.exit_code


def _parameters(values: list[str]) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, given = value.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9]+", name):
            raise DiffError(f"argument --parameter: {value!r} is not NAME=VALUE")
        found[name] = given
    return found


def _report(args: argparse.Namespace) -> DiffReport:
    parameters = _parameters(args.parameter)
    files = list(args.sides)
    if args.deployed and not args.stack:
        raise DiffError("--deployed needs --stack NAME: it reads that stack's identities")
    if args.stack is None:
        if len(files) != 2:
            raise DiffError(f"diff needs OLD and NEW (or --stack NAME and NEW); got {len(files)}")
        pseudo = Pseudo()
        old = load_file(files[0], pseudo=pseudo, parameters=parameters)
        new = load_file(files[1], pseudo=pseudo, parameters=parameters)
        return compare(old, new, pseudo=pseudo)
    expected = (0, 1) if args.deployed else (1,)
    if len(files) not in expected:
        raise DiffError(
            "with --stack give NEW only (the stack is OLD)"
            if not args.deployed
            else "with --stack and --deployed give no file (stack template vs IAM) or NEW "
            f"(IAM vs NEW); got {len(files)}"
        )
    from .diff_aws import stack_sides  # noqa: PLC0415 - boto3 loads only for --stack

    template_side, deployed_side, pseudo = stack_sides(
        args.stack, region=args.region, deployed=args.deployed, parameters=parameters
    )
    before = template_side
    if args.deployed and files:
        assert deployed_side is not None
        before = deployed_side
    if files:
        after = load_file(files[0], pseudo=pseudo, parameters=parameters)
    else:
        assert deployed_side is not None
        after = deployed_side
    return compare(before, after, pseudo=pseudo)


# --- rendering ---------------------------------------------------------------


def _identity_lines(identity: IdentityDiff, markdown: bool) -> list[str]:
    lines = []
    bullet = "- " if markdown else "    "
    for note in identity.notes:
        lines.append(f"{bullet}note: {note}")
    if identity.workflow_counts[2]:
        before, after, total = identity.workflow_counts
        lines.append(f"{bullet}workflows allowed: {before} -> {after} of {total}")
    if identity.attack_counts[2]:
        before, after, total = identity.attack_counts
        lines.append(f"{bullet}attack rows open: {before} -> {after} of {total}")
    return lines


def as_table(report: DiffReport) -> str:
    lines = [f"Restore impact: {report.old} -> {report.new}"]
    lines.append(f"Requests name {report.targets.describe()}")
    for identity in report.identities:
        lines.append("")
        lines.append(f"{identity.role.value}: {identity.label}")
        lines += _identity_lines(identity, markdown=False)
        for change in _worst_first(identity):
            where = f" ({change.bucket})" if change.bucket else ""
            kind = "attack " if change.attack else ""
            lines.append(f"  {change.verb.upper():<8}{kind}{change.name}{where}: {change.title}")
            lines.append(f"          {change.first_call}")
            lines.append(f"          cause: {change.cause}")
        for statement in identity.statements:
            lines.append(f"  statement {statement.kind} {statement.sid}")
            lines += [f"          {detail}" for detail in statement.details]
        for size in identity.sizes:
            lines.append(f"  {_size_text(size)}")
    lines += _closing(report)
    return "\n".join(lines) + "\n"


def _worst_first(identity: IdentityDiff) -> list[Change]:
    order = {"lost": 0, "opened": 0, "unknown": 1, "closed": 2, "gained": 2}
    return sorted(identity.changes, key=lambda change: order[change.verb])


def _size_text(size: Any) -> str:
    def shown(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    limit = f" of {MANAGED_POLICY_LIMIT:,}" if size.managed else " (inline)"
    over = " OVER THE LIMIT" if size.managed and (size.new or 0) > MANAGED_POLICY_LIMIT else ""
    return f"size {size.name}: {shown(size.old)} -> {shown(size.new)}{limit}{over}"


def _closing(report: DiffReport) -> list[str]:
    lines = [""]
    if report.unresolved:
        lines.append(f"Not resolved (judged as unknown): {', '.join(report.unresolved)}")
    worse = report.worse
    lines.append(
        f"Worse: {len(worse)} ({', '.join(c.summary() for c in worse)})"
        if worse
        else "Nothing got worse."
    )
    return lines


def as_markdown(report: DiffReport) -> str:
    lines = [f"### Restore impact: `{report.old}` → `{report.new}`", ""]
    lines.append(f"Requests name {report.targets.describe()}.")
    for identity in report.identities:
        lines += ["", f"#### {identity.role.value}: {identity.label}"]
        details = _identity_lines(identity, markdown=True)
        lines += ["", *details] if details else []
        if identity.changes:
            lines += ["", "| change | workflow or attack | first call that changed | cause |"]
            lines.append("| --- | --- | --- | --- |")
            for change in _worst_first(identity):
                where = f" ({change.bucket})" if change.bucket else ""
                kind = "attack " if change.attack else ""
                lines.append(
                    f"| **{change.verb}** | {kind}`{change.name}`{where}: {change.title} | "
                    f"{_cell(change.first_call)} | {_cell(change.cause)} |"
                )
        if identity.statements:
            lines += ["", "| statement | Sid | details |", "| --- | --- | --- |"]
            for statement in identity.statements:
                lines.append(
                    f"| {statement.kind} | `{statement.sid}` | "
                    f"{_cell('; '.join(statement.details))} |"
                )
        if identity.sizes:
            lines += ["", f"| managed policy | before | after | limit {MANAGED_POLICY_LIMIT:,} |"]
            lines.append("| --- | ---: | ---: | --- |")
            for size in identity.sizes:
                over = "**over**" if (size.new or 0) > MANAGED_POLICY_LIMIT else "fits"
                lines.append(
                    f"| `{size.name}` | {size.old if size.old is not None else '-'} | "
                    f"{size.new if size.new is not None else '-'} | "
                    f"{over if size.managed else 'inline'} |"
                )
    lines += _closing(report)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_json(report: DiffReport) -> str:
    value = {
        "old": report.old,
        "new": report.new,
        "requests": report.targets.describe(),
        "worse": bool(report.worse),
        "unresolved": report.unresolved,
        "identities": [
            {
                "key": identity.key,
                "role": identity.role.value,
                "old": identity.old_label,
                "new": identity.new_label,
                "notes": identity.notes,
                "workflows_allowed": dict(
                    zip(("before", "after", "of"), identity.workflow_counts, strict=True)
                ),
                "attacks_open": dict(
                    zip(("before", "after", "of"), identity.attack_counts, strict=True)
                ),
                "changes": [
                    {
                        "name": change.name,
                        "kind": "attack" if change.attack else "workflow",
                        "bucket": change.bucket or None,
                        "change": change.verb,
                        "old": change.old.value,
                        "new": change.new.value,
                        "first_call": change.first_call,
                        "cause": change.cause,
                        "summary": change.summary(),
                    }
                    for change in identity.changes
                ],
                "statements": [
                    {"change": s.kind, "sid": s.sid, "details": list(s.details)}
                    for s in identity.statements
                ],
                "sizes": [
                    {
                        "policy": size.name,
                        "old": size.old,
                        "new": size.new,
                        "managed": size.managed,
                        "limit": MANAGED_POLICY_LIMIT if size.managed else None,
                    }
                    for size in identity.sizes
                ],
            }
            for identity in report.identities
        ],
    }
    return json.dumps(value, indent=2) + "\n"


RENDERERS: dict[str, Callable[[DiffReport], str]] = {
    "table": as_table,
    "markdown": as_markdown,
    "json": as_json,
}

__all__ = ["RENDERERS", "add_diff_parser", "as_json", "as_markdown", "as_table", "run_diff"]
