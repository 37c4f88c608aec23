"""The offline IAM evaluator the tests judge policies with: a test-only oracle.

It is principalmapper's local policy simulation (last released in 2022),
which we did not write. It evaluates actions, resources and conditions
(StringEquals, StringLike, Bool, ARN matching); it knows nothing of SCPs,
permission boundaries or resource policies. The product never ships or calls it.
"""

from __future__ import annotations

import collections
import collections.abc
from collections.abc import Mapping
from typing import Any

# principalmapper 1.1.5 imports these names from `collections`, which Python
# 3.10 moved to `collections.abc`; alias them before importing it.
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable", "Callable", "MutableSet", "Set"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Policy  # noqa: E402

__all__ = ["Policy", "allows", "as_policy", "condition_matches"]
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    _get_condition_match,
    policy_has_matching_statement,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402


def as_policy(document: Mapping[str, Any], name: str = "restore") -> Policy:
    return Policy(f"arn:aws:iam::111122223333:policy/{name}", name, dict(document))


def allows(policy: Policy, action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether an Allow statement of ``policy`` matches the request (no Deny is ever granted)."""
    return bool(
        policy_has_matching_statement(
            policy, "Allow", action, resource, CaseInsensitiveDict(dict(context))
        )
    )


def condition_matches(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """Whether a Condition block holds for ``context`` (for trust policies, which have no Resource)."""
    return bool(_get_condition_match(dict(condition), CaseInsensitiveDict(dict(context))))
