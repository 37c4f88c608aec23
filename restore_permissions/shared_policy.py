"""The statements that every identity of a stack with the same options shares, in one place.

Every customer's policy used to repeat the same EC2, Describe and account-list
statements, about 3 KB each: 200 role-mode customers made a 1.4 MB template.
These statements name no bucket or key, so one set of managed policies per
stack and per set of options holds them, attached to every customer's group
or role; each customer's own policy holds only its buckets and keys.
"""

from __future__ import annotations

import hashlib

from aws_cdk import aws_iam as iam
from constructs import Construct

from . import tokens
from .policy import PolicyOptions, PolicyTargets, shared_identity_statements
from .rendered_policy import PolicySet, policy_document
from .scopes import adopt, find_child, stack_of

#: IAM's highest quota of managed policies per user, group or role.
_MAX_POLICIES = 20


class SharedRestorePolicy(Construct):
    """The shared statements for one set of options, as a child of the stack."""

    @classmethod
    def of(cls, scope: Construct, options: PolicyOptions) -> SharedRestorePolicy:
        """The stack's shared policy for ``options`` (created on first use)."""
        stack = stack_of(scope)
        key = repr(
            (
                options.profile.value,
                options.allowed_regions,
                options.instance_tag,
                options.federation,
                options.email_notifications,
            )
            # Only when set, so that existing stacks keep their ids. (object_lock
            # changes only each identity's own statements.)
            + (
                (("shared_subnet_owners", options.shared_subnet_owners),)
                if options.shared_subnet_owners
                else ()
            )
        )
        construct_id = f"RestorePermissionsShared{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        existing = find_child(stack, construct_id)
        if isinstance(existing, SharedRestorePolicy):
            return existing
        return cls(stack, construct_id, options=options)

    def __init__(self, scope: Construct, construct_id: str, *, options: PolicyOptions) -> None:
        super().__init__(scope, construct_id)
        adopt(self, scope)
        self._principals: list[iam.Group | iam.Role] = []
        targets = PolicyTargets(
            partition=tokens.PARTITION,
            account=tokens.account_of(stack_of(self)),
            bucket_arns=(),
            object_arns=(),
            regions=options.allowed_regions,
            url_suffix=tokens.URL_SUFFIX,
        )
        specs = shared_identity_statements(options)
        # The statements name no bucket, so they are known now: the policy is
        # created with them, unless they need more than one policy.
        statements = PolicySet.plan_at_creation(stack_of(self), specs, targets, options)
        document = None if statements is None else policy_document(statements)
        self.policy = self._new_policy("Policy", document=document)
        self.policies = PolicySet(
            self,
            self.policy,
            new_policy=self._new_policy,
            profile=options.profile,
            max_policies=_MAX_POLICIES,
            placed_at_creation=statements,
            first_document=document,
        )
        self.policies.set_statements(specs, targets, options)

    def created_resources(self) -> int:
        """The CloudFormation resources this construct holds (its managed policies)."""
        return len(self.policies.policies)

    def attach(self, principal: iam.Group | iam.Role) -> None:
        """Give ``principal`` the shared statements (every shared policy, extras included)."""
        self._principals.append(principal)
        for policy in self.policies.policies:
            _attach(policy, principal)

    def _new_policy(
        self, policy_id: str, document: iam.PolicyDocument | None = None
    ) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            policy_id,
            document=document,
            description="Restore image-based backups as EC2 instances: the statements every "
            "restore identity of this stack with these options shares (restore-permissions)",
        )
        adopt(policy, self)
        for principal in self._principals:
            _attach(policy, principal)
        return policy


def _attach(policy: iam.ManagedPolicy, principal: iam.Group | iam.Role) -> None:
    # From the policy's side (ManagedPolicy.Groups/Roles), like the identity's own policy.
    if isinstance(principal, iam.Group):
        policy.attach_to_group(principal)
    else:
        policy.attach_to_role(principal)
