"""Customer-managed policies rendered from the catalogue, split to fit IAM's quota."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import jsii
from aws_cdk import Annotations, AspectPriority, Aspects, IAspect, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from . import nag, tokens
from .errors import RestorePermissionsError
from .nag_reasons import (
    SHARED_SUBNET_REASON,
    WILDCARD_ACTION_REASONS,
    wildcard_resource_reason,
)
from .policy import (
    MANAGED_POLICY_LIMIT,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    StatementSpec,
    plan_documents,
    render_statements,
    statement_size,
)
from .policy.rendering import shared_subnet_arns
from .policy.sizing import ESTIMATE_ROOM, MAX_CHARS_PER_BUCKET, deployed_length
from .scopes import node_of, path_of, stack_of
from .tokens import ResolvedTokens

#: The id of a PolicySet's first managed policy (stable across updates).
FIRST_POLICY_ID = "Policy"

#: The PolicySet of each owner whose first policy is created on demand.
_ON_DEMAND: weakref.WeakKeyDictionary[IConstruct, PolicySet] = weakref.WeakKeyDictionary()


def policies_to_create(constructs: list[IConstruct]) -> int:
    """How many of ``constructs`` own a PolicySet whose first policy is not created yet:
    the CfnResources that a walk of the tree does not see yet."""
    return sum(1 for c in constructs if (s := _ON_DEMAND.get(c)) is not None and not s.created)


def policy_document(statements: list[dict[str, Any]]) -> iam.PolicyDocument:
    """A policy document of rendered ``statements``, in one jsii round trip."""
    return iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": statements})


class DeployedLength:
    """Measures strings as CloudFormation will deploy them, tokens included."""

    def __init__(self, stack: Stack) -> None:
        self._tokens = ResolvedTokens(stack, deployed_length)

    def prefetch(self, statements: list[dict[str, Any]]) -> None:
        """Resolve the tokens of every resource of ``statements`` at once (one jsii call)."""
        self._tokens.prefetch(r for s in statements for r in _as_list(s.get("Resource", [])))

    def __call__(self, value: str) -> int:
        if "${Token[" not in value:
            # A placeholder string (before cfn_string) counts as deployed.
            return deployed_length({"Fn::Sub": value}) if "${AWS::" in value else len(value)
        literal, lengths = self._tokens.split(value)
        return len(literal) + sum(lengths)


@dataclass
class _Rendering:
    specs: list[StatementSpec]
    targets: PolicyTargets
    options: PolicyOptions | None
    for_vm_import_role: bool


class PolicySet:
    """The managed policies of one identity (or of the vmimport role).

    The owner says what to render with :meth:`set_statements`; the statements are
    placed at synth time, when every bucket is known, by an aspect. They fill
    the first policy (id ``Policy``, stable) and, past IAM's 6,144 characters,
    more policies that ``new_policy`` attaches, with ids ``Policy2v<hash>``,
    ``Policy3v<hash>``... named after their content, so that updates never
    cut access (see :meth:`place_statements`). Grants added to the first
    policy count against its room. The cdk-nag acknowledgments of each policy
    follow the wildcards it holds.

    Without ``first``, the first policy is created on demand: by the first read
    of :attr:`policies` (whoever reads it may add statements to it, so synth adds
    the statements to it), or else by synth, with its statements, in one
    ``PolicyDocument.fromJson``, as a stack written by hand creates it: four
    jsii round trips fewer per policy. ``anchor`` (any construct of the owner's)
    then carries the synth-time aspect.
    """

    def __init__(
        self,
        owner: Construct,
        first: iam.ManagedPolicy | None,
        *,
        new_policy: Callable[..., iam.ManagedPolicy],
        anchor: IConstruct | None = None,
        profile: PolicyProfile,
        max_policies: int,
        shared_policies: int = 0,
        placed_at_creation: list[dict[str, Any]] | None = None,
        first_document: iam.PolicyDocument | None = None,
    ) -> None:
        self.owner = owner
        #: The statements ``first`` was created with (see :meth:`plan_at_creation`).
        self._placed_at_creation = placed_at_creation
        self._created: list[iam.ManagedPolicy] = [first] if first is not None else []
        self._new_policy = new_policy
        self._profile = profile
        self.max_policies = max_policies
        #: Policies the same identities hold beside these (the stack's shared one).
        self.shared_policies = shared_policies
        self._rendering: _Rendering | None = None
        self._finalized = False
        self._documents: dict[int, iam.PolicyDocument] = {}
        if first is not None and first_document is not None:
            # The document ``first`` was created with is the one it holds.
            self._documents[id(first)] = first_document
        #: For each policy placed, the statements placed in it (by policy id).
        self.placed: dict[int, list[dict[str, Any]]] = {}
        if first is None:
            _ON_DEMAND[owner] = self
        anchor = anchor if anchor is not None else first
        if anchor is None:
            raise TypeError("PolicySet needs first or anchor")
        _PlaceStatements.register(self, anchor)

    @property
    def policies(self) -> list[iam.ManagedPolicy]:
        """The managed policies, the first one first (creating it, when it is created on
        demand and synth has not created it yet)."""
        if not self._created:
            self._create_first(None)
        return self._created

    def _create_first(self, document: iam.PolicyDocument | None) -> None:
        """Create the first policy (on demand), empty or with ``document``."""
        first = self._new_policy(FIRST_POLICY_ID, document)
        self._created.append(first)
        if document is not None:
            self._documents[id(first)] = document

    @property
    def created(self) -> list[iam.ManagedPolicy]:
        """The managed policies created so far (none before synth, when the first is
        created on demand and nobody has read :attr:`policies`)."""
        return self._created

    @property
    def count(self) -> int:
        """How many managed policies there are, or will be before the split at synth."""
        return max(1, len(self._created))

    def set_statements(
        self,
        specs: list[StatementSpec],
        targets: PolicyTargets,
        options: PolicyOptions | None = None,
        *,
        for_vm_import_role: bool = False,
    ) -> None:
        """What to render at synth time (the latest call wins)."""
        if self._finalized:
            raise RestorePermissionsError(
                path_of(self.owner),
                "buckets can no longer be added once the app is synthesized",
            )
        self._rendering = _Rendering(specs, targets, options, for_vm_import_role)

    def estimate_policies(self) -> int:
        """How many managed policies the current rendering needs (a close upper estimate)."""
        rendering = self._require_rendering()
        statements = render_statements(
            rendering.specs,
            rendering.targets,
            rendering.options,
            for_vm_import_role=rendering.for_vm_import_role,
        )
        length = DeployedLength(stack_of(self.owner))
        length.prefetch(statements)
        total = sum(statement_size(s, length) + 1 for s in statements)
        return max(1, math.ceil(total / ESTIMATE_ROOM))

    def planned_policies(self) -> int:
        """How many managed policies synth will place the current rendering in (as
        :meth:`place_statements` plans them, without the grants added later)."""
        rendering = self._require_rendering()
        statements = render_statements(
            rendering.specs,
            rendering.targets,
            rendering.options,
            for_vm_import_role=rendering.for_vm_import_role,
        )
        length = DeployedLength(stack_of(self.owner))
        return max(
            1, len(plan_documents([_with_cfn_strings(s) for s in statements], length=length))
        )

    def check_fits(self, whose: str, buckets: int, max_allowed: int) -> None:
        """ValueError at construction when ``buckets`` cannot fit the allowed managed policies."""
        # While even the longest bucket ARNs could not pass the limit, skip the
        # estimate: it renders every statement.
        if (
            MANAGED_POLICY_LIMIT + buckets * MAX_CHARS_PER_BUCKET
            <= self.max_policies * ESTIMATE_ROOM
        ):
            return
        needed = self.estimate_policies()
        if needed > self.max_policies:
            raise RestorePermissionsError(
                path_of(self.owner),
                f"{buckets} buckets need about {needed + self.shared_policies} managed policies "
                f"of 6,144 characters for {whose}{self._with_shared}, more than "
                f"max_managed_policies={self.max_policies + self.shared_policies}. Spread the "
                "buckets over several RestorePermissions (one per customer), or raise "
                f"max_managed_policies (at most {max_allowed}) after raising the IAM quota "
                "'Managed policies per user, group or role'.",
            )

    def document_of(self, policy: iam.ManagedPolicy) -> iam.PolicyDocument:
        """``policy.document`` of one of these policies, asked of CDK once."""
        if id(policy) not in self._documents:
            self._documents[id(policy)] = policy.document
        return self._documents[id(policy)]

    @property
    def _with_shared(self) -> str:
        return " (with the stack's shared one)" if self.shared_policies else ""

    def _require_rendering(self) -> _Rendering:
        if self._rendering is None:
            raise RestorePermissionsError(path_of(self.owner), "nothing to render")
        return self._rendering

    @staticmethod
    def plan_at_creation(
        stack: Stack, specs: list[StatementSpec], targets: PolicyTargets, options: PolicyOptions
    ) -> list[dict[str, Any]] | None:
        """The statements of a policy whose statements are all known before it is
        created (the stack's shared policy), when they fit one managed policy.

        Created with them (one ``PolicyDocument.fromJson``), the policy costs one
        jsii round trip instead of one per statement at synth."""
        statements = [_with_cfn_strings(s) for s in render_statements(specs, targets, options)]
        length = DeployedLength(stack)
        length.prefetch(statements)
        documents = plan_documents(statements, length=length)
        return documents[0] if len(documents) == 1 else None

    def place_statements(self) -> None:
        if self._finalized:
            return
        self._finalized = True
        rendering = self._require_rendering()
        stack = stack_of(self.owner)
        reasons = {
            tokens.cfn_string(resource): reason
            for resource, reason in self._wildcard_reasons(rendering).items()
        }
        if self._placed_at_creation is not None:
            self._check_placed_at_creation(stack)
            self._acknowledge(self._created[0], self._placed_at_creation, reasons)
            return
        length = DeployedLength(stack)
        statements = [
            _with_cfn_strings(s)
            for s in render_statements(
                rendering.specs,
                rendering.targets,
                rendering.options,
                for_vm_import_role=rendering.for_vm_import_role,
            )
        ]
        # Statements granted through grant_principal already sit in the first
        # policy; a first policy that nobody has read holds none.
        reserved = 0
        created_here = not self._created
        if not created_here and not (first := self.document_of(self._created[0])).is_empty:
            granted = stack.resolve(first.to_json())
            reserved = sum(
                len(json.dumps(s, separators=(",", ":"))) + 1 for s in granted["Statement"]
            )
        length.prefetch(statements)
        documents = plan_documents(statements, length=length, reserved=reserved)
        if len(documents) > self.max_policies:
            Annotations.of(self.owner).add_error(
                f"{len(documents) + self.shared_policies} managed policies are needed"
                f"{self._with_shared}, more than max_managed_policies="
                f"{self.max_policies + self.shared_policies}: spread the buckets over several RestorePermissions, or raise "
                "max_managed_policies (at most 20, after raising the IAM quota)"
            )
        # The extra policies are named after their content: a changed one is a
        # new resource, created and attached before the old one is deleted in
        # CloudFormation's clean-up phase. The first policy keeps its id and
        # depends on the extras, so that statements moving into an extra are in
        # it before the first policy's update removes them. At no point of an
        # update does the identity lack a statement both templates grant.
        if created_here:
            self._create_first(policy_document(documents[0]))
        for number, document in enumerate(documents[1:], 2):
            digest = hashlib.sha256(
                json.dumps(stack.resolve(document), sort_keys=True).encode()
            ).hexdigest()[:8]
            extra = self._new_policy(f"Policy{number}v{digest}")
            self._created.append(extra)
            node_of(self._created[0]).add_dependency(extra)
        for index, (policy, document) in enumerate(zip(self._created, documents, strict=False)):
            if index or not created_here:
                policy.add_statements(
                    *(iam.PolicyStatement.from_json(statement) for statement in document)
                )
            self._acknowledge(policy, document, reasons)

    def _check_placed_at_creation(self, stack: Stack) -> None:
        """An error at synth when statements added to a policy created with its own
        (see :meth:`plan_at_creation`) push it past IAM's limit: it cannot split."""
        placed = self._placed_at_creation
        assert placed is not None
        first = self.document_of(self._created[0])
        if first.statement_count == len(placed):
            return
        # Measured as place_statements measures grants in a policy it fills.
        ours = {s.get("Sid") for s in placed}
        added = [s for s in stack.resolve(first.to_json())["Statement"] if s.get("Sid") not in ours]
        reserved = sum(len(json.dumps(s, separators=(",", ":"))) + 1 for s in added)
        length = DeployedLength(stack)
        length.prefetch(placed)
        if len(plan_documents(placed, length=length, reserved=reserved)) > 1:
            Annotations.of(self.owner).add_error(
                f"{len(added)} statements added to {path_of(self._created[0])} leave no room for "
                f"its own in one managed policy ({MANAGED_POLICY_LIMIT:,} characters): add them "
                "to a policy of your own instead"
            )

    def _acknowledge(
        self, policy: iam.ManagedPolicy, document: list[dict[str, Any]], reasons: dict[str, str]
    ) -> None:
        """Records what ``policy`` holds, and acknowledges the justified wildcards in it."""
        self.placed[id(policy)] = document
        held = [r for s in document for r in _as_list(s["Resource"])]
        actions = sorted({a for s in document for a in _as_list(s["Action"]) if "*" in a})
        justified_resources = [(r, reasons[r]) for r in dict.fromkeys(held) if r in reasons]
        justified_actions = [(a, WILDCARD_ACTION_REASONS[a]) for a in actions]
        nag.WildcardAcknowledgments.add(
            policy,
            functools.partial(list, justified_resources),
            functools.partial(list, justified_actions),
        )

    def _wildcard_reasons(self, rendering: _Rendering) -> dict[str, str]:
        reasons: dict[str, str] = {}
        for spec in rendering.specs:
            for resource_type in spec.resource_types:
                for resource in rendering.targets.resources(resource_type):
                    reasons.setdefault(
                        resource, wildcard_resource_reason(resource_type, profile=self._profile)
                    )
        if rendering.options is not None:
            for resource in shared_subnet_arns(rendering.options, rendering.targets):
                reasons.setdefault(resource, SHARED_SUBNET_REASON)
        return reasons


@functools.cache
def _mutating_priority() -> int:
    """``AspectPriority.MUTATING``, read from CDK once per process rather than per policy."""
    return int(AspectPriority.MUTATING)


@jsii.implements(IAspect)
class _PlaceStatements:
    """Places the statements of every PolicySet of a stack, at synth.

    One aspect per stack, on the anchor of the stack's first PolicySet (its
    first policy, or the group or role of a RestorePermissions: CDK calls an
    aspect for every node below its scope, and these have one or two
    children), rather than one per policy: each aspect is jsii round trips, at
    construction and at synth. It adds statements and policies, so it is a
    mutating aspect, as aws-iam's own policy splitting is. A PolicySet created
    after the stack's aspect ran (by another aspect) gets an aspect of its own.
    """

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, _PlaceStatements]] = weakref.WeakKeyDictionary()

    @classmethod
    def register(cls, policy_set: PolicySet, anchor: IConstruct) -> None:
        stack = stack_of(policy_set.owner)
        placer = cls._OF.get(stack)
        if placer is None or placer.visited:
            placer = cls()
            cls._OF[stack] = placer
            Aspects.of(anchor).add(placer, priority=_mutating_priority())
        placer.policy_sets.append(policy_set)

    def __init__(self) -> None:
        self.policy_sets: list[PolicySet] = []
        self.visited = False

    def visit(self, node: IConstruct) -> None:
        # The anchor is visited first, before its children. (Not ``node is
        # anchor``: an imported role's Python object is a proxy made anew.)
        if not self.visited:
            self.visited = True
            for policy_set in self.policy_sets:
                policy_set.place_statements()


def _with_cfn_strings(value: Any) -> Any:
    """A rendered statement with every placeholder string made a CloudFormation value."""
    if isinstance(value, str):
        return tokens.cfn_string(value)
    if isinstance(value, list):
        return [_with_cfn_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _with_cfn_strings(item) for key, item in value.items()}
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
