"""restore-permissions: least-privilege IAM for restoring image-based backups as EC2 instances.

The CDK classes load on first use, so that ``restore_permissions.policy`` (the
action catalogue) and ``restore_permissions.bucket_names`` import without
aws-cdk-lib or jsii.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .construct import RestorePermissions
    from .errors import RestorePermissionsError
    from .identity import (
        AccessKeySlot,
        PrincipalType,
        RestoreIdentity,
        RoleIdentity,
        SecretEncryption,
        UserIdentity,
    )
    from .policy import PolicyProfile
    from .vm_import import VmImportAccountRole, VmImportMode, VmImportServiceRole

_LAZY = {
    "AccessKeySlot": ".identity",
    "PolicyProfile": ".policy",
    "PrincipalType": ".identity",
    "RestoreIdentity": ".identity",
    "RestorePermissions": ".construct",
    "RestorePermissionsError": ".errors",
    "RoleIdentity": ".identity",
    "SecretEncryption": ".identity",
    "UserIdentity": ".identity",
    "VmImportAccountRole": ".vm_import",
    "VmImportMode": ".vm_import",
    "VmImportServiceRole": ".vm_import",
}

__all__ = [
    "AccessKeySlot",
    "PolicyProfile",
    "PrincipalType",
    "RestoreIdentity",
    "RestorePermissions",
    "RestorePermissionsError",
    "RoleIdentity",
    "SecretEncryption",
    "UserIdentity",
    "VmImportAccountRole",
    "VmImportMode",
    "VmImportServiceRole",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
