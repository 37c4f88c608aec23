"""The catalogue as rows: what is granted, where, why and from which source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalogue import EC2_ACTION_RESOURCE_TYPES, Scope, Source
from .rendering import Arns, condition_of, reason_for
from .statements import PolicyOptions, StatementSpec, identity_statements, vm_import_role_statements

#: Placeholder ARNs: rows show condition keys, not values.
_PLACEHOLDERS = Arns(partition="PARTITION", account="ACCOUNT", bucket_arns=(), object_arns=())


@dataclass(frozen=True)
class Grant:
    """One row of the catalogue: an action, where it applies, why, and its source."""

    action: str
    scopes: tuple[Scope, ...]
    reason: str
    source: Source
    statement: str
    condition: str = ""


def grants(options: PolicyOptions, *, kms: bool = False) -> list[Grant]:
    """The identity's grants for ``options``, one row per action and statement."""
    return _rows(identity_statements(options, kms=kms), options, vm_import_role=False)


def vm_import_role_grants(*, existing_role: bool = False, kms: bool = False) -> list[Grant]:
    return _rows(
        vm_import_role_statements(existing_role=existing_role, kms=kms),
        PolicyOptions(),
        vm_import_role=True,
    )


def _rows(
    specs: Iterable[StatementSpec], options: PolicyOptions, *, vm_import_role: bool
) -> list[Grant]:
    rows = []
    for spec in specs:
        condition = ", ".join(
            f"{operator} {key}"
            for operator, keys in condition_of(spec, options, _PLACEHOLDERS).items()
            for key in keys
        )
        for action in spec.actions:
            reason = reason_for(action, vm_import_role=vm_import_role)
            takes = EC2_ACTION_RESOURCE_TYPES.get(action)
            scopes = tuple(s for s in spec.scopes if takes is None or s in takes)
            rows.append(Grant(action, scopes, reason.why, reason.source, spec.sid, condition))
    return rows
