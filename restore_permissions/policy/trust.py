"""The vmimport service role's trust policy (AWS VM Import/Export guide, "Required permissions")."""

from __future__ import annotations

from typing import Any

from .rendering import policy_document

#: The role name VM Import/Export looks for unless ImportImage names another.
VM_IMPORT_ROLE_NAME = "vmimport"
#: The service principal that assumes the vmimport role.
VM_IMPORT_SERVICE_PRINCIPAL = "vmie.amazonaws.com"


def vm_import_trust_conditions(partition: str, account: str) -> dict[str, Any]:
    """The trust conditions of the AWS guide, with its confused-deputy hardening."""
    return {
        "StringEquals": {"sts:Externalid": VM_IMPORT_ROLE_NAME, "aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:vmie:*:{account}:*"},
    }


def vm_import_trust_policy(partition: str, account: str) -> dict[str, Any]:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": VM_IMPORT_SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": vm_import_trust_conditions(partition, account),
            }
        ]
    )
