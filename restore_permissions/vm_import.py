"""The account's ``vmimport`` service role: created once per account, or reused."""

from __future__ import annotations

import enum

import jsii
from aws_cdk import Annotations, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct, IValidation

from . import tokens
from .errors import RestorePermissionsError, check_bool, check_policy_quota, construct_path
from .policy import (
    VM_IMPORT_ROLE_NAME,
    VM_IMPORT_SERVICE_PRINCIPAL,
    PolicyProfile,
    PolicyTargets,
    vm_import_role_statements,
    vm_import_trust_conditions,
)
from .policy.statements import kms_key_arn_problem
from .rendered_policy import PolicySet
from .scopes import adopt, find_child, root_stack, stack_of


class VmImportMode(enum.Enum):
    """What RestorePermissions does about the ``vmimport`` service role.

    For an app with several customer stacks in one account, create the role
    once with :class:`VmImportAccountRole` and pass that instead: then no
    customer stack owns the account-wide role.
    """

    #: This stack creates the role named ``vmimport`` with the documented trust
    #: and policy, retained when the stack is deleted. One stack per account.
    CREATE = "create"
    #: The account already has ``vmimport``: attach a policy for the bucket to it.
    USE_EXISTING = "use-existing"
    #: Leave the role alone (someone else manages it, or restores don't import).
    NONE = "none"


#: IAM's default quota of managed policies per role.
DEFAULT_ROLE_POLICY_QUOTA = 10


def ebs_key_arn(key: object, argument: str) -> str | None:
    """The ARN of an EBS encryption key given as a ``kms.IKey`` or an ARN (ValueError otherwise).

    An ARN string must be a key ARN, not an alias (EBS grants and
    ``kms:ViaService`` name the key); deploy-time values are not checked.
    """
    if key is None:
        return None
    if isinstance(key, str):
        if not tokens.is_unresolved(key) and (problem := kms_key_arn_problem(key)):
            raise ValueError(f"{argument}={key!r} {problem}")
        return key
    if not hasattr(key, "key_arn"):
        raise ValueError(
            f"{argument}={key!r} is invalid: pass a kms.IKey or a KMS key ARN, for example "
            "'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'"
        )
    return str(key.key_arn)


class VmImportServiceRole(Construct):
    """The ``vmimport`` role (created or imported) and its bucket-scoped managed policies.

    IAM role names are unique per account, so a stack holds at most one of
    these, as a child of its top-level stack with the fixed id
    :attr:`CONSTRUCT_ID` (nested stacks share their parent's). Use :meth:`of`
    to get it; each RestorePermissions adds its buckets with :meth:`add_buckets`.
    No stack depends on another for the role: a created role is retained when
    its stack is deleted, and one role per account is created in the app.
    """

    CONSTRUCT_ID = "VmImportServiceRole"

    @classmethod
    def of(cls, scope: Construct, mode: VmImportMode) -> VmImportServiceRole:
        """The stack's singleton for ``mode``; raises ValueError if the stack uses another mode,
        or if another stack of the app already creates the role in the same account."""
        stack = root_stack(scope)
        existing = find_child(stack, cls.CONSTRUCT_ID)
        if existing is None:
            if mode is VmImportMode.CREATE:
                _refuse_second_creator(stack, f"{scope.node.path}")
            return cls(stack, cls.CONSTRUCT_ID, mode=mode)
        if not isinstance(existing, VmImportServiceRole):
            raise ValueError(
                f"stack {stack.node.path!r} already has a child named {cls.CONSTRUCT_ID!r} "
                "that is not the vmimport role singleton"
            )
        cls.check_mode(scope, mode)
        return existing

    @classmethod
    def check_mode(cls, scope: Construct, mode: VmImportMode) -> None:
        """Raise ValueError if the stack's singleton exists with another mode."""
        stack = root_stack(scope)
        existing = find_child(stack, cls.CONSTRUCT_ID)
        if isinstance(existing, VmImportServiceRole) and existing.mode is not mode:
            raise ValueError(
                f"vm_import={mode} conflicts with vm_import={existing.mode} used by "
                f"another RestorePermissions in stack {stack.node.path!r}: the stack has one "
                f"{VM_IMPORT_ROLE_NAME!r} role, so all of its RestorePermissions must use the same mode"
            )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mode: VmImportMode,
        max_managed_policies: int = DEFAULT_ROLE_POLICY_QUOTA,
    ) -> None:
        path = construct_path(scope, construct_id)
        if not isinstance(mode, VmImportMode) or mode is VmImportMode.NONE:
            raise RestorePermissionsError(
                path,
                f"mode={mode!r} is invalid: use VmImportMode.CREATE or VmImportMode.USE_EXISTING "
                "(VmImportMode.NONE creates no role)",
            )
        try:
            check_policy_quota(max_managed_policies)
        except ValueError as error:
            raise RestorePermissionsError(path, str(error)) from None
        super().__init__(scope, construct_id)
        adopt(self, scope)
        self.mode = mode
        stack = stack_of(self)
        if mode is VmImportMode.CREATE:
            role = iam.Role(
                self,
                "Role",
                role_name=VM_IMPORT_ROLE_NAME,
                assumed_by=iam.ServicePrincipal(
                    VM_IMPORT_SERVICE_PRINCIPAL,
                    conditions=vm_import_trust_conditions(tokens.partition(), stack.account),
                ),
                description="VM Import/Export service role (restore-permissions)",
            )
            # The role serves the whole account, and other tools may use it:
            # deleting or replacing this stack must not take it away.
            role.apply_removal_policy(RemovalPolicy.RETAIN)
            self.role: iam.IRole = role
        else:
            self.role = iam.Role.from_role_name(self, "Role", VM_IMPORT_ROLE_NAME)
        # The first policy is created by synth, with every bucket's statements
        # (see PolicySet), unless something reads it first (``policy``).
        self.policies = PolicySet(
            self,
            None,
            new_policy=self._new_policy,
            anchor=self.role,
            profile=PolicyProfile.LEAST_PRIVILEGE,
            max_policies=max_managed_policies,
        )
        self._bucket_arns: list[str] = []
        self._object_arns: list[str] = []
        self._kms_key_arns: list[str] = []
        self._ebs_kms_key_arns: list[str] = []
        #: Whether the policies hold the role's EC2 statements too (not only buckets).
        self.holds_role_statements = mode is VmImportMode.CREATE
        self.node.add_validation(_RolePolicyQuota(self))
        if mode is VmImportMode.CREATE:
            self.add_buckets([], max_policies=max_managed_policies)

    @property
    def account(self) -> str:
        return stack_of(self).account

    def created_resources(self) -> int:
        """The CloudFormation resources this construct holds: the role when it creates
        it, and its managed policies."""
        return (self.mode is VmImportMode.CREATE) + self.policies.count

    @property
    def policy(self) -> iam.ManagedPolicy:
        """The role's first managed policy (id ``Policy``; past 6,144 characters synth
        adds more, see ``policies``)."""
        return self.policies.policies[0]

    def _new_policy(
        self, policy_id: str, document: iam.PolicyDocument | None = None
    ) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            policy_id,
            document=document,
            roles=[self.role],
            description="Lets VM Import/Export read the backup buckets (restore-permissions)",
        )
        adopt(policy, self)
        return policy

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
        self._set_statements()

    def add_ebs_key(self, kms_key_arn: str) -> None:
        """Let VM Import/Export use the account's EBS encryption key (VM Import guide:
        with EBS encryption by default under a customer managed key, the role needs it)."""
        if kms_key_arn not in self._ebs_kms_key_arns:
            self._ebs_kms_key_arns.append(kms_key_arn)
            self._set_statements()

    def _set_statements(self) -> None:
        arns = PolicyTargets(
            partition=tokens.PARTITION,
            account=tokens.account_of(stack_of(self)),
            bucket_arns=self._bucket_arns,
            object_arns=self._object_arns,
            kms_key_arns=self._kms_key_arns,
            ebs_kms_key_arns=self._ebs_kms_key_arns,
        )
        self.policies.set_statements(
            vm_import_role_statements(
                existing_role=not self.holds_role_statements,
                kms=bool(self._kms_key_arns),
                buckets=bool(self._bucket_arns),
                ebs_key=bool(self._ebs_kms_key_arns),
            ),
            arns,
            for_vm_import_role=True,
        )


class VmImportAccountRole(VmImportServiceRole):
    """The account's ``vmimport`` role, owned by an account-level stack rather than a customer's.

    Put one in a stack of its own per account, and pass it to each
    RestorePermissions as ``vm_import=``. Their buckets are added to
    this role's policies, so customer stacks hold nothing on the role and
    depend neither on this stack nor on each other: deleting, reordering or
    removing a customer stack never touches the role or another customer.
    The role is retained when this stack is deleted.

    Buckets and keys must be known to this stack without a reference to a
    customer stack (a bucket name, an imported bucket or key, or one created
    in this stack); otherwise this stack would depend on the customer's and
    block its deletion.

    :param max_managed_policies: the role's managed-policy quota, 1 to 20.
        Default: 10, IAM's default quota (raise the quota before raising this).
    :param role_exists: the account already has ``vmimport``, for example one
        retained from a customer stack that created it: attach this
        construct's policies (the role's EC2 statements and every bucket) to
        it instead of creating it. Its trust policy is left as it is.
        Default: False.
    :param ebs_encryption_key: the account's EBS encryption-by-default key, when
        it is a customer managed key: a ``kms.IKey`` or a key ARN. VM Import/Export
        gets the guide's KMS actions on it. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        max_managed_policies: int = DEFAULT_ROLE_POLICY_QUOTA,
        role_exists: bool = False,
        ebs_encryption_key: kms.IKey | str | None = None,
    ) -> None:
        try:
            check_bool(role_exists, "role_exists")
            check_policy_quota(max_managed_policies)
            ebs_arn = ebs_key_arn(ebs_encryption_key, "ebs_encryption_key")
        except ValueError as error:
            raise RestorePermissionsError(construct_path(scope, construct_id), str(error)) from None
        if not role_exists:
            _refuse_second_creator(root_stack(scope), f"{scope.node.path}/{construct_id}")
        super().__init__(
            scope,
            construct_id,
            mode=VmImportMode.USE_EXISTING if role_exists else VmImportMode.CREATE,
            max_managed_policies=max_managed_policies,
        )
        if role_exists:
            # A retained role lost its EC2 statements with the stack that created it.
            self.holds_role_statements = True
            self.add_buckets([], max_policies=max_managed_policies)
        if ebs_arn is not None:
            self.add_ebs_key(ebs_arn)


def _creators(root: IConstruct) -> list[VmImportServiceRole]:
    return [
        c
        for c in root.node.find_all()
        if isinstance(c, VmImportServiceRole) and c.mode is VmImportMode.CREATE
    ]


def _refuse_second_creator(stack: Stack, path: str) -> None:
    """ValueError when another stack of the app creates ``vmimport`` in the same account."""
    for other in _creators(stack.node.root):
        other_stack = root_stack(other)
        if Token.is_unresolved(stack.account) or Token.is_unresolved(other_stack.account):
            if other_stack is not stack:
                Annotations.of(stack).add_warning_v2(
                    "restore-permissions:vmimport-twice",
                    f"Stacks {other_stack.node.path!r} and {stack.node.path!r} both create the "
                    f"{VM_IMPORT_ROLE_NAME!r} role, and their account is only known at deploy "
                    "time. If they deploy to one account, the second deploy fails: give the "
                    "stacks an explicit env account, and create the role once with a "
                    "VmImportAccountRole.",
                )
            continue
        if other_stack.account == stack.account:
            raise RestorePermissionsError(
                path,
                f"{other.node.path!r} already creates the {VM_IMPORT_ROLE_NAME!r} role "
                f"in account {stack.account}, and IAM role names are unique per account. Create "
                "the role once, with a VmImportAccountRole in an account-level stack, and pass "
                "it as vm_import= to every RestorePermissions of that account, so that no "
                "customer stack owns it (or use VmImportMode.USE_EXISTING)",
            )


@jsii.implements(IValidation)
class _RolePolicyQuota:
    """Counts the managed policies that the app attaches to ``vmimport`` in one account."""

    def __init__(self, owner: VmImportServiceRole) -> None:
        self._owner = owner

    def validate(self) -> list[str]:
        account = self._owner.account
        # Stacks whose account is known only at deploy time may go to different
        # accounts: each is counted on its own (synth warns when two create the role).
        same = (
            [self._owner]
            if Token.is_unresolved(account)
            else [
                c
                for c in self._owner.node.root.node.find_all()
                if isinstance(c, VmImportServiceRole) and c.account == account
            ]
        )
        # One report per account: from the first holder, in tree order.
        if not same or same[0] is not self._owner:
            return []
        total = sum(c.policies.count for c in same)
        quota = max(c.policies.max_policies for c in same)
        if total <= quota:
            return []
        holders = ", ".join(f"{c.node.path} ({c.policies.count})" for c in same)
        return [
            f"the {VM_IMPORT_ROLE_NAME!r} role of account {account} would hold {total} managed "
            f"policies from this app, more than its quota of {quota} (IAM allows 10 per role by "
            f"default, 20 at most): {holders}. Hold every bucket in one VmImportAccountRole, "
            "whose policies pack many buckets each, or raise max_managed_policies after "
            "raising the IAM quota"
        ]
