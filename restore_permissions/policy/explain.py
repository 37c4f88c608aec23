"""The catalogue as rows: what is granted, where, why and from which source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalogue import EC2_ACTION_RESOURCE_TYPES, ResourceType, Source
from .rendering import PolicyTargets, condition_of, reason_for
from .statements import PolicyOptions, StatementSpec, identity_statements, vm_import_role_statements

#: Placeholder ARNs: rows show condition keys, not values.
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
    condition: str = ""


def catalogue_rows(options: PolicyOptions, *, kms: bool = False) -> list[CatalogueRow]:
    """The identity's grants for ``options``, one row per action and statement."""
    return _rows(identity_statements(options, kms=kms), options, for_vm_import_role=False)


def vm_import_role_rows(*, existing_role: bool = False, kms: bool = False) -> list[CatalogueRow]:
    return _rows(
        vm_import_role_statements(existing_role=existing_role, kms=kms),
        PolicyOptions(),
        for_vm_import_role=True,
    )


def _rows(
    specs: Iterable[StatementSpec], options: PolicyOptions, *, for_vm_import_role: bool
) -> list[CatalogueRow]:
    rows = []
    for spec in specs:
        condition = ", ".join(
            f"{operator} {key}"
            for operator, keys in condition_of(spec, options, _PLACEHOLDERS).items()
            for key in keys
        )
        for action in spec.actions:
            reason = reason_for(action, for_vm_import_role=for_vm_import_role)
            takes = EC2_ACTION_RESOURCE_TYPES.get(action)
            resource_types = tuple(s for s in spec.resource_types if takes is None or s in takes)
            rows.append(
                CatalogueRow(action, resource_types, reason.why, reason.source, spec.sid, condition)
            )
    return rows
