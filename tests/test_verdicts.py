"""Verdicts from the policy simulator's answers, for every mix of denials.

The answers are shaped as IAM's API reference documents EvaluationResult and
ResourceSpecificResult (botocore's IAM model checks the shapes below): a
decision per request and per resource, MatchedStatements, and the
Organizations (SCP) and permissions-boundary details. What the user must
learn from a verdict differs: an implicit deny is a missing Allow, an explicit
deny is a Deny that no Allow overrides, and a denial by an SCP or a
permissions boundary is fixed outside the identity's policies.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.session import get_session

from restore_permissions.policy.simulation import (
    Decision,
    SimulatedCall,
    Verdict,
    verdict,
)
from restore_permissions.policy.workflows import Actor

TASK = "arn:aws:ec2:us-east-1:111122223333:import-image-task/import-ami-0123456789abcdef0"
IMAGE = "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"
REQUEST = SimulatedCall(Actor.IDENTITY, "ec2:ImportImage", (TASK, IMAGE), ())
SCP = {"AllowedByOrganizations": False}
BOUNDARY = {"AllowedByPermissionsBoundary": False}


def statement(sid: str, kind: str = "IAM Policy") -> dict[str, Any]:
    return {"SourcePolicyId": sid, "SourcePolicyType": kind}


def resource(arn: str, decision: str, *matched: str, **extra: Any) -> dict[str, Any]:
    return {
        "EvalResourceName": arn,
        "EvalResourceDecision": decision,
        "MatchedStatements": [statement(sid) for sid in matched],
        "MissingContextValues": [],
        **extra,
    }


def result(decision: str, *per_resource: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "EvalActionName": "ec2:ImportImage",
        "EvalResourceName": "*",
        "EvalDecision": decision,
        "MatchedStatements": [],
        "MissingContextValues": [],
        "ResourceSpecificResults": list(per_resource),
        **extra,
    }


CASES: dict[str, tuple[list[dict[str, Any]], Verdict]] = {
    "allowed": (
        [result("allowed", resource(TASK, "allowed", "Ec2Import"), resource(IMAGE, "allowed"))],
        Verdict(Decision.ALLOWED),
    ),
    "implicit deny on one resource": (
        [result("implicitDeny", resource(TASK, "allowed"), resource(IMAGE, "implicitDeny"))],
        Verdict(Decision.IMPLICIT_DENY, (IMAGE,)),
    ),
    "explicit deny on one resource, implicit on the other": (
        [
            result(
                "explicitDeny",
                resource(TASK, "explicitDeny", "DenyImports"),
                resource(IMAGE, "implicitDeny"),
            )
        ],
        Verdict(Decision.EXPLICIT_DENY, (TASK, IMAGE), ("DenyImports",)),
    ),
    # A page of results may say implicitDeny at the top while a resource is
    # explicitly denied: the explicit deny wins.
    "explicit deny of a resource under an implicit top": (
        [
            result(
                "implicitDeny",
                resource(TASK, "explicitDeny", "DenyImports"),
                resource(IMAGE, "allowed"),
            )
        ],
        Verdict(Decision.EXPLICIT_DENY, (TASK,), ("DenyImports",)),
    ),
    "an SCP's explicit deny, every resource allowed by the identity": (
        [
            result(
                "explicitDeny",
                resource(TASK, "allowed"),
                resource(IMAGE, "allowed"),
                MatchedStatements=[statement("DenyEc2Imports", "aws-organization")],
                OrganizationsDecisionDetail=SCP,
            )
        ],
        Verdict(
            Decision.EXPLICIT_DENY,
            (TASK, IMAGE),
            ("DenyEc2Imports",),
            denied_by=("an SCP (Organizations)",),
        ),
    ),
    "an SCP that allows nothing (implicit), with a resource implicitly denied too": (
        [
            result(
                "implicitDeny",
                resource(TASK, "implicitDeny"),
                resource(IMAGE, "allowed"),
                OrganizationsDecisionDetail=SCP,
            )
        ],
        Verdict(Decision.IMPLICIT_DENY, (TASK,), denied_by=("an SCP (Organizations)",)),
    ),
    "the permissions boundary, at the top": (
        [
            result(
                "implicitDeny",
                resource(TASK, "implicitDeny"),
                resource(IMAGE, "implicitDeny"),
                PermissionsBoundaryDecisionDetail=BOUNDARY,
            )
        ],
        Verdict(Decision.IMPLICIT_DENY, (TASK, IMAGE), denied_by=("the permissions boundary",)),
    ),
    "the permissions boundary, on one resource only": (
        [
            result(
                "implicitDeny",
                resource(TASK, "allowed"),
                resource(IMAGE, "implicitDeny", PermissionsBoundaryDecisionDetail=BOUNDARY),
            )
        ],
        Verdict(Decision.IMPLICIT_DENY, (IMAGE,), denied_by=("the permissions boundary",)),
    ),
    "an SCP's deny and the boundary's, on two pages": (
        [
            result("implicitDeny", PermissionsBoundaryDecisionDetail=BOUNDARY),
            result(
                "explicitDeny",
                MatchedStatements=[statement("DenyAll", "aws-organization")],
                OrganizationsDecisionDetail=SCP,
            ),
        ],
        Verdict(
            Decision.EXPLICIT_DENY,
            ("*",),
            ("DenyAll",),
            denied_by=("the permissions boundary", "an SCP (Organizations)"),
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_verdict_of_each_mix(case: str) -> None:
    results, expected = CASES[case]
    assert verdict(REQUEST, results) == expected


@pytest.mark.parametrize("case", list(CASES))
def test_the_answers_have_the_shapes_of_iams_api(case: str) -> None:
    # The test data must be what the simulator can answer: botocore's model of it.
    shape = get_session().get_service_model("iam").shape_for("EvaluationResult")
    for answer in CASES[case][0]:
        assert set(answer) <= set(shape.members), case
        for item in answer["ResourceSpecificResults"]:
            assert set(item) <= set(shape.members["ResourceSpecificResults"].member.members)


@pytest.mark.parametrize(
    ("case", "cause"),
    [
        ("implicit deny on one resource", "no policy allows it: a missing Allow"),
        (
            "explicit deny on one resource, implicit on the other",
            "an explicit Deny (DenyImports): no Allow overrides it",
        ),
        (
            "an SCP's explicit deny, every resource allowed by the identity",
            "an explicit Deny (DenyEc2Imports) in an SCP (Organizations): no Allow in the "
            "identity's policies overrides it",
        ),
        (
            "the permissions boundary, at the top",
            "not allowed by the permissions boundary: an Allow in the identity's policies is "
            "not enough",
        ),
    ],
)
def test_the_cause_points_at_the_right_fix(case: str, cause: str) -> None:
    results, _ = CASES[case]
    assert verdict(REQUEST, results).cause == cause


def test_no_result_for_the_action_is_an_error() -> None:
    with pytest.raises(ValueError, match="the simulator returned no result for ec2:ImportImage"):
        verdict(REQUEST, [{**result("allowed"), "EvalActionName": "ec2:RunInstances"}])
