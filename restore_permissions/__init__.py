"""restore-permissions: least-privilege IAM for restoring image-based backups as EC2 instances.

The CDK classes load on first use, so that ``restore_permissions.policy`` (the
action catalogue) and ``restore_permissions.bucket_names`` import without
aws-cdk-lib or jsii.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .construct import AccessKeySlot, PrincipalType, RestorePermissions
    from .policy import PolicyProfile
    from .vm_import import VmImportAccountRole, VmImportRole, VmImportServiceRole

_LAZY = {
    "AccessKeySlot": ".construct",
    "PolicyProfile": ".policy",
    "PrincipalType": ".construct",
    "RestorePermissions": ".construct",
    "VmImportAccountRole": ".vm_import",
    "VmImportRole": ".vm_import",
    "VmImportServiceRole": ".vm_import",
}

__all__ = [
    "AccessKeySlot",
    "PolicyProfile",
    "PrincipalType",
    "RestorePermissions",
    "VmImportAccountRole",
    "VmImportRole",
    "VmImportServiceRole",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
