"""The restore workflows as IAM policy simulator requests, and verdicts from its answers.

``restore-permissions check`` sends these requests to IAM's policy simulator
(``iam:SimulatePrincipalPolicy`` for a deployed identity,
``iam:SimulateCustomPolicy`` for policy documents). This module builds them and
reads the answers; it calls nothing, so the tests can run it offline, and it
imports neither boto3 nor CDK.

One request per call of a workflow: its action, the ARN of every resource it
touches (``*`` when the action takes none), and its context entries (Region,
the instance tag in the request or on the resource, ``ec2:CreateAction``,
``kms:ViaService``, ``kms:GrantIsForAWSResource``). The simulator takes one
context per request, so the context of every resource of a call is merged: a
tag that the request carries for the instance is seen on all its resources.

RunInstances names a ``ResourceHandlingOption`` scenario, which makes the
simulator require the resources a launch of that kind touches
(:data:`SCENARIOS`, from the IAM API reference).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .catalogue import ResourceType
from .workflows import Actor, Call, Target, Touch, Workflow

#: The simulator's RunInstances scenarios and the resource types each requires
#: (IAM API reference, SimulatePrincipalPolicy, ResourceHandlingOption). The
#: EC2-Classic ones are left out: EC2-Classic is retired.
#: What every VPC launch scenario requires: "instance, image, and security
#: group resources", and the network interface for a VPC.
_VPC_LAUNCH = frozenset(
    {
        ResourceType.INSTANCE,
        ResourceType.IMAGE,
        ResourceType.SECURITY_GROUP,
        ResourceType.NETWORK_INTERFACE,
    }
)
SCENARIOS: Mapping[str, frozenset[ResourceType]] = {
    "EC2-VPC-InstanceStore": _VPC_LAUNCH,
    "EC2-VPC-InstanceStore-Subnet": _VPC_LAUNCH | {ResourceType.SUBNET},
    "EC2-VPC-EBS": _VPC_LAUNCH | {ResourceType.VOLUME},
    "EC2-VPC-EBS-Subnet": _VPC_LAUNCH | {ResourceType.SUBNET, ResourceType.VOLUME},
}

#: The actions whose simulation takes a scenario.
_SCENARIO_ACTIONS = frozenset({"ec2:RunInstances"})

#: Context keys whose simulator type is not ``string``.
_CONTEXT_TYPES = {"kms:GrantIsForAWSResource": "boolean", "aws:TagKeys": "stringList"}


def scenario_for(call: Call) -> str | None:
    """The most specific scenario whose required resources the call touches, if any."""
    if call.action not in _SCENARIO_ACTIONS:
        return None
    touched = {touch.resource_type for touch in call.touches}
    fitting = [name for name, needs in SCENARIOS.items() if needs <= touched]
    return max(fitting, key=lambda name: len(SCENARIOS[name]), default=None)


@dataclass(frozen=True)
class ContextEntry:
    key: str
    value: str
    type: str = "string"

    def parameter(self) -> dict[str, Any]:
        return {
            "ContextKeyName": self.key,
            "ContextKeyValues": [self.value],
            "ContextKeyType": self.type,
        }


@dataclass(frozen=True)
class SimulatedCall:
    """One simulator request: one action on the resources one call touches."""

    actor: Actor
    action: str
    resource_arns: tuple[str, ...]
    context: tuple[ContextEntry, ...]
    scenario: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The request's ActionNames, ResourceArns, ContextEntries and ResourceHandlingOption."""
        parameters: dict[str, Any] = {
            "ActionNames": [self.action],
            "ResourceArns": list(self.resource_arns),
            "ContextEntries": [entry.parameter() for entry in self.context],
        }
        if self.scenario is not None:
            parameters["ResourceHandlingOption"] = self.scenario
        return parameters


@dataclass(frozen=True)
class Step:
    """A call of a workflow and the request that simulates it."""

    number: int
    call: Call
    request: SimulatedCall


def simulated_call(call: Call, target: Target) -> SimulatedCall:
    touches: Sequence[Touch | None] = call.touches or (None,)
    context: dict[str, str] = {"aws:PrincipalAccount": target.account}
    for touch in touches:
        context.update(target.context(call, touch))
    return SimulatedCall(
        actor=call.actor,
        action=call.action,
        resource_arns=tuple(dict.fromkeys(target.touch_arn(touch) for touch in touches)),
        context=tuple(
            ContextEntry(key, value, _CONTEXT_TYPES.get(key, "string"))
            for key, value in sorted(context.items())
        ),
        scenario=scenario_for(call),
    )


class CallSequence(Protocol):
    """A workflow, or an attack: calls in order."""

    @property
    def calls(self) -> tuple[Call, ...]: ...


def steps(workflow: CallSequence, target: Target) -> list[Step]:
    """The workflow's (or attack's) calls as simulator requests, in order."""
    return [
        Step(number, call, simulated_call(call, target))
        for number, call in enumerate(workflow.calls, 1)
    ]


def workflow_scenarios(workflow: Workflow) -> list[str]:
    """The scenarios the workflow's launches are simulated with."""
    return list(dict.fromkeys(s for call in workflow.calls if (s := scenario_for(call))))


class Decision(enum.Enum):
    """The simulator's EvalDecision, worst last."""

    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicitDeny"
    EXPLICIT_DENY = "explicitDeny"
    #: Not a simulator decision: the principal that makes the call does not exist
    #: (for example an account without the vmimport role).
    NO_SUCH_PRINCIPAL = "noSuchPrincipal"


_SEVERITY = {
    Decision.ALLOWED: 0,
    Decision.IMPLICIT_DENY: 1,
    Decision.EXPLICIT_DENY: 2,
    Decision.NO_SUCH_PRINCIPAL: 3,
}


@dataclass(frozen=True)
class Verdict:
    """What the simulator said of one request."""

    decision: Decision
    #: The resources not allowed (all of them for a top-level deny without per-resource results).
    denied_resources: tuple[str, ...] = ()
    #: SourcePolicyId of the statements that decided (the deny, for an explicit deny).
    matched_policies: tuple[str, ...] = ()
    missing_context: tuple[str, ...] = ()
    #: Organizations (SCPs) or the permissions boundary, when they denied.
    denied_by: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def cause(self) -> str:
        """What denied, in the terms of its fix: a missing Allow, a Deny, an SCP or a boundary."""
        by = " and ".join(self.denied_by)
        if self.decision is Decision.EXPLICIT_DENY:
            matched = f" ({', '.join(self.matched_policies)})" if self.matched_policies else ""
            if by:
                return (
                    f"an explicit Deny{matched} in {by}: no Allow in the identity's policies "
                    "overrides it"
                )
            return f"an explicit Deny{matched}: no Allow overrides it"
        if self.decision is Decision.IMPLICIT_DENY:
            if by:
                return f"not allowed by {by}: an Allow in the identity's policies is not enough"
            return "no policy allows it: a missing Allow"
        return ""


def verdict(request: SimulatedCall, results: Iterable[Mapping[str, Any]]) -> Verdict:
    """The verdict on ``request`` from the simulator's EvaluationResults for it.

    A call is allowed only if every result for its action is ``allowed``, on
    every resource (``ResourceSpecificResults`` where the simulator gives them).
    """
    decisions: list[Decision] = []
    denied: list[str] = []
    matched: list[str] = []
    missing: list[str] = []
    denied_by: list[str] = []
    found = False
    for result in results:
        if result.get("EvalActionName", "").lower() != request.action.lower():
            continue
        found = True
        top = Decision(result["EvalDecision"])
        decisions.append(top)
        per_resource = result.get("ResourceSpecificResults") or []
        resources_denied = []
        for resource in per_resource:
            decision = Decision(resource["EvalResourceDecision"])
            decisions.append(decision)
            if decision is not Decision.ALLOWED:
                resources_denied.append(resource["EvalResourceName"])
                matched += _policy_ids(resource.get("MatchedStatements"))
                missing += resource.get("MissingContextValues") or []
                if _boundary_denied(resource):
                    denied_by.append(BOUNDARY)
        denied += resources_denied
        if top is not Decision.ALLOWED:
            if not resources_denied:
                # Denied above the resources (an SCP, say), though each is allowed by the
                # identity's policies: the call is denied on every resource it names.
                denied += (
                    [r["EvalResourceName"] for r in per_resource]
                    if per_resource
                    else [result.get("EvalResourceName", "*")]
                )
            matched += _policy_ids(result.get("MatchedStatements"))
            missing += result.get("MissingContextValues") or []
            if _boundary_denied(result):
                denied_by.append(BOUNDARY)
            if result.get("OrganizationsDecisionDetail", {}).get("AllowedByOrganizations") is False:
                denied_by.append(SCP)
    if not found:
        raise ValueError(f"the simulator returned no result for {request.action}")
    worst = max(decisions, key=_SEVERITY.__getitem__)
    if worst is Decision.ALLOWED:
        return Verdict(Decision.ALLOWED)
    return Verdict(
        worst,
        tuple(dict.fromkeys(denied)),
        tuple(dict.fromkeys(matched)),
        tuple(dict.fromkeys(missing)),
        tuple(dict.fromkeys(denied_by)),
    )


#: How a verdict names what denied, besides the identity's own policies.
SCP = "an SCP (Organizations)"
BOUNDARY = "the permissions boundary"


def _boundary_denied(result: Mapping[str, Any]) -> bool:
    """Whether a result (or a resource's result) says the permissions boundary denied."""
    detail = result.get("PermissionsBoundaryDecisionDetail") or {}
    return detail.get("AllowedByPermissionsBoundary") is False


def _policy_ids(statements: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return [s["SourcePolicyId"] for s in statements or () if s.get("SourcePolicyId")]
