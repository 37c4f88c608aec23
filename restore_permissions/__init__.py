"""restore-permissions: least-privilege IAM for restoring image-based backups as EC2 instances.

``restore_permissions.policy`` holds the action catalogue and imports no CDK;
importing this package itself loads aws-cdk-lib.
"""

from .construct import PrincipalType, RestorePermissions
from .vm_import import VmImportRole, VmImportServiceRole

__all__ = ["PrincipalType", "RestorePermissions", "VmImportRole", "VmImportServiceRole"]
