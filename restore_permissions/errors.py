"""The error RestorePermissions raises for a bad prop: a ValueError that names the construct."""

from __future__ import annotations


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
