"""The error RestorePermissions raises for a bad prop: a ValueError that names the construct."""

from __future__ import annotations

import weakref
from typing import Any

#: Each construct's path, asked of CDK once (a jsii round trip): a path never
#: changes. Kept here rather than in scopes.py, which imports CDK; scopes.path_of
#: shares it.
KNOWN_PATHS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
#: Each construct's ``node``, likewise (scopes.node_of shares it).
KNOWN_NODES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


class RestorePermissionsError(ValueError):
    """A prop value that RestorePermissions refuses.

    The message starts with the construct's path, so that in an app of 50
    customers the wrong one is named; it stays a ``ValueError``, so existing
    ``except ValueError`` code keeps working.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        #: The construct path of the RestorePermissions (or of the prop's owner).
        self.path = path
        #: The message without the path.
        self.reason = message


def construct_path(scope: Any, construct_id: str) -> str:
    """The path a construct will have, before it is created (for errors raised before)."""
    if scope not in KNOWN_PATHS:
        if scope not in KNOWN_NODES:
            KNOWN_NODES[scope] = scope.node
        KNOWN_PATHS[scope] = KNOWN_NODES[scope].path
    path = KNOWN_PATHS[scope]
    return f"{path}/{construct_id}" if path else construct_id


def check_bool(value: object, argument: str) -> None:
    """ValueError unless ``value`` is a bool: a string "false" is truthy and would say yes."""
    if not isinstance(value, bool):
        raise ValueError(f"{argument}={value!r} is invalid: pass True or False (a bool)")


def check_policy_quota(value: object, argument: str = "max_managed_policies") -> None:
    """ValueError unless ``value`` is an int from 1 to 20, IAM's managed policies per principal."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
        raise ValueError(
            f"{argument}={value!r} is invalid: IAM allows 1 to 20 managed policies per user, "
            "group or role (10 by default)"
        )
