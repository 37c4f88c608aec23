"""The catalogue and the workflows as rows and tables, for the CLI and the docs."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalogue import EC2_ACTION_RESOURCE_TYPES, ResourceType, Source
from .rendering import PolicyTargets, condition_of, reason_for
from .statements import PolicyOptions, StatementSpec, identity_statements, vm_import_role_statements
from .workflows import WORKFLOWS, Actor, availability, explain_workflow

#: Placeholder ARNs: rows show ARN patterns; condition values come from the options.
_PLACEHOLDERS = PolicyTargets(
    partition="PARTITION", account="ACCOUNT", bucket_arns=(), object_arns=()
)


@dataclass(frozen=True)
class CatalogueRow:
    """One row of the catalogue: an action, where it applies, why, and its source."""

    action: str
    resource_types: tuple[ResourceType, ...]
    reason: str
    source: Source
    statement: str
    #: The condition as one line: ``OPERATOR KEY = VALUE``, values joined with "or".
    condition: str = ""
    #: The statement's Condition block, as IAM reads it.
    condition_block: Mapping[str, Any] = field(default_factory=dict)


def catalogue_rows(
    options: PolicyOptions, *, kms: bool = False, ebs_key: bool = False
) -> list[CatalogueRow]:
    """The identity's grants for ``options``, one row per action and statement."""
    return _rows(
        identity_statements(options, kms=kms, ebs_key=ebs_key), options, for_vm_import_role=False
    )


def vm_import_role_rows(
    *, existing_role: bool = False, kms: bool = False, ebs_key: bool = False
) -> list[CatalogueRow]:
    return _rows(
        vm_import_role_statements(existing_role=existing_role, kms=kms, ebs_key=ebs_key),
        PolicyOptions(),
        for_vm_import_role=True,
    )


def _rows(
    specs: Iterable[StatementSpec], options: PolicyOptions, *, for_vm_import_role: bool
) -> list[CatalogueRow]:
    rows = []
    for spec in specs:
        block = condition_of(spec, options, _PLACEHOLDERS)
        condition = "; ".join(
            f"{operator} {key} = {' or '.join(_as_list(value))}"
            for operator, keys in block.items()
            for key, value in keys.items()
        )
        for action in spec.actions:
            reason = reason_for(action, for_vm_import_role=for_vm_import_role)
            takes = EC2_ACTION_RESOURCE_TYPES.get(action)
            resource_types = tuple(s for s in spec.resource_types if takes is None or s in takes)
            rows.append(
                CatalogueRow(
                    action, resource_types, reason.why, reason.source, spec.sid, condition, block
                )
            )
    return rows


def _as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def resource_label(resource_type: ResourceType) -> str:
    """How a resource_type reads in tables; the ARN patterns are in docs/permissions.md."""
    labels = {
        ResourceType.ANY: "*",
        ResourceType.BUCKET: "bucket",
        ResourceType.OBJECTS: "bucket/*",
        ResourceType.KMS_KEY: "kms key",
        ResourceType.EBS_KMS_KEY: "kms key (EBS)",
        ResourceType.SPOT_SERVICE_LINKED_ROLE: "iam:role (Spot service-linked)",
        ResourceType.FEDERATED_USER: "sts:federated-user",
        ResourceType.EMAIL_IDENTITY: "ses:identity",
    }
    return labels.get(resource_type, f"ec2:{resource_type.value}")


def resource_pattern(resource_type: ResourceType) -> str:
    """The ARN pattern of a resource_type, with PARTITION, ACCOUNT and REGION placeholders."""
    return PolicyTargets(
        partition="PARTITION",
        account="ACCOUNT",
        bucket_arns=["arn:PARTITION:s3:::BUCKET"],
        object_arns=["arn:PARTITION:s3:::BUCKET/*"],
        kms_key_arns=["arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID"],
        regions=["REGION"],
        ebs_kms_key_arns=["arn:PARTITION:kms:REGION:ACCOUNT:key/EBS-KEY-ID"],
    ).resources(resource_type)[0]


#: Text output fits a terminal this wide unless the caller says otherwise.
DEFAULT_WIDTH = 100


def render_rows(
    rows: Sequence[CatalogueRow],
    output_format: str,
    *,
    targets: PolicyTargets | None = None,
    width: int = DEFAULT_WIDTH,
) -> str:
    """The catalogue rows as text blocks wrapped at ``width``, a Markdown table or JSON.

    With ``targets``, resource ARNs name those buckets, key and account; without,
    they are patterns with PARTITION, ACCOUNT, REGION and BUCKET placeholders.
    """
    records = [
        {
            "action": row.action,
            "resource": ", ".join(
                resource_label(resource_type) for resource_type in row.resource_types
            ),
            "resource_arns": [
                arn
                for resource_type in row.resource_types
                for arn in (
                    targets.resources(resource_type)
                    if targets is not None
                    else [resource_pattern(resource_type)]
                )
            ],
            "condition": row.condition,
            "condition_block": dict(row.condition_block),
            "why": row.reason,
            "source": row.source.value,
            "statement": row.statement,
        }
        for row in rows
    ]
    if output_format == "json":
        return json.dumps(records, indent=2) + "\n"
    columns = ["action", "resource", "condition", "why", "source"]
    if output_format == "markdown":
        lines = [
            "| " + " | ".join(c.capitalize() for c in columns) + " |",
            "|" + "---|" * len(columns),
        ]
        for record in records:
            cells = [f"`{record['action']}`", *(str(record[c]) for c in columns[1:])]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines) + "\n"
    # One block per action: a table of five columns, the reasons among them,
    # is far wider than a terminal.
    lines = []
    for record in records:
        lines.append(f"{record['action']}  [{record['statement']}]")
        fields: dict[str, str] = {
            "on": ", ".join(record["resource_arns"]) if targets else str(record["resource"]),
            "if": str(record["condition"]),
            "why": str(record["why"]),
            "source": str(record["source"]),
        }
        for name, text in fields.items():
            if text:
                lines += wrapped(f"    {name + ':':<8}", text, width)
        lines.append("")
    return "\n".join(lines)


def wrapped(label: str, text: str, width: int, *, hanging: int | None = None) -> list[str]:
    """``label`` then ``text``, wrapped at ``width``; later lines indented ``hanging``
    columns (default: the label's width). ARNs and hyphenated names stay whole: one
    too long for the room beside the label goes under it, two columns in."""
    if any(len(word) > width - len(label) for word in text.split()):
        return [label.rstrip(), *wrapped("  ", text, width)]
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=label,
        subsequent_indent=" " * (len(label) if hanging is None else hanging),
        break_long_words=False,
        break_on_hyphens=False,
    )


def workflow_records(
    options: PolicyOptions, *, kms: bool, ebs_key: bool = False
) -> list[dict[str, Any]]:
    """Each workflow, whether ``options`` serve it, and each call with the statements that allow it."""
    records = []
    for flow in WORKFLOWS:
        status, reason = availability(flow, options, kms=kms, ebs_key=ebs_key)
        calls = [
            {
                "step": step,
                "caller": row.call.actor.value,
                "action": row.call.action,
                "what": row.call.what,
                "allowed_by": {
                    resource_label(resource_type): sid or "NOT GRANTED"
                    for resource_type, sid in row.statements
                },
            }
            for step, row in enumerate(explain_workflow(flow, options, kms=kms, ebs_key=ebs_key), 1)
        ]
        records.append(
            {
                "workflow": flow.name,
                "title": flow.title,
                "status": status.value,
                "reason": reason,
                "note": flow.note,
                "sources": [source.value for source in flow.sources],
                "calls": calls,
            }
        )
    return records


def render_workflows(
    options: PolicyOptions,
    *,
    kms: bool,
    output_format: str,
    width: int = DEFAULT_WIDTH,
    ebs_key: bool = False,
) -> str:
    """The workflows as JSON, or as one table (text wrapped at ``width``, or Markdown) each."""
    records = workflow_records(options, kms=kms, ebs_key=ebs_key)
    if output_format == "json":
        return json.dumps(records, indent=2) + "\n"
    markdown = output_format == "markdown"
    out = []
    for record in records:
        status = record["status"] + (f": {record['reason']}" if record["reason"] else "")
        if markdown:
            out += [
                f"### `{record['workflow']}`: {record['title']}",
                "",
                f"{record['note']} Sources: {', '.join(record['sources'])}.",
                "",
                f"With these options: {status}.",
                "",
                "| Step | Caller | Action | What | Allowed by |",
                "|---|---|---|---|---|",
            ]
        else:
            out += wrapped("", f"{record['workflow']}: {record['title']} ({status})", width)
        for call in record["calls"]:
            by_statement: dict[str, list[str]] = {}
            for label, sid in call["allowed_by"].items():
                by_statement.setdefault(sid, []).append(label)
            allowed_by = "; ".join(
                f"{sid} ({', '.join(labels)})" for sid, labels in by_statement.items()
            )
            if markdown:
                out.append(
                    f"| {call['step']} | {call['caller']} | `{call['action']}` | {call['what']} "
                    f"| {allowed_by} |"
                )
            else:
                caller = "" if call["caller"] == Actor.IDENTITY.value else "vmimport role: "
                out += wrapped(
                    f"  {call['step']:>2}. ", f"{caller}{call['action']}: {allowed_by}", width
                )
        out.append("")
    return "\n".join(out)
