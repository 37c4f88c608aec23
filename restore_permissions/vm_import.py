"""The account's ``vmimport`` service role, shared by every RestorePermissions in a stack."""

from __future__ import annotations

import enum

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import nag
from .policy import (
    STATEMENT_IDS,
    VM_IMPORT_ROLE_BUCKET_GRANTS,
    VM_IMPORT_ROLE_GRANTS,
    VM_IMPORT_ROLE_NAME,
    VM_IMPORT_SERVICE_PRINCIPAL,
    Scope,
    policy_statements,
)


class VmImportRole(enum.Enum):
    """What RestorePermissions does about the ``vmimport`` service role."""

    #: Create the role named ``vmimport`` with the documented trust and policy.
    CREATE = "create"
    #: The account already has ``vmimport``: attach a policy for the bucket to it.
    USE_EXISTING = "use-existing"
    #: Leave the role alone (someone else manages it, or restores don't import).
    NONE = "none"


class VmImportServiceRole(Construct):
    """The ``vmimport`` role (created or imported) and its bucket-scoped managed policy.

    IAM role names are unique per account, so a stack holds at most one of
    these, as a child of the stack with the fixed id :attr:`CONSTRUCT_ID`. Use
    :meth:`of` to get it; each RestorePermissions adds its buckets with
    :meth:`add_bucket`.
    """

    CONSTRUCT_ID = "VmImportServiceRole"

    @classmethod
    def of(cls, scope: Construct, mode: VmImportRole) -> VmImportServiceRole:
        """The stack's singleton for ``mode``; raises ValueError if the stack uses another mode."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.CONSTRUCT_ID)
        if existing is None:
            return cls(stack, cls.CONSTRUCT_ID, mode=mode)
        if not isinstance(existing, VmImportServiceRole):
            raise ValueError(
                f"stack {stack.node.path!r} already has a child named {cls.CONSTRUCT_ID!r} "
                "that is not the vmimport role singleton"
            )
        if existing.mode is not mode:
            raise ValueError(
                f"vm_import_role={mode} conflicts with vm_import_role={existing.mode} used by "
                f"another RestorePermissions in stack {stack.node.path!r}: the stack has one "
                f"{VM_IMPORT_ROLE_NAME!r} role, so all of its RestorePermissions must use the same mode"
            )
        return existing

    def __init__(self, scope: Construct, id: str, *, mode: VmImportRole) -> None:
        super().__init__(scope, id)
        if mode is VmImportRole.NONE:
            raise ValueError("VmImportServiceRole is not created for VmImportRole.NONE")
        self.mode = mode
        stack = Stack.of(self)
        if mode is VmImportRole.CREATE:
            # Trust as in the VM Import/Export guide, plus its confused-deputy
            # hardening: only this account's VM Import/Export may assume it.
            service = iam.ServicePrincipal(
                VM_IMPORT_SERVICE_PRINCIPAL,
                conditions={
                    "StringEquals": {
                        "sts:Externalid": VM_IMPORT_ROLE_NAME,
                        "aws:SourceAccount": stack.account,
                    },
                    "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:vmie:*:{stack.account}:*"},
                },
            )
            self.role: iam.IRole = iam.Role(
                self,
                "Role",
                role_name=VM_IMPORT_ROLE_NAME,
                assumed_by=service,
                description="VM Import/Export service role (restore-permissions)",
            )
            grants = VM_IMPORT_ROLE_GRANTS
        else:
            self.role = iam.Role.from_role_name(self, "Role", VM_IMPORT_ROLE_NAME)
            grants = VM_IMPORT_ROLE_BUCKET_GRANTS
        self._grants = grants
        self._bucket_statement: iam.PolicyStatement | None = None
        self._objects_statement: iam.PolicyStatement | None = None
        self._object_arns: list[str] = []
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            description="Lets VM Import/Export read the backup buckets (restore-permissions)",
        )
        self.policy.node.add_validation(
            nag.WildcardResourceAcknowledgments(self.policy, self._justified_wildcards)
        )
        if mode is VmImportRole.CREATE:
            nag.acknowledge(
                self.policy,
                "AwsSolutions-IAM5[Action::ec2:Describe*]",
                "The AWS VM Import/Export guide grants the service role ec2:Describe* without "
                "listing the calls it makes; Describe calls are read-only.",
            )

    def add_bucket(self, bucket_arn: str, objects_arn: str) -> None:
        """Let VM Import/Export read the disk images in one more bucket."""
        if self._bucket_statement is None or self._objects_statement is None:
            statements = {
                str(document["Sid"]): iam.PolicyStatement.from_json(document)
                for document in policy_statements(
                    self._grants,
                    {Scope.ANY: ["*"], Scope.BUCKET: [bucket_arn], Scope.OBJECTS: [objects_arn]},
                )
            }
            self.policy.add_statements(*statements.values())
            self._bucket_statement = statements[STATEMENT_IDS[Scope.BUCKET]]
            self._objects_statement = statements[STATEMENT_IDS[Scope.OBJECTS]]
        else:
            self._bucket_statement.add_resources(bucket_arn)
            self._objects_statement.add_resources(objects_arn)
        self._object_arns.append(objects_arn)

    def _justified_wildcards(self) -> list[tuple[str, str]]:
        justified = [
            (
                arn,
                "VM Import/Export reads disk images under any key of this backup bucket; "
                "the wildcard stays inside the bucket.",
            )
            for arn in self._object_arns
        ]
        if self.mode is VmImportRole.CREATE:
            justified.append(
                (
                    "*",
                    "ec2:Describe* takes no resource-level permissions; ec2:CopySnapshot, "
                    "ec2:ModifySnapshotAttribute and ec2:RegisterImage act on snapshots and images "
                    "that VM Import/Export creates during the import, as the AWS guide grants them.",
                )
            )
        return justified
