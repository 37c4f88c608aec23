"""The RestorePermissions construct."""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import jsii
from aws_cdk import (
    Annotations,
    CfnOutput,
    Duration,
    Fn,
    IStableStringProducer,
    Lazy,
    RemovalPolicy,
    SecretValue,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

if TYPE_CHECKING:  # only in annotations: importing them costs synth time
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_secretsmanager as secretsmanager

from . import nag, tokens
from .bucket_names import bucket_name_error
from .errors import RestorePermissionsError, check_bool, check_policy_quota, construct_path
from .identity import (
    AccessKeySlot,
    RestoreIdentity,
    RoleIdentity,
    SecretEncryption,
    UserIdentity,
)
from .nag_reasons import SECRET_AWS_MANAGED_KEY_REASON, SECRET_ROTATION_REASON
from .policy import (
    DEFAULT_MAX_MANAGED_POLICIES,
    MAX_MANAGED_POLICIES,
    VM_IMPORT_ROLE_NAME,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    kb1025_correction_notes,
    own_identity_statements,
)
from .policy.workflows import unsupported_workflows
from .rendered_policy import FIRST_POLICY_ID, PolicySet
from .scopes import adopt, find_child, node_of, path_of, root_stack, stack_of
from .shared_policy import SharedRestorePolicy
from .stack_checks import StackChecks
from .template_limits import (
    ResourceBudget,
    add_resource_limit,
    add_template_limits,
    resource_problem,
)
from .vm_import import VmImportAccountRole, VmImportMode, VmImportServiceRole, ebs_key_arn

# IAM user and role names (IAM quotas page).
_PRINCIPAL_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# sts:ExternalId (STS AssumeRole API reference).
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)


@dataclass(frozen=True)
class _BucketArns:
    bucket_arn: str
    objects_arn: str
    kms_key_arn: str | None
    #: The bucket and key constructs (None for names and ARNs): errors name
    #: them by path, since their ARNs are tokens.
    constructs: tuple[IConstruct | None, IConstruct | None] = (None, None)


def _check_known_to_account_stack(
    bucket: _BucketArns, account_role: VmImportAccountRole, path: str
) -> None:
    """RestorePermissionsError when the account stack would reference another stack for a
    bucket or its key. The message names the construct: its ARN is a token."""
    home = root_stack(account_role)
    for owner, value, argument in zip(
        bucket.constructs,
        (bucket.bucket_arn, bucket.kms_key_arn),
        ("the bucket", "the bucket's KMS key (encryption_key)"),
        strict=True,
    ):
        literal = (value or "").replace(tokens.partition(), "").replace(tokens.PARTITION, "")
        if owner is None or not tokens.is_unresolved(literal):
            continue
        stack = root_stack(owner)
        if stack is not home:
            raise RestorePermissionsError(
                path,
                f"{argument} {owner.node.path!r} is created in stack {stack.node.path!r}; the "
                f"VmImportAccountRole in stack {home.node.path!r} would depend on that stack and "
                "block its deletion. Pass the bucket's name as a string (and the key with "
                "kms.Key.from_key_arn), or create the bucket in the account stack",
            )


class _ManagedPolicyPrincipal(iam.PrincipalBase):
    """The user or role, with grants routed into the construct's managed policy.

    ``bucket.grant_read(restore)`` would otherwise add an inline policy to the
    user or role, which the NIST 800-53, HIPAA and PCI packs reject.
    """

    def __init__(self, identity: iam.IPrincipal, policy: iam.ManagedPolicy) -> None:
        super().__init__()
        self._identity = identity
        self._policy = policy

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._identity.policy_fragment

    @property
    def principal_account(self) -> str | None:
        # The identity's account, as iam.User and iam.Role report it. Without
        # it CDK treats every grant as cross-account: it also writes the user
        # into bucket and key policies, which ties a Storage stack to this one
        # and makes cross-stack grants a dependency cycle.
        return self._identity.principal_account

    def dedupe_string(self) -> str | None:
        return None

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)


@jsii.implements(iam.IGrantable)
class RestorePermissions(Construct):
    """An IAM identity that may restore image-based backups from a bucket as EC2 instances.

    Creates an IAM user (in a group that holds the policy) or a role, one
    customer-managed policy scoped to the bucket, and the account's
    ``vmimport`` service role (or a policy on the existing one), and outputs
    their names and ARNs. The access key's secret goes to Secrets Manager,
    never to an output.

    :param bucket: the backup bucket: an ``s3.IBucket`` (imported, or created in
        the same stack) or a bucket name. Give ``bucket``, ``buckets`` or both.
    :param buckets: more backup buckets for the same identity; add others later
        with :meth:`add_bucket`. Default: none.
    :param identity: who the backup tool signs in as:
        ``RestoreIdentity.user(...)`` or ``RestoreIdentity.role(assumed_by=...)``.
        Default: ``RestoreIdentity.user()``, a user with one access key.
    :param profile: what the identity may do: ``PolicyProfile.least_privilege(...)``
        (with its options) or ``PolicyProfile.kb1025(...)`` (the vendor
        article's grants, corrected and bucket-scoped).
        Default: ``PolicyProfile.least_privilege()``.
    :param encryption_key: the KMS key of the bucket's objects; the identity and
        the vmimport role get the documented KMS actions on it. Default: the
        bucket's ``encryption_key`` when ``bucket`` is an ``s3.IBucket`` that has one.
    :param ebs_encryption_key: the customer managed key that EBS encrypts new
        volumes and snapshots with (the account's EBS encryption-by-default key),
        when it is not the bucket's: a ``kms.IKey`` or a key ARN. The identity may
        use it only through EBS, and the vmimport role gets the VM Import guide's
        KMS actions on it. Default: none (EBS encryption off, or the AWS managed
        ``aws/ebs`` key, which needs no grant).
    :param vm_import: CREATE (this stack creates the account's ``vmimport``
        role, retained on delete; one stack per account), USE_EXISTING, NONE,
        or a :class:`VmImportAccountRole` that an account-level stack owns,
        which then holds this construct's buckets. Default: ``VmImportMode.CREATE``.
    :param create_outputs: add CloudFormation outputs. Default: True.
    :param legacy_bucket_name: accept a legacy us-east-1 bucket name (uppercase
        letters, underscores, up to 255 characters). Default: False.
    :param max_managed_policies: how many managed policies the identity (and the
        vmimport role) may hold: 1 to 20. Past 6,144 characters the statements
        are split over more policies; past this number synth fails. Default: 10,
        IAM's default quota (raise the quota before raising this).
    """

    #: The stack's secret key, when this construct created it.
    _created_secret_key: kms.Key | None = None

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket | str | None = None,
        buckets: Sequence[s3.IBucket | str] | None = None,
        identity: UserIdentity | RoleIdentity | None = None,
        profile: PolicyOptions | None = None,
        encryption_key: kms.IKey | None = None,
        ebs_encryption_key: kms.IKey | str | None = None,
        vm_import: VmImportMode | VmImportAccountRole = VmImportMode.CREATE,
        create_outputs: bool = True,
        legacy_bucket_name: bool = False,
        max_managed_policies: int = DEFAULT_MAX_MANAGED_POLICIES,
    ) -> None:
        path = construct_path(scope, construct_id)
        identity = identity if identity is not None else RestoreIdentity.user()
        profile = profile if profile is not None else PolicyProfile.least_privilege()
        all_buckets = _with_path(
            path,
            lambda: _check_props(
                scope,
                bucket=bucket,
                buckets=buckets,
                identity=identity,
                profile=profile,
                vm_import=vm_import,
                legacy_bucket_name=legacy_bucket_name,
                create_outputs=create_outputs,
                encryption_key=encryption_key,
                max_managed_policies=max_managed_policies,
            ),
        )
        #: The ARN of ``ebs_encryption_key``, or None.
        self.ebs_kms_key_arn = _with_path(
            path, lambda: ebs_key_arn(ebs_encryption_key, "ebs_encryption_key")
        )
        self.options = profile
        _add_limit_checks(scope, stack_of(scope))
        slots = (
            list(dict.fromkeys(identity.access_keys)) if isinstance(identity, UserIdentity) else []
        )
        with_profile = isinstance(identity, RoleIdentity) and identity.instance_profile
        if create_outputs:
            # Name and ARN, policy ARNs, each slot's key id and secret ARN, the
            # instance profile's ARN; the stack's one vmimport ARN is counted once.
            count = 3 + 2 * len(slots) + with_profile
            _reserve_outputs(
                stack_of(scope), path, count, vm_import_output=vm_import is not VmImportMode.NONE
            )
        super().__init__(scope, construct_id)
        adopt(self, scope, path)
        #: USER or ROLE, from ``identity``.
        self.principal_type = identity.principal_type

        #: The group (user mode) or the role (role mode); the other is None. Created
        #: first, so that the policy is attached as it is created: one jsii round
        #: trip fewer per construct.
        self.group, self.role = self._create_holder(identity)
        #: The role's instance profile (role mode with ``instance_profile=True``), or None.
        self.instance_profile: iam.InstanceProfile | None = None
        self.user: iam.User | None = None
        #: Each slot's access key and secret.
        self.access_keys: dict[AccessKeySlot, iam.AccessKey] = {}
        self.access_key_secrets: dict[AccessKeySlot, secretsmanager.Secret] = {}
        holder = self.group if self.group is not None else self.role
        assert holder is not None
        # The own policy is created on demand (see PolicySet): by synth, with its
        # statements, unless the app reads it first (managed_policy, grants).
        self._policies = PolicySet(
            self,
            None,
            new_policy=self._new_policy,
            anchor=holder,
            profile=profile.profile,
            # The stack's shared policy counts against the same quota.
            max_policies=max(1, max_managed_policies - 1),
            shared_policies=1,
        )
        self._buckets: list[_BucketArns] = []
        self._legacy_bucket_name = legacy_bucket_name
        principal = self._create_identity(identity, slots)
        # The statements that name no bucket or key, shared with the stack's
        # other identities of the same options (the own policy waits for them).
        self._shared = SharedRestorePolicy.of(self, profile)
        self._shared.attach(holder)

        #: The user or role, as a principal.
        self.principal: iam.IPrincipal = principal
        # Created on first use: most apps never grant to the construct.
        self._grant_principal: iam.IPrincipal | None = None

        self._vm_import: VmImportServiceRole | None = None
        #: The account's vmimport role (created or imported), or None with VmImportMode.NONE.
        self.vm_import_role: iam.IRole | None = None
        if isinstance(vm_import, VmImportAccountRole):
            self._vm_import = vm_import
            # By name, not by reference: this stack must not depend on the account's.
            self.vm_import_role = iam.Role.from_role_name(self, "VmImportRole", VM_IMPORT_ROLE_NAME)
        elif vm_import is not VmImportMode.NONE:
            self._vm_import = VmImportServiceRole.of(self, vm_import)
            self.vm_import_role = self._vm_import.role
        if self._vm_import is not None and self.ebs_kms_key_arn is not None:
            self._vm_import.add_ebs_key(self.ebs_kms_key_arn)

        self._add_buckets([self._bucket_arns(b, encryption_key) for b in all_buckets])
        if profile.profile is PolicyProfile.KB1025:
            Annotations.of(self).add_warning_v2(
                "restore-permissions:kb1025-corrections",
                "PolicyProfile.kb1025() corrected the vendor article: "
                + "; ".join(kb1025_correction_notes()),
            )
        # A restore path that the options cannot serve must be said at synth,
        # not found at restore time.
        for workflow, reason in unsupported_workflows(self.options):
            Annotations.of(self).add_warning_v2(
                f"restore-permissions:unsupported-workflow:{workflow.name}",
                f"The {workflow.name} restore ({workflow.title}) is not granted: {reason}",
            )
        if create_outputs:
            self._create_outputs()
        self._check_composition_and_size()

    def _check_composition_and_size(self) -> None:
        # A grant of the user's that unscopes a key is warned of at synth
        # (one validation per stack, for all of its RestorePermissions).
        _UnscopedKeyGrants.of(stack_of(self)).add(self)
        self._reserve_resources()

    def created_resources(self) -> int:
        """The CloudFormation resources this construct created itself, counted in Python:
        the stack's shared ones (the vmimport role, the shared policy, the secrets' key)
        are counted by their owners. tests/test_resource_count.py compares the count
        with the stack's CfnResources for every option."""
        return (
            self._policies.count
            + (self.group is not None)
            + (self.user is not None)
            + (self.role is not None)
            + (self.instance_profile is not None)
            # Each slot's AWS::IAM::AccessKey and AWS::SecretsManager::Secret.
            + len(self.access_keys)
            + len(self.access_key_secrets)
        )

    def _reserve_resources(self) -> None:
        """RestorePermissionsError once the stack cannot hold what it has (one line,
        not CDK's trace at synth), counting CDK's metadata resource when it will add it.

        Counted in Python, without walking the tree: what this construct created,
        and the stack-level resources the first time they are seen."""
        stack = stack_of(self)
        budget = ResourceBudget.of(stack)
        budget.add(self, self.created_resources())
        budget.add(self._shared, self._shared.created_resources())
        role = self._vm_import
        if isinstance(role, VmImportServiceRole) and stack_of(role) is stack:
            budget.add(role, role.created_resources())
        if self._created_secret_key is not None:
            budget.add(self._created_secret_key, 1)  # AWS::KMS::Key

        def split_off() -> int:
            # The managed policies that synth will add past 6,144 characters.
            extra = self._policies.planned_policies() - 1
            if isinstance(role, VmImportServiceRole) and stack_of(role) is stack:
                extra += role.policies.planned_policies() - 1
            return max(0, extra)

        problem = resource_problem(stack, budget.count, split_off)
        if problem is not None:
            raise RestorePermissionsError(path_of(self), problem)

    @property
    def scoped_key_arns(self) -> list[str]:
        """The KMS keys the construct scopes: the buckets' keys and the EBS key."""
        keys = [b.kms_key_arn for b in self._buckets if b.kms_key_arn]
        if self.ebs_kms_key_arn:
            keys.append(self.ebs_kms_key_arn)
        return list(dict.fromkeys(keys))

    def _create_holder(
        self, identity: UserIdentity | RoleIdentity
    ) -> tuple[iam.Group | None, iam.Role | None]:
        """The group (user mode) or the role (role mode): what the managed policies attach to."""
        if isinstance(identity, UserIdentity):
            # The policy goes on a group, never on the user: NIST 800-53, HIPAA
            # and PCI reject policies attached to users and users in no group.
            return iam.Group(self, "Group"), None
        return None, iam.Role(
            self,
            "Role",
            role_name=identity.name,
            assumed_by=identity.assumed_by,
            external_ids=[identity.external_id] if identity.external_id is not None else None,
            description="Restores image-based backups as EC2 instances (restore-permissions)",
        )

    def _create_identity(
        self, identity: UserIdentity | RoleIdentity, slots: list[AccessKeySlot]
    ) -> iam.IPrincipal:
        """The user (in the group, with its keys), or the role's instance profile."""
        if isinstance(identity, UserIdentity):
            assert self.group is not None
            self.user = iam.User(self, "User", user_name=identity.name, groups=[self.group])
            if slots:
                encryption = identity.secret_encryption
                self._create_access_keys(
                    self.user,
                    slots,
                    identity.access_key_serial,
                    None
                    if encryption.is_aws_managed
                    else encryption.key or self._stack_secret_key(),
                )
            return self.user
        assert self.role is not None
        if identity.instance_profile:
            # EC2 hands a role to an instance only through an instance profile.
            self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.role)
        return self.role

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The user or role; grants to it land in the construct's managed policy."""
        if self._grant_principal is None:
            self._grant_principal = _ManagedPolicyPrincipal(self.principal, self.managed_policy)
        return self._grant_principal

    def _stack_secret_key(self) -> kms.IKey:
        key, created = _stack_secret_key(self)
        if created:
            self._created_secret_key = key
        return key

    @property
    def managed_policies(self) -> list[iam.ManagedPolicy]:
        """Every managed policy of the identity: its own (more than one past 6,144
        characters; the extra ones appear at synth), then the stack's shared ones."""
        return [*self._policies.policies, *self._shared.policies.policies]

    def add_bucket(
        self, bucket: s3.IBucket | str, *, encryption_key: kms.IKey | None = None
    ) -> None:
        """Let the identity (and the vmimport role) restore from one more bucket.

        Logical ids do not change, so a deployed stack updates in place.
        ``encryption_key`` defaults to the bucket's ``encryption_key``.
        """

        def check() -> list[s3.IBucket | str]:
            _check_encryption_key(encryption_key, "encryption_key")
            return _check_buckets(bucket, None, legacy=self._legacy_bucket_name)

        (checked,) = _with_path(path_of(self), check)
        self._add_buckets([self._bucket_arns(checked, encryption_key)])

    @property
    def managed_policy(self) -> iam.ManagedPolicy:
        """The identity's own managed policy (id ``Policy``; past 6,144 characters
        synth adds more, see :attr:`managed_policies`). Grants to the construct
        land in it."""
        return self._policies.policies[0]

    def _new_policy(
        self, policy_id: str, document: iam.PolicyDocument | None = None
    ) -> iam.ManagedPolicy:
        # Attached from the policy's side (ManagedPolicy.Groups/Roles) rather
        # than the role's ManagedPolicyArns.
        policy = iam.ManagedPolicy(
            self,
            policy_id,
            description="Restore image-based backups as EC2 instances (restore-permissions)",
            document=document,
            groups=[self.group] if self.group is not None else None,
            roles=[self.role] if self.role is not None else None,
        )
        adopt(policy, self)
        if policy_id == FIRST_POLICY_ID:
            # The statements that name no bucket or key are in the shared
            # policy: an update never leaves the identity without them.
            node_of(policy).add_dependency(self._shared.policy)
        return policy

    def _add_buckets(self, buckets: list[_BucketArns]) -> None:
        self._buckets.extend(buckets)
        kms_key_arns = list(dict.fromkeys(b.kms_key_arn for b in self._buckets if b.kms_key_arn))
        arns = PolicyTargets(
            partition=tokens.PARTITION,
            account=tokens.account_of(stack_of(self)),
            bucket_arns=[b.bucket_arn for b in self._buckets],
            object_arns=[b.objects_arn for b in self._buckets],
            kms_key_arns=kms_key_arns,
            regions=self.options.allowed_regions,
            url_suffix=tokens.URL_SUFFIX,
            ebs_kms_key_arns=[self.ebs_kms_key_arn] if self.ebs_kms_key_arn else [],
        )
        self._policies.set_statements(
            own_identity_statements(
                self.options, kms=bool(kms_key_arns), ebs_key=bool(self.ebs_kms_key_arn)
            ),
            arns,
            self.options,
        )
        self._policies.check_fits("the restore identity", len(self._buckets), MAX_MANAGED_POLICIES)
        if isinstance(self._vm_import, VmImportAccountRole):
            for b in buckets:
                _check_known_to_account_stack(b, self._vm_import, path_of(self))
        if self._vm_import is not None:
            self._vm_import.add_buckets(
                [(b.bucket_arn, b.objects_arn, b.kms_key_arn) for b in buckets],
                max_policies=self._policies.max_policies,
            )

    def _bucket_arns(
        self, bucket: s3.IBucket | str, encryption_key: kms.IKey | None
    ) -> _BucketArns:
        key = encryption_key
        bucket_construct: IConstruct | None = None
        if isinstance(bucket, str):
            # Built by hand rather than with s3.Bucket.from_bucket_name, which
            # refuses legacy names longer than 63 characters.
            bucket_arn = f"arn:{tokens.PARTITION}:s3:::{bucket}"
            objects_arn = f"{bucket_arn}/*"
        else:
            bucket_arn, objects_arn = bucket.bucket_arn, bucket.arn_for_objects("*")
            key = key or bucket.encryption_key
            bucket_construct = bucket
        return _BucketArns(
            bucket_arn,
            objects_arn,
            key.key_arn if key is not None else None,
            (bucket_construct, key),
        )

    @property
    def access_key(self) -> iam.AccessKey | None:
        """Slot A's access key (see :attr:`access_keys` for both slots)."""
        return self.access_keys.get(AccessKeySlot.A)

    @property
    def access_key_secret(self) -> secretsmanager.Secret | None:
        """Slot A's secret (see :attr:`access_key_secrets` for both slots)."""
        return self.access_key_secrets.get(AccessKeySlot.A)

    def _create_access_keys(
        self,
        user: iam.User,
        slots: list[AccessKeySlot],
        serial: int | None,
        encryption_key: kms.IKey | None,
    ) -> None:
        for slot in slots:
            self._create_access_key(
                user, slot, serial if slot is AccessKeySlot.A else None, encryption_key
            )
        if serial:
            Annotations.of(self).add_warning_v2(
                "restore-permissions:access-key-serial",
                "access_key_serial replaces the access key in the same deploy: the backup "
                "tool's copy stops working when the deploy ends, and a lower value than the "
                "deployed one replaces it too. Rotate with overlap through access_key_slots.",
            )

    def _create_access_key(
        self,
        user: iam.User,
        slot: AccessKeySlot,
        serial: int | None,
        encryption_key: kms.IKey | None,
    ) -> None:
        name = "AccessKey" if slot is AccessKeySlot.A else f"AccessKey{slot.name}"
        # 0 is CloudFormation's default: leaving it out keeps None and 0 one key.
        # Imported here: aws_secretsmanager (with aws_ec2) takes about 0.15 s of CPU
        # to import, which an app without access keys (role mode) need not pay.
        from aws_cdk import aws_secretsmanager  # noqa: PLC0415

        key = iam.AccessKey(self, name, user=user, serial=serial or None)
        secret = aws_secretsmanager.Secret(
            self,
            f"{name}Secret",
            description="Access key of the restore-permissions user for the backup tool"
            + ("" if slot is AccessKeySlot.A else f" (slot {slot.name})"),
            encryption_key=encryption_key,
            secret_object_value={
                "accessKeyId": SecretValue.unsafe_plain_text(key.access_key_id),
                "secretAccessKey": key.secret_access_key,
            },
        )
        self.access_keys[slot] = key
        self.access_key_secrets[slot] = secret
        findings = dict.fromkeys(nag.SECRET_ROTATION_FINDINGS, SECRET_ROTATION_REASON)
        if encryption_key is None:
            findings |= dict.fromkeys(nag.SECRET_KMS_FINDINGS, SECRET_AWS_MANAGED_KEY_REASON)
        nag.acknowledge(secret, findings)

    def _create_outputs(self) -> None:
        if self.user is not None:
            CfnOutput(self, "UserName", value=self.user.user_name, description="Restore user name")
            CfnOutput(self, "UserArn", value=self.user.user_arn, description="Restore user ARN")
        if self.role is not None:
            CfnOutput(self, "RoleName", value=self.role.role_name, description="Restore role name")
            CfnOutput(self, "RoleArn", value=self.role.role_arn, description="Restore role ARN")
        if self.instance_profile is not None:
            CfnOutput(
                self,
                "InstanceProfileArn",
                value=self.instance_profile.instance_profile_arn,
                description="Instance profile of the restore role, for a backup tool on EC2",
            )
        # One output for all policies, so that outputs do not grow with them.
        CfnOutput(
            self,
            "ManagedPolicyArns",
            # Lazy: the extra policies of a split appear at synth.
            value=Lazy.string(_PolicyArns(self)),
            description="Comma-separated ARNs of the restore managed policies",
        )
        for slot, key in self.access_keys.items():
            name = "AccessKey" if slot is AccessKeySlot.A else f"AccessKey{slot.name}"
            suffix = "" if slot is AccessKeySlot.A else f" of slot {slot.name}"
            CfnOutput(
                self,
                f"{name}Id",
                value=key.access_key_id,
                description=f"Access key id{suffix} (the secret key is only in the Secrets "
                "Manager secret)",
            )
            CfnOutput(
                self,
                f"{name}SecretArn",
                value=self.access_key_secrets[slot].secret_arn,
                description=f"Secrets Manager secret holding the access key{suffix}",
            )
        if self.vm_import_role is not None:
            _vm_import_role_output(stack_of(self), self.vm_import_role)


#: The id of the warning that a grant weakened the construct's KMS scoping.
UNSCOPED_KEY_GRANT_WARNING = "restore-permissions:unscoped-key-grant"


class _UnscopedKeyGrants:
    """Warns at synth when a grant puts an unconditioned KMS statement beside the scoped ones.

    The construct lets S3 and EBS use its keys for the identity (``kms:ViaService``)
    and lets grants be made only for AWS resources; every statement it writes on a
    key has a condition. ``key.grant_decrypt(restore)`` lands in the same managed
    policy without one, and then the key can be used directly, which the README's
    evidence says is denied. Passing the key as ``encryption_key=`` keeps the scoping.

    One validation per stack checks each of the stack's RestorePermissions, with one
    ``resolve`` for all of them; the warning names the construct.
    """

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, _UnscopedKeyGrants]] = (
        weakref.WeakKeyDictionary()
    )

    @classmethod
    def of(cls, stack: Stack) -> _UnscopedKeyGrants:
        if stack not in cls._OF:
            cls._OF[stack] = cls(stack)
            StackChecks.add(stack, cls._OF[stack].validate)
        return cls._OF[stack]

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._restores: list[RestorePermissions] = []

    def add(self, restore: RestorePermissions) -> None:
        self._restores.append(restore)

    def validate(self) -> list[str]:
        # Grants to a construct land in its own policies (not the stack's shared ones).
        # Their documents are resolved as they are (PolicyDocument is resolvable):
        # one jsii round trip for every policy of the stack, not one per policy.
        owned = [
            (index, policy)
            for index, restore in enumerate(self._restores)
            for policy in restore._policies.created
        ]
        if not owned:
            return []
        scoped_arns = [
            (index, arn)
            for index, restore in enumerate(self._restores)
            for arn in restore.scoped_key_arns
        ]
        # Keyed rather than lists: CDK drops a value that resolves to nothing.
        resolved = self._stack.resolve(
            {
                "documents": {
                    str(n): self._restores[index]._policies.document_of(policy)
                    for n, (index, policy) in enumerate(owned)
                },
                "keys": {str(n): arn for n, (_, arn) in enumerate(scoped_arns)},
            }
        )
        documents = (resolved or {}).get("documents", {})
        keys = (resolved or {}).get("keys", {})
        scoped: list[set[str]] = [set() for _ in self._restores]
        for n, (index, _) in enumerate(scoped_arns):
            scoped[index].add(json.dumps(keys.get(str(n)), sort_keys=True))
        found: list[dict[str, set[str]]] = [{} for _ in self._restores]
        for n, (index, _) in enumerate(owned):
            document = documents.get(str(n)) or {}
            for statement in document.get("Statement", []):
                actions = _as_list(statement.get("Action", []))
                if statement.get("Effect") != "Allow" or "Condition" in statement:
                    continue
                kms_actions = [a for a in actions if a.lower().startswith("kms:") or a == "*"]
                for resource in _as_list(statement.get("Resource", [])):
                    rendered = json.dumps(resource, sort_keys=True)
                    if kms_actions and (rendered in scoped[index] or resource == "*"):
                        found[index].setdefault(
                            resource if isinstance(resource, str) else rendered, set()
                        ).update(kms_actions)
        for restore, grants in zip(self._restores, found, strict=True):
            for resource, granted in grants.items():
                Annotations.of(restore).add_warning_v2(
                    UNSCOPED_KEY_GRANT_WARNING,
                    f"A grant added {', '.join(sorted(granted))} on {resource} to this "
                    "RestorePermissions' managed policy without a condition: the key can now "
                    "be used directly, not only through S3 and EBS as the construct allows it. "
                    "Pass the key as encryption_key= (or add_bucket(..., encryption_key=key)) "
                    "instead of key.grant_*(restore).",
                )
        return []


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


#: The stack's one output of the account's vmimport role ARN, whatever the
#: number of RestorePermissions in it: the role is one per account.
VM_IMPORT_ROLE_OUTPUT_ID = "RestorePermissionsVmImportRoleArn"


def _vm_import_role_output(stack: Stack, role: iam.IRole) -> None:
    if find_child(stack, VM_IMPORT_ROLE_OUTPUT_ID) is None:
        CfnOutput(
            stack,
            VM_IMPORT_ROLE_OUTPUT_ID,
            value=role.role_arn,
            description="VM Import/Export service role ARN",
        )


#: CloudFormation's quota of outputs per stack.
MAX_STACK_OUTPUTS = 200


def _reserve_outputs(stack: Stack, path: str, count: int, *, vm_import_output: bool) -> None:
    """Fail at construction before the RestorePermissions of a stack pass 200 outputs."""
    budget = _OutputBudget.of(stack)
    if vm_import_output and not budget.vm_import_output:
        count += 1
    total = budget.reserved + count
    if total > MAX_STACK_OUTPUTS:
        raise RestorePermissionsError(
            path,
            f"create_outputs=True would give stack {stack.node.path!r} {total} outputs; "
            f"CloudFormation allows {MAX_STACK_OUTPUTS} per stack. Pass create_outputs=False to "
            "this RestorePermissions and the ones after it, or spread them over more stacks.",
        )
    budget.reserved = total
    budget.vm_import_output = budget.vm_import_output or vm_import_output


class _OutputBudget:
    """The outputs that the RestorePermissions of one stack have reserved."""

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, _OutputBudget]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, stack: Stack) -> _OutputBudget:
        if stack not in cls._OF:
            cls._OF[stack] = cls(stack)
        return cls._OF[stack]

    def __init__(self, stack: Stack) -> None:
        self.reserved = 0
        #: Whether the stack's one VmImportRoleArn output is reserved.
        self.vm_import_output = False
        StackChecks.add(stack, _OutputLimit(stack).validate)


class _OutputLimit:
    """Counts every output of the stack at synth, the application's own included."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        count = sum(1 for c in StackChecks.nodes(self._stack) if isinstance(c, CfnOutput))
        if count <= MAX_STACK_OUTPUTS:
            return []
        return [
            f"stack {self._stack.node.path!r} has {count} outputs; CloudFormation allows "
            f"{MAX_STACK_OUTPUTS}. Pass create_outputs=False to some RestorePermissions, or "
            "spread them over more stacks."
        ]


@jsii.implements(IStableStringProducer)
class _PolicyArns:
    """The policies' ARNs, comma-separated; read at synth, when a split has happened."""

    def __init__(self, restore: RestorePermissions) -> None:
        self._restore = restore

    def produce(self) -> str:
        return Fn.join(
            ",", [policy.managed_policy_arn for policy in self._restore.managed_policies]
        )


def _add_limit_checks(scope: Construct, stack: Stack) -> None:
    """The app's template limits and the stack's resource count, once each."""
    add_template_limits(scope)
    add_resource_limit(stack)
    # Before this construct adds any: the first count is of the application's own.
    ResourceBudget.of(stack)


T = TypeVar("T")


def _with_path(path: str, check: Callable[[], T]) -> T:
    """Run ``check``; a ValueError it raises becomes a RestorePermissionsError naming ``path``."""
    try:
        return check()
    except RestorePermissionsError:
        raise
    except ValueError as error:
        raise RestorePermissionsError(path, str(error)) from None


def _check_props(
    scope: Construct,
    *,
    bucket: s3.IBucket | str | None,
    buckets: Sequence[s3.IBucket | str] | None,
    identity: UserIdentity | RoleIdentity,
    profile: PolicyOptions,
    vm_import: VmImportMode | VmImportAccountRole,
    legacy_bucket_name: bool,
    create_outputs: bool,
    encryption_key: kms.IKey | None,
    max_managed_policies: int,
) -> list[s3.IBucket | str]:
    """Every value check, before any child is created; returns the buckets."""
    check_bool(legacy_bucket_name, "legacy_bucket_name")
    check_bool(create_outputs, "create_outputs")
    _check_encryption_key(encryption_key, "encryption_key")
    all_buckets = _check_buckets(bucket, buckets, legacy=legacy_bucket_name)
    _check_max_managed_policies(max_managed_policies)
    _check_identity(scope, identity)
    _check_profile(profile)
    _check_vm_import(vm_import)
    if isinstance(vm_import, VmImportMode) and vm_import is not VmImportMode.NONE:
        VmImportServiceRole.check_mode(scope, vm_import)
    if (
        isinstance(identity, RoleIdentity)
        and isinstance(identity.name, str)
        and identity.name.lower() == VM_IMPORT_ROLE_NAME
        and vm_import is not VmImportMode.NONE
    ):
        raise ValueError(
            f"name={identity.name!r} is invalid: the account's VM Import/Export service role "
            "has that name (IAM role names are unique per account, case-insensitively); name "
            "the restore role otherwise"
        )
    return all_buckets


def _trusts_ec2(scope: Construct, principal: iam.IPrincipal) -> bool:
    """Whether the trust policy ``principal`` renders names the EC2 service."""
    rendered = stack_of(scope).resolve(principal.policy_fragment.principal_json)
    services = rendered.get("Service", []) if isinstance(rendered, dict) else []
    return any(isinstance(service, str) and service.split(".")[0] == "ec2" for service in services)


def _has(value: object, attribute: str) -> bool:
    """``hasattr(value, attribute)``, without reading a property of the class: on a CDK
    object that read is a jsii round trip."""
    return hasattr(type(value), attribute) or hasattr(value, attribute)


def _is_principal(value: object) -> bool:
    return _has(value, "policy_fragment")


def _check_encryption_key(key: object, argument: str) -> None:
    if key is not None and not _has(key, "key_arn"):
        raise ValueError(
            f"{argument}={key!r} is invalid: pass a kms.IKey, for example "
            "kms.Key.from_key_arn(self, 'BackupKey', 'arn:aws:kms:...')"
        )


def _check_identity(scope: Construct, identity: UserIdentity | RoleIdentity) -> None:
    """Check the identity's values (its kind already rules out the wrong options)."""
    if isinstance(identity, RoleIdentity):
        if not _is_principal(identity.assumed_by):
            raise ValueError(
                f"assumed_by={identity.assumed_by!r} is invalid: pass an iam.IPrincipal, for "
                "example iam.AccountPrincipal('111122223333')"
            )
        if not isinstance(identity.instance_profile, bool):
            raise ValueError(
                f"instance_profile={identity.instance_profile!r} is invalid: pass True or False "
                "(a bool)"
            )
        if identity.instance_profile and not _trusts_ec2(scope, identity.assumed_by):
            raise ValueError(
                "instance_profile=True needs assumed_by to trust ec2.amazonaws.com: an instance gets the role's credentials only if EC2 may "
                "assume it; pass assumed_by=iam.ServicePrincipal('ec2.amazonaws.com'), or an "
                "iam.CompositePrincipal that includes it"
            )
        external_id = identity.external_id
        if external_id is not None and isinstance(identity.assumed_by, iam.ServicePrincipal):
            raise ValueError(
                f"external_id={external_id!r} is invalid with assumed_by={identity.assumed_by}: "
                "an AWS service never sends sts:ExternalId, so the role could never be assumed; "
                "an external id is for principals in other accounts"
            )
        if external_id is not None and (
            not isinstance(external_id, str)
            or (not tokens.is_unresolved(external_id) and not _EXTERNAL_ID.fullmatch(external_id))
        ):
            raise ValueError(
                f"external_id={external_id!r} is invalid: it must be 2 to 1224 characters of "
                "letters, digits and +=,.@:/_-"
            )
    elif isinstance(identity, UserIdentity):
        slots, serial = identity.access_keys, identity.access_key_serial
        if not isinstance(slots, tuple) or not all(isinstance(s, AccessKeySlot) for s in slots):
            shown = list(slots) if isinstance(slots, tuple) else slots
            raise ValueError(
                f"access_keys={shown!r} is invalid: pass a list of AccessKeySlot, for "
                "example [AccessKeySlot.A, AccessKeySlot.B], or [] for none"
            )
        if serial is not None:
            if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
                raise ValueError(f"access_key_serial={serial!r} is invalid: it must be an int >= 0")
            if AccessKeySlot.A not in slots:
                raise ValueError(
                    f"access_key_serial={serial!r} needs slot A's access key: it replaces that "
                    "key; pass access_keys=[AccessKeySlot.A]"
                )
            if len(set(slots)) == 2 and serial:
                raise ValueError(
                    f"access_key_serial={serial!r} is invalid with both access key slots: "
                    "replacing a key creates the new one before deleting the old, and IAM allows "
                    "two keys per user. Rotate by removing the old slot instead"
                )
        if not isinstance(identity.secret_encryption, SecretEncryption):
            raise ValueError(
                f"secret_encryption={identity.secret_encryption!r} is invalid: use "
                "SecretEncryption.stack_key(), .aws_managed_key() or .customer_key(key)"
            )
    else:
        raise ValueError(
            f"identity={identity!r} is invalid: use RestoreIdentity.user(...) or "
            "RestoreIdentity.role(assumed_by=...)"
        )
    name = identity.name
    if name is not None and (
        not isinstance(name, str)
        or (not tokens.is_unresolved(name) and not _PRINCIPAL_NAME.fullmatch(name))
    ):
        raise ValueError(
            f"name={name!r} is invalid: IAM user and role names are 1 to 64 characters of "
            "letters, digits and +=,.@_-"
        )


def _check_profile(profile: PolicyOptions) -> None:
    if not isinstance(profile, PolicyOptions):
        raise ValueError(
            f"profile={profile!r} is invalid: use PolicyProfile.least_privilege(...) or "
            "PolicyProfile.kb1025(...)"
        )


def _check_vm_import(vm_import: VmImportMode | VmImportAccountRole) -> None:
    if not isinstance(vm_import, (VmImportMode, VmImportAccountRole)):
        raise ValueError(
            f"vm_import={vm_import!r} is invalid: use VmImportMode.CREATE, "
            "VmImportMode.USE_EXISTING, VmImportMode.NONE or a VmImportAccountRole"
        )


def _check_max_managed_policies(value: int) -> None:
    check_policy_quota(value)


def _check_buckets(
    bucket: s3.IBucket | str | None, buckets: Sequence[s3.IBucket | str] | None, *, legacy: bool
) -> list[s3.IBucket | str]:
    if isinstance(buckets, (str, bytes)):
        raise ValueError(
            f"buckets={buckets!r} is invalid: pass a list of buckets, for example [{buckets!r}]"
        )
    if buckets is not None and not isinstance(buckets, (list, tuple)):
        raise ValueError(
            f"buckets={buckets!r} is invalid: pass a list of buckets (s3.IBucket or names)"
        )
    listed = list(buckets or [])
    if bucket is None and not listed:
        raise ValueError(
            "bucket or buckets is required: pass the backup bucket (an s3.IBucket or its name)"
        )
    if bucket is not None:
        _check_bucket(bucket, "bucket", legacy=legacy)
    for index, item in enumerate(listed):
        _check_bucket(item, f"buckets[{index}]", legacy=legacy)
    return ([bucket] if bucket is not None else []) + listed


def _check_bucket(bucket: s3.IBucket | str, argument: str, *, legacy: bool) -> None:
    if isinstance(bucket, str):
        name = bucket
    elif _has(bucket, "bucket_arn"):  # IBucket is a Protocol without runtime checks
        argument, name = f"{argument}.bucket_name", bucket.bucket_name
    else:
        raise ValueError(
            f"{argument}={bucket!r} is invalid: pass an aws_s3.IBucket or a bucket name (str)"
        )
    if tokens.is_unresolved(name):
        return  # known at deploy time only; CloudFormation checks it there
    error = bucket_name_error(name, legacy=legacy, legacy_option="legacy_bucket_name=True")
    if error is not None:
        raise ValueError(f"{argument}={name!r} is not a valid S3 bucket name: {error}")


#: The id of the per-stack key that encrypts the access-key secrets.
SECRET_KEY_ID = "RestorePermissionsSecretKey"


def _stack_secret_key(scope: Construct) -> tuple[kms.IKey, bool]:
    """The stack's customer-managed key for access-key secrets, created once per stack,
    and whether this call created it.

    One key per stack rather than per customer: a key costs money each month.
    """
    stack = stack_of(scope)
    existing = find_child(stack, SECRET_KEY_ID)
    if isinstance(existing, kms.Key):
        return existing, False
    key = kms.Key(
        stack,
        SECRET_KEY_ID,
        description="Encrypts the access-key secrets of restore-permissions in this stack",
        enable_key_rotation=True,
        # Deleting the stack deletes the secrets; the key follows after
        # KMS's longest waiting period, during which deletion can be cancelled.
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(30),
    )
    adopt(key, stack)
    return key, True
