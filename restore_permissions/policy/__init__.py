"""What the restore identity and the vmimport role may do, why, and in which restore.

The package imports nothing from CDK, so it can be read, tested and printed
without starting jsii. Its modules, each one concern:

* :mod:`.catalogue`: every action with its reason and source, the resource
  types each EC2 action takes, KB 1025 as published and its corrections, and
  what is deliberately not granted;
* :mod:`.statements`: which statements each profile and option grants;
* :mod:`.rendering`: statements rendered into policy documents with ARNs;
* :mod:`.trust`: the vmimport role's trust policy;
* :mod:`.workflows`: each restore path as the calls it makes, in order;
* :mod:`.explain`: the catalogue and the workflows as rows and tables (CLI, docs);
* :mod:`.sizing`: IAM's size rule and packing statements into policies.

The names below stay importable from ``restore_permissions.policy``.
"""

from .catalogue import (
    EC2_ACCOUNT_SCOPES,
    EC2_ACTION_RESOURCE_TYPES,
    EC2_SCOPES,
    KB1025_CORRECTIONS,
    KB1025_PUBLISHED_ACTIONS,
    KMS_VIA_EC2_ACTIONS,
    KMS_VIA_S3_ACTIONS,
    NOT_GRANTED,
    OPTIONAL_RESOURCE_TYPES,
    REASONS,
    VM_IMPORT_ROLE_KMS_ACTIONS,
    VM_IMPORT_ROLE_REASONS,
    VM_IMPORT_ROLE_WITHOUT_WORKFLOW,
    WITHOUT_WORKFLOW,
    Guard,
    Reason,
    ResourceType,
    Source,
    kb1025_corrected_actions,
    kb1025_correction_notes,
)
from .explain import CatalogueRow, catalogue_rows, vm_import_role_rows
from .rendering import (
    PolicyTargets,
    bucket_arn,
    condition_of,
    identity_policy,
    policy_document,
    reason_for,
    render_statements,
    vm_import_role_policy,
)
from .sizing import (
    DEFAULT_MAX_MANAGED_POLICIES,
    MANAGED_POLICY_LIMIT,
    MAX_MANAGED_POLICIES,
    PLANNING_MARGIN,
    iam_size,
    plan_documents,
    statement_size,
)
from .statements import (
    REGION_NAME,
    PolicyOptions,
    PolicyProfile,
    StatementSpec,
    identity_statements,
    own_identity_statements,
    shared_identity_statements,
    vm_import_role_statements,
)
from .trust import (
    VM_IMPORT_ROLE_NAME,
    VM_IMPORT_SERVICE_PRINCIPAL,
    vm_import_trust_conditions,
    vm_import_trust_policy,
)

__all__ = [
    "DEFAULT_MAX_MANAGED_POLICIES",
    "EC2_ACCOUNT_SCOPES",
    "EC2_ACTION_RESOURCE_TYPES",
    "EC2_SCOPES",
    "KB1025_CORRECTIONS",
    "KB1025_PUBLISHED_ACTIONS",
    "KMS_VIA_EC2_ACTIONS",
    "KMS_VIA_S3_ACTIONS",
    "MANAGED_POLICY_LIMIT",
    "MAX_MANAGED_POLICIES",
    "NOT_GRANTED",
    "OPTIONAL_RESOURCE_TYPES",
    "PLANNING_MARGIN",
    "REASONS",
    "REGION_NAME",
    "VM_IMPORT_ROLE_KMS_ACTIONS",
    "VM_IMPORT_ROLE_NAME",
    "VM_IMPORT_ROLE_REASONS",
    "VM_IMPORT_ROLE_WITHOUT_WORKFLOW",
    "VM_IMPORT_SERVICE_PRINCIPAL",
    "WITHOUT_WORKFLOW",
    "CatalogueRow",
    "Guard",
    "PolicyOptions",
    "PolicyProfile",
    "PolicyTargets",
    "Reason",
    "ResourceType",
    "Source",
    "StatementSpec",
    "bucket_arn",
    "catalogue_rows",
    "condition_of",
    "iam_size",
    "identity_policy",
    "identity_statements",
    "kb1025_corrected_actions",
    "kb1025_correction_notes",
    "own_identity_statements",
    "plan_documents",
    "policy_document",
    "reason_for",
    "render_statements",
    "shared_identity_statements",
    "statement_size",
    "vm_import_role_policy",
    "vm_import_role_rows",
    "vm_import_role_statements",
    "vm_import_trust_conditions",
    "vm_import_trust_policy",
]
