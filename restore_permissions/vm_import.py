"""The account's ``vmimport`` service role, shared by every RestorePermissions in a stack."""

from __future__ import annotations

import enum

from aws_cdk import Annotations, Stack, Stage, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import tokens
from .policy import (
    VM_IMPORT_ROLE_NAME,
    VM_IMPORT_SERVICE_PRINCIPAL,
    Arns,
    PolicyProfile,
    vm_import_role_statements,
    vm_import_trust_conditions,
)
from .rendered_policy import PolicySet


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
        """The stack's singleton for ``mode``; raises ValueError if the stack uses another mode.

        With CREATE, when another stack of the same app already creates the
        role in the same account, this stack attaches its policy to that role
        and deploys after that stack, instead of creating a second role.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.CONSTRUCT_ID)
        if existing is None:
            owner = cls._creator_in_other_stack(stack) if mode is VmImportRole.CREATE else None
            return cls(stack, cls.CONSTRUCT_ID, mode=mode, role_created_by=owner)
        if not isinstance(existing, VmImportServiceRole):
            raise ValueError(
                f"stack {stack.node.path!r} already has a child named {cls.CONSTRUCT_ID!r} "
                "that is not the vmimport role singleton"
            )
        cls.check_mode(scope, mode)
        return existing

    @classmethod
    def check_mode(cls, scope: Construct, mode: VmImportRole) -> None:
        """Raise ValueError if the stack's singleton exists with another mode."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.CONSTRUCT_ID)
        if isinstance(existing, VmImportServiceRole) and existing.mode is not mode:
            raise ValueError(
                f"vm_import_role={mode} conflicts with vm_import_role={existing.mode} used by "
                f"another RestorePermissions in stack {stack.node.path!r}: the stack has one "
                f"{VM_IMPORT_ROLE_NAME!r} role, so all of its RestorePermissions must use the same mode"
            )

    @classmethod
    def _creator_in_other_stack(cls, stack: Stack) -> Stack | None:
        """Another stack of this app that creates the role in the same account, if any."""
        stage = Stage.of(stack)
        if stage is None:
            return None
        for other in stage.node.children:
            if other is stack or not isinstance(other, Stack):
                continue
            singleton = other.node.try_find_child(cls.CONSTRUCT_ID)
            if (
                not isinstance(singleton, VmImportServiceRole)
                or singleton.role_created_by is not None
            ):
                continue
            if singleton.mode is not VmImportRole.CREATE:
                continue
            if Token.is_unresolved(stack.account) or Token.is_unresolved(other.account):
                Annotations.of(stack).add_warning_v2(
                    "restore-permissions:vmimport-twice",
                    f"Stacks {other.node.path!r} and {stack.node.path!r} both create the "
                    f"{VM_IMPORT_ROLE_NAME!r} role, and their account is only known at deploy "
                    "time. If they deploy to one account, the second deploy fails: give the "
                    "stacks an explicit env account (they then share the role), or use "
                    "VmImportRole.USE_EXISTING in one of them.",
                )
                return None
            if stack.account == other.account:
                return other
        return None

    def __init__(
        self, scope: Construct, id: str, *, mode: VmImportRole, role_created_by: Stack | None = None
    ) -> None:
        super().__init__(scope, id)
        if mode is VmImportRole.NONE:
            raise ValueError("VmImportServiceRole is not created for VmImportRole.NONE")
        self.mode = mode
        #: The stack that creates the role, when it is not this one.
        self.role_created_by = role_created_by
        stack = Stack.of(self)
        if role_created_by is not None:
            # The role comes from that stack: deploy after it.
            stack.add_dependency(role_created_by, f"it creates the {VM_IMPORT_ROLE_NAME!r} role")
        if mode is VmImportRole.CREATE and role_created_by is None:
            self.role: iam.IRole = iam.Role(
                self,
                "Role",
                role_name=VM_IMPORT_ROLE_NAME,
                assumed_by=iam.ServicePrincipal(
                    VM_IMPORT_SERVICE_PRINCIPAL,
                    conditions=vm_import_trust_conditions(tokens.partition(), stack.account),
                ),
                description="VM Import/Export service role (restore-permissions)",
            )
        else:
            self.role = iam.Role.from_role_name(self, "Role", VM_IMPORT_ROLE_NAME)
        self.policy = self._new_policy("Policy")
        self.policies = PolicySet(
            self,
            self.policy,
            new_policy=self._new_policy,
            profile=PolicyProfile.LEAST_PRIVILEGE,
            max_policies=1,
        )
        self._bucket_arns: list[str] = []
        self._object_arns: list[str] = []
        self._kms_key_arns: list[str] = []

    def _new_policy(self, id: str) -> iam.ManagedPolicy:
        return iam.ManagedPolicy(
            self,
            id,
            roles=[self.role],
            description="Lets VM Import/Export read the backup buckets (restore-permissions)",
        )

    def add_buckets(self, buckets: list[tuple[str, str, str | None]], *, max_policies: int) -> None:
        """Let VM Import/Export read the disk images in more buckets (and use their keys).

        Each item is ``(bucket ARN, objects ARN, KMS key ARN or None)``. The
        role may hold as many policies as the largest ``max_policies`` given.
        """
        for bucket_arn, objects_arn, kms_key_arn in buckets:
            self._bucket_arns.append(bucket_arn)
            self._object_arns.append(objects_arn)
            if kms_key_arn is not None and kms_key_arn not in self._kms_key_arns:
                self._kms_key_arns.append(kms_key_arn)
        self.policies.max_policies = max(self.policies.max_policies, max_policies)
        arns = Arns(
            partition=tokens.partition(),
            account=Stack.of(self).account,
            bucket_arns=self._bucket_arns,
            object_arns=self._object_arns,
            kms_key_arns=self._kms_key_arns,
        )
        self.policies.render_from(
            vm_import_role_statements(
                existing_role=self.role_created_by is not None
                or self.mode is VmImportRole.USE_EXISTING,
                kms=bool(self._kms_key_arns),
            ),
            arns,
            vm_import_role=True,
        )
