"""`restore-permissions check` against a stubbed IAM policy simulator, without AWS.

botocore's Stubber checks every request the command sends against IAM's
service model and against the request these tests expect: the action, the
resources and the context entries of each call of each workflow, built here
from the workflows' own data (not by the module under test). Its answers come
from the offline evaluator the other tests use (tests/oracle.py): for the same
policy, the stubbed simulator answers what the evaluator decides, and `check`
must then report the workflows that the evaluator, call by call and resource
by resource, says fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from restore_permissions import check
from restore_permissions.cli import main
from restore_permissions.policy import (
    PolicyOptions,
    PolicyTargets,
    ResourceType,
    identity_policy,
    vm_import_role_policy,
)
from restore_permissions.policy.workflows import (
    WORKFLOWS,
    Actor,
    Availability,
    Call,
    Tagging,
    Target,
    Workflow,
    availability,
)

from .oracle import allows, as_policy

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
ACCOUNT = "111122223333"
REGION = "eu-west-1"
BUCKET = "my-backups"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/RestorePermissions-RestoreUser"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/vmimport"
TAG = ("restore-permissions", "restored")
#: KB 1025 as published, with its "your_bucket_name_goes_here" changed to the
#: bucket, as the article says to.
KB1025_FILE = FIXTURES / "kb1025-as-published.json"


# --- the expected requests, built from the workflows' data -------------------


def expected_request(call: Call, target: Target) -> dict[str, Any]:
    """What the simulator must be asked for ``call``: the IAM API reference's parameters."""
    touches = call.touches or ()
    arns = list(dict.fromkeys(target.touch_arn(t) for t in touches)) or ["*"]
    context = {"aws:PrincipalAccount": target.account, "aws:RequestedRegion": target.region}
    if target.instance_tag:
        key, value = target.instance_tag
        for touch in touches:
            if touch.tagging is Tagging.IN_REQUEST:
                context[f"aws:RequestTag/{key}"] = value
            if touch.tagging is Tagging.ON_RESOURCE:
                context[f"aws:ResourceTag/{key}"] = value
    if call.create_action:
        context["ec2:CreateAction"] = call.create_action
    if call.via_service:
        context["kms:ViaService"] = f"{call.via_service}.{target.region}.amazonaws.com"
    if call.aws_service_name:
        context["iam:AWSServiceName"] = call.aws_service_name
    entries = [
        {
            "ContextKeyName": key,
            "ContextKeyValues": [value],
            "ContextKeyType": "string",
        }
        for key, value in context.items()
    ]
    if call.grant_for_aws_resource:
        entries.append(
            {
                "ContextKeyName": "kms:GrantIsForAWSResource",
                "ContextKeyValues": ["true"],
                "ContextKeyType": "boolean",
            }
        )
    if call.tag_key is not None:
        # aws:TagKeys is multivalued: the simulator takes it as a stringList.
        entries.append(
            {
                "ContextKeyName": "aws:TagKeys",
                "ContextKeyValues": [call.tag_key],
                "ContextKeyType": "stringList",
            }
        )
    if any(touch.with_instance_profile for touch in touches):
        entries.append(
            {
                "ContextKeyName": "ec2:InstanceProfile",
                "ContextKeyValues": [f"arn:aws:iam::{target.account}:instance-profile/AppServer"],
                "ContextKeyType": "string",
            }
        )
    request: dict[str, Any] = {
        "ActionNames": [call.action],
        "ResourceArns": arns,
        "ContextEntries": sorted(entries, key=lambda e: e["ContextKeyName"]),
    }
    if call.action == "ec2:RunInstances":
        types = {t.resource_type for t in touches}
        # IAM API reference: EBS-backed launch into a subnet of a VPC.
        assert {
            ResourceType.INSTANCE,
            ResourceType.IMAGE,
            ResourceType.SECURITY_GROUP,
            ResourceType.NETWORK_INTERFACE,
            ResourceType.SUBNET,
            ResourceType.VOLUME,
        } <= types
        request["ResourceHandlingOption"] = "EC2-VPC-EBS-Subnet"
    return request


# --- the oracle as a simulator -----------------------------------------------


@dataclass
class Oracle:
    """Policies per caller, and the simulator's answer as the evaluator decides it."""

    identity: list[Mapping[str, Any]]
    vm_import_role: list[Mapping[str, Any]] = field(default_factory=list)

    def allows(self, actor: Actor, action: str, resource: str, context: Mapping[str, str]) -> bool:
        documents = self.identity if actor is Actor.IDENTITY else self.vm_import_role
        return any(
            allows(as_policy(document, f"p{i}"), action, resource, context)
            for i, document in enumerate(documents)
        )

    def answer(self, actor: Actor, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        (action,) = request["ActionNames"]
        context = {e["ContextKeyName"]: e["ContextKeyValues"][0] for e in request["ContextEntries"]}
        per_resource = [
            {
                "EvalResourceName": arn,
                "EvalResourceDecision": "allowed"
                if self.allows(actor, action, arn, context)
                else "implicitDeny",
                "MatchedStatements": [],
                "MissingContextValues": [],
            }
            for arn in request["ResourceArns"]
        ]
        denied = any(r["EvalResourceDecision"] != "allowed" for r in per_resource)
        return [
            {
                "EvalActionName": action,
                "EvalResourceName": "*",
                "EvalDecision": "implicitDeny" if denied else "allowed",
                "MatchedStatements": [],
                "MissingContextValues": [],
                "ResourceSpecificResults": per_resource,
            }
        ]

    def failing_workflows(
        self, workflows: Sequence[Workflow], target: Target, *, role: bool
    ) -> set[str]:
        """The evaluator's verdict, call by call and resource by resource (touch by touch)."""
        failing = set()
        for flow in workflows:
            for call in flow.calls:
                if call.actor is Actor.VM_IMPORT_ROLE and not role:
                    continue
                for touch in call.touches or (None,):
                    resource = target.arn(touch.resource_type if touch else ResourceType.ANY)
                    if not self.allows(
                        call.actor, call.action, resource, target.context(call, touch)
                    ):
                        failing.add(flow.name)
        return failing


# --- a stubbed session ---------------------------------------------------------


class StubbedSession:
    """Stands in for boto3.session.Session: real clients, each behind a Stubber."""

    def __init__(self) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="example", region_name=REGION
        )
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        self.configs: dict[str, Any] = {}

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            client = self.session.client(service, region_name=REGION)
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def client(self, service: str, config: Any = None) -> Any:
        self.configs[service] = config
        self.stub(service)
        return self.clients[service]

    def assert_no_pending_responses(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedSession]:
    stubbed = StubbedSession()
    monkeypatch.setattr(check, "_new_session", lambda: stubbed)
    yield stubbed


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["check", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def queue(
    session: StubbedSession,
    oracle: Oracle,
    workflows: Sequence[Workflow],
    target: Target,
    *,
    custom: bool,
    role: bool,
    role_arn: str = ROLE_ARN,
    seen: set[tuple[Actor, str]] | None = None,
) -> None:
    """Queue, in the order check asks them, each distinct request and the oracle's answer.

    ``seen``: the requests already queued (check asks each distinct one once).
    """
    seen = set() if seen is None else seen
    for flow in workflows:
        for call in flow.calls:
            if call.actor is Actor.VM_IMPORT_ROLE and not role:
                continue
            request = expected_request(call, target)
            key = (call.actor, json.dumps(request, sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            if custom:
                documents = (
                    oracle.identity if call.actor is Actor.IDENTITY else oracle.vm_import_role
                )
                source: dict[str, Any] = {"PolicyInputList": [json.dumps(d) for d in documents]}
                operation = "simulate_custom_policy"
            else:
                arn = USER_ARN if call.actor is Actor.IDENTITY else role_arn
                source = {"PolicySourceArn": arn}
                operation = "simulate_principal_policy"
            session.stub("iam").add_response(
                operation,
                {"EvaluationResults": oracle.answer(call.actor, request), "IsTruncated": False},
                {**source, **request, "MaxItems": 100},
            )


def served(options: PolicyOptions, *, kms: bool = False) -> list[Workflow]:
    return [w for w in WORKFLOWS if availability(w, options, kms=kms)[0] is Availability.SERVED]


def rendered(options: PolicyOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    targets = PolicyTargets.for_buckets([BUCKET], account=ACCOUNT, regions=options.allowed_regions)
    return identity_policy(options, targets), vm_import_role_policy(targets)


TARGET = Target(account=ACCOUNT, region=REGION, bucket=BUCKET)
#: check's arguments for the deployed user, in the bucket and Region of TARGET.
PRINCIPAL = ("--principal-arn", USER_ARN, "--bucket", BUCKET, "--region", REGION)


# --- the cross-checks the issue names -----------------------------------------


def test_kb1025_as_published_breaks_the_ebs_volume_restore(session: StubbedSession) -> None:
    document = json.loads(KB1025_FILE.read_text())
    oracle = Oracle([document])
    workflows = served(PolicyOptions())
    queue(session, oracle, workflows, TARGET, custom=True, role=False)
    code, out, err = run(
        "--policy-file",
        str(KB1025_FILE),
        "--bucket",
        BUCKET,
        "--account",
        ACCOUNT,
        "--region",
        REGION,
        "--format",
        "json",
    )
    session.assert_no_pending_responses()
    assert (code, err) == (1, "")
    report = json.loads(out)
    failing = {w["workflow"] for w in report["workflows"] if not w["passed"]}
    assert failing == oracle.failing_workflows(workflows, TARGET, role=False)
    (ebs,) = [w for w in report["workflows"] if w["workflow"] == "ebs-volume"]
    # As published, the article's "ami:ListRoles" stops every wizard at its
    # check for the vmimport role; the EBS path then lacks ImportSnapshot.
    assert ebs["first_denied"]["action"] == "iam:ListRoles"
    denied = {call["action"]: call for call in ebs["denied_calls"]}
    assert list(denied) == [
        "iam:ListRoles",
        "ec2:ImportSnapshot",
        "ec2:DescribeImportSnapshotTasks",
        "ec2:DescribeSnapshots",
        "ec2:CreateVolume",
        "ec2:DescribeVolumes",
    ]
    assert denied["ec2:ImportSnapshot"]["decision"] == "implicitDeny"
    # Both resources the Service Authorization Reference requires: the task and the snapshot.
    assert denied["ec2:ImportSnapshot"]["resources"] == [
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:import-snapshot-task/import-snap-0123456789abcdef0",
        f"arn:aws:ec2:{REGION}::snapshot/snap-0123456789abcdef0",
    ]
    # The vmimport role's calls are not checked without its policy, and say so.
    assert ebs["calls_not_checked"] == 3


def test_the_least_privilege_policy_passes_every_workflow(session: StubbedSession) -> None:
    options = PolicyOptions(allowed_regions=(REGION,))
    identity, role = rendered(options)
    oracle = Oracle([identity], [role])
    workflows = served(options)
    queue(session, oracle, workflows, TARGET, custom=False, role=True)
    code, out, err = run(*PRINCIPAL)
    session.assert_no_pending_responses()
    assert oracle.failing_workflows(workflows, TARGET, role=True) == set()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Simulated: {USER_ARN}, Region {REGION}, account {ACCOUNT}"
    assert lines[-1] == f"{len(workflows)} of {len(workflows)} workflows allowed"
    (instance,) = [line for line in lines if line.startswith("instance ")]
    assert instance.split() == [
        "instance",
        "allowed",
        "[RunInstances",
        "scenario",
        "EC2-VPC-EBS-Subnet]",
    ]
    # The opt-ins the check was not asked about are listed as skipped, with why.
    assert any(
        line.startswith("encrypted-bucket")
        and "skipped: not asked for: pass --kms-key (the bucket's KMS key)" in line
        for line in lines
    )


def test_the_tag_guard_fails_an_untagged_launch(session: StubbedSession) -> None:
    options = PolicyOptions(instance_tag=TAG)
    identity, role = rendered(options)
    oracle = Oracle([identity], [role])
    # The backup tool does not tag: check is run without --instance-tag.
    workflows = served(PolicyOptions())
    queue(session, oracle, workflows, TARGET, custom=False, role=True)
    code, out, _ = run(
        "--principal-arn", USER_ARN, "--bucket", BUCKET, "--region", REGION, "--format", "json"
    )
    session.assert_no_pending_responses()
    report = json.loads(out)
    failing = {w["workflow"] for w in report["workflows"] if not w["passed"]}
    assert failing == oracle.failing_workflows(workflows, TARGET, role=True)
    assert "instance" in failing and code == 1
    (instance,) = [w for w in report["workflows"] if w["workflow"] == "instance"]
    assert instance["first_denied"]["action"] == "ec2:ImportImage"
    assert instance["scenarios"] == ["EC2-VPC-EBS-Subnet"]


def test_the_tag_guard_passes_when_the_tool_tags(session: StubbedSession) -> None:
    options = PolicyOptions(instance_tag=TAG)
    identity, role = rendered(options)
    oracle = Oracle([identity], [role])
    target = Target(account=ACCOUNT, region=REGION, bucket=BUCKET, instance_tag=TAG)
    workflows = served(options)
    queue(session, oracle, workflows, target, custom=False, role=True)
    code, out, err = run(
        *PRINCIPAL,
        "--instance-tag",
        "=".join(TAG),
    )
    session.assert_no_pending_responses()
    assert (code, err) == (0, ""), out
    # Spot launches and the legacy imports cannot carry the tag: skipped, with why.
    skipped = [line.split()[0] for line in out.splitlines() if "skipped:" in line]
    assert {"spot-launch", "legacy-import"} <= set(skipped)


# --- requests, paging and the client -------------------------------------------------


def test_one_workflow_pages_through_results(session: StubbedSession) -> None:
    identity, role = rendered(PolicyOptions())
    oracle = Oracle([identity], [role])
    flow = next(w for w in WORKFLOWS if w.name == "cancel-snapshot-import")
    iam = session.stub("iam")
    for call in flow.calls:
        request = expected_request(call, TARGET)
        answer = oracle.answer(call.actor, request)[0]
        source = {"PolicySourceArn": USER_ARN}
        # Page 1 says allowed, page 2 carries a second result for the action.
        iam.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [answer], "IsTruncated": True, "Marker": "page-2"},
            {**source, **request, "MaxItems": 100},
        )
        second = {**answer, "EvalDecision": "allowed"}
        if call.action == "ec2:CancelImportTask":
            second = {
                **answer,
                "EvalDecision": "explicitDeny",
                "ResourceSpecificResults": [],
                "MatchedStatements": [
                    {"SourcePolicyId": "DenyCancel", "SourcePolicyType": "IAM Policy"}
                ],
            }
        iam.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [second], "IsTruncated": False},
            {**source, **request, "MaxItems": 100, "Marker": "page-2"},
        )
    code, out, _ = run(
        *PRINCIPAL,
        "--workflow",
        "cancel-snapshot-import",
        "--format",
        "json",
    )
    session.assert_no_pending_responses()
    (result,) = json.loads(out)["workflows"]
    assert code == 1
    assert result["first_denied"]["decision"] == "explicitDeny"
    assert result["first_denied"]["matched_statements"] == ["DenyCancel"]
    # Pointed at the Deny, not at a missing Allow.
    assert result["first_denied"]["cause"] == "an explicit Deny (DenyCancel): no Allow overrides it"
    assert session.configs["iam"].retries == {"mode": "standard", "max_attempts": 10}
    assert session.configs["iam"].region_name == REGION


def test_stack_outputs_name_the_identity_and_the_vmimport_role(session: StubbedSession) -> None:
    session.stub("cloudformation").add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "RestorePermissions",
                    "CreationTime": "2026-11-30T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [
                        {
                            "OutputKey": "RestoreUserArnA19FDFB4",
                            "OutputValue": USER_ARN,
                            "Description": "Restore user ARN",
                        },
                        {
                            "OutputKey": "RestorePermissionsVmImportRoleArn",
                            "OutputValue": ROLE_ARN,
                            "Description": "VM Import/Export service role ARN",
                        },
                    ],
                }
            ]
        },
        {"StackName": "RestorePermissions"},
    )
    identity, role = rendered(PolicyOptions())
    oracle = Oracle([identity], [role])
    flow = [w for w in WORKFLOWS if w.name == "ami-only"]
    queue(session, oracle, flow, TARGET, custom=False, role=True)
    code, out, err = run(
        "--stack",
        "RestorePermissions",
        "--bucket",
        BUCKET,
        "--region",
        REGION,
        "--workflow",
        "ami-only",
    )
    session.assert_no_pending_responses()
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"Simulated: {USER_ARN}, ")


def test_every_bucket_is_checked_not_only_the_first(session: StubbedSession) -> None:
    # The policy holds the first bucket only: the second bucket's workflows must fail.
    identity, role = rendered(PolicyOptions())
    oracle = Oracle([identity], [role])
    flow = [w for w in WORKFLOWS if w.name == "ami-only"]
    other = "other-backups"
    seen: set[tuple[Actor, str]] = set()
    for bucket in (BUCKET, other):
        target = Target(account=ACCOUNT, region=REGION, bucket=bucket)
        queue(session, oracle, flow, target, custom=False, role=True, seen=seen)
    code, out, _ = run(*PRINCIPAL, "--bucket", other, "--workflow", "ami-only", "--format", "json")
    session.assert_no_pending_responses()
    verdicts = {(w["workflow"], w["bucket"]): w["passed"] for w in json.loads(out)["workflows"]}
    assert verdicts == {("ami-only", BUCKET): True, ("ami-only", other): False}
    assert code == 1


def test_a_vmimport_role_arn_given_beside_a_stack_wins_over_its_output(
    session: StubbedSession,
) -> None:
    stack_with_outputs(
        session,
        [
            {"OutputKey": "UserArn", "OutputValue": USER_ARN, "Description": "Restore user ARN"},
            {
                "OutputKey": "RestorePermissionsVmImportRoleArn",
                "OutputValue": ROLE_ARN,
                "Description": "VM Import/Export service role ARN",
            },
        ],
    )
    given = f"arn:aws:iam::{ACCOUNT}:role/imports/vmimport-restores"
    identity, role = rendered(PolicyOptions())
    flow = [w for w in WORKFLOWS if w.name == "ami-only"]
    # Every vmimport-role request must name the given role (the Stubber checks it).
    queue(
        session, Oracle([identity], [role]), flow, TARGET, custom=False, role=True, role_arn=given
    )
    code, out, err = run(
        "--stack", "S", "--vmimport-role-arn", given, "--bucket", BUCKET, "--region", REGION,
        "--workflow", "ami-only", "--format", "json",
    )  # fmt: skip
    session.assert_no_pending_responses()
    assert (code, err) == (0, "")
    assert json.loads(out)["simulated"]["vmimport_role"] == given


# --- the error paths: one line, exit 2 -------------------------------------------


def stack_with_outputs(session: StubbedSession, outputs: list[dict[str, str]]) -> None:
    session.stub("cloudformation").add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "S",
                    "CreationTime": "2026-11-30T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": outputs,
                }
            ]
        },
        {"StackName": "S"},
    )


def test_a_stack_without_the_output(session: StubbedSession) -> None:
    stack_with_outputs(session, [{"OutputKey": "Other", "OutputValue": "x"}])
    code, out, err = run("--stack", "S", "--bucket", BUCKET, "--region", REGION)
    assert (code, out) == (2, "")
    assert err == (
        "restore-permissions: error: stack 'S' has no restore identity output (UserArn or "
        "RoleArn of a RestorePermissions with create_outputs=True): pass --principal-arn\n"
    )


def test_a_stack_with_two_identities(session: StubbedSession) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/Other"
    stack_with_outputs(
        session,
        [
            {"OutputKey": "A", "OutputValue": USER_ARN, "Description": "Restore user ARN"},
            {"OutputKey": "B", "OutputValue": other, "Description": "Restore role ARN"},
        ],
    )
    code, _, err = run("--stack", "S", "--bucket", BUCKET, "--region", REGION)
    assert code == 2
    assert err == (
        f"restore-permissions: error: stack 'S' has 2 restore identities ({other}, {USER_ARN}): "
        "pass --principal-arn for one of them\n"
    )


def test_a_missing_stack(session: StubbedSession) -> None:
    session.stub("cloudformation").add_client_error(
        "describe_stacks", "ValidationError", "Stack with id S does not exist", 400
    )
    code, _, err = run("--stack", "S", "--bucket", BUCKET, "--region", REGION)
    assert (code, err) == (
        2,
        "restore-permissions: error: ValidationError: Stack with id S does not exist\n",
    )


@pytest.mark.parametrize(
    ("flag", "operation", "action"),
    [
        ("--principal-arn", "simulate_principal_policy", "iam:SimulatePrincipalPolicy"),
        ("--policy-file", "simulate_custom_policy", "iam:SimulateCustomPolicy"),
    ],
)
def test_a_caller_without_the_simulator_permission(
    session: StubbedSession, flag: str, operation: str, action: str
) -> None:
    session.stub("iam").add_client_error(
        operation, "AccessDenied", f"User: x is not authorized to perform: {action}", 403
    )
    value = USER_ARN if flag == "--principal-arn" else str(KB1025_FILE)
    code, out, err = run(flag, value, "--bucket", BUCKET, "--account", ACCOUNT, "--region", REGION)
    assert (code, out) == (2, "")
    assert err == (
        f"restore-permissions: error: the caller may not call {action} (AccessDenied): grant it "
        "to the identity running check; `restore-permissions check --operator-policy` prints "
        "the least policy\n"
    )


def test_throttling_past_the_retries(session: StubbedSession) -> None:
    # The Stubber answers before botocore's retry handler; this is what the
    # command says once the standard mode's attempts are spent.
    session.stub("iam").add_client_error(
        "simulate_principal_policy", "Throttling", "Rate exceeded", 400
    )
    code, _, err = run(*PRINCIPAL)
    assert (code, err) == (
        2,
        "restore-permissions: error: IAM kept throttling the simulator after 10 attempts "
        "(Throttling): try again later\n",
    )


def test_an_account_without_the_vmimport_role(session: StubbedSession) -> None:
    identity, _ = rendered(PolicyOptions())
    oracle = Oracle([identity])
    flow = next(w for w in WORKFLOWS if w.name == "ami-only")
    iam = session.stub("iam")
    role_asked = False
    for call in flow.calls:
        request = expected_request(call, TARGET)
        if call.actor is Actor.VM_IMPORT_ROLE:
            if not role_asked:  # asked once; the role's other calls are not sent
                iam.add_client_error(
                    "simulate_principal_policy",
                    "NoSuchEntity",
                    "The role vmimport cannot be found",
                    404,
                )
                role_asked = True
            continue
        iam.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": oracle.answer(call.actor, request), "IsTruncated": False},
            {"PolicySourceArn": USER_ARN, **request, "MaxItems": 100},
        )
    code, out, _ = run(
        *PRINCIPAL,
        "--workflow",
        "ami-only",
    )
    session.assert_no_pending_responses()
    assert code == 1
    assert "vmimport role: s3:GetBucketLocation: the role does not exist" in out


def test_bad_arguments() -> None:
    code, _, err = run("--principal-arn", "arn:aws:iam::1:user/x", "--bucket", BUCKET)
    assert code == 2 and "argument --principal-arn: 'arn:aws:iam::1:user/x' is not the ARN" in err
    code, _, err = run("--principal-arn", USER_ARN)
    assert (code, err) == (
        2,
        "restore-permissions: error: check needs --bucket: the workflows read and write that bucket\n",
    )
    code, _, err = run("--principal-arn", USER_ARN, "--bucket", BUCKET, "--workflow", "instnace")
    assert code == 2 and "argument --workflow: invalid choice: 'instnace'" in err
    code, _, err = run(*PRINCIPAL, "--vmimport-role-arn", USER_ARN)
    assert (
        code == 2
        and "argument --vmimport-role-arn: " in err
        and "is not the ARN of an IAM role" in err
    )
    code, _, err = run("--policy-file", "/nonexistent.json", "--bucket", BUCKET)
    assert code == 2 and "argument --policy-file: cannot read '/nonexistent.json'" in err
    code, _, err = run("--principal-arn", USER_ARN, "--bucket", "My_Bucket")
    assert code == 2 and "argument --bucket: 'My_Bucket' is not a valid S3 bucket name" in err
    code, _, err = run("--principal-arn", USER_ARN, "--bucket", BUCKET, "--region", "eu-wset-1")
    assert code == 2 and "argument --region: 'eu-wset-1' is not a Region where EC2 runs" in err
    code, _, err = run(
        "--principal-arn",
        USER_ARN,
        "--bucket",
        BUCKET,
        "--region",
        "cn-north-1",
        "--partition",
        "aws",
    )
    assert code == 2 and "--region cn-north-1 is in partition aws-cn, not --partition aws" in err
    china_user = "arn:aws-cn:iam::111122223333:user/restore"
    code, _, err = run("--operator-policy", "--principal-arn", china_user, "--region", "cn-north-1")
    assert (code, err) == (0, "")


def test_operator_policy_is_the_least_the_operator_needs() -> None:
    code, out, _ = run(
        "--operator-policy",
        "--stack",
        "RestorePermissions",
        "--account",
        ACCOUNT,
        "--region",
        REGION,
    )
    assert code == 0
    document = json.loads(out)
    assert {s["Action"]: s["Resource"] for s in document["Statement"]} == {
        "iam:SimulatePrincipalPolicy": [
            f"arn:aws:iam::{ACCOUNT}:user/*",
            f"arn:aws:iam::{ACCOUNT}:role/*",
        ],
        "cloudformation:DescribeStacks": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/RestorePermissions/*",
    }
    code, out, _ = run("--operator-policy", "--principal-arn", USER_ARN)
    (statement,) = json.loads(out)["Statement"]
    assert statement["Resource"] == [USER_ARN, ROLE_ARN]
    code, out, _ = run("--operator-policy", "--policy-file", str(KB1025_FILE))
    (statement,) = json.loads(out)["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("iam:SimulateCustomPolicy", "*")


def test_without_boto3_check_says_how_to_install_it_and_the_rest_works() -> None:
    code = (
        "import sys, contextlib, io\n"
        "sys.modules['boto3'] = None\n"  # import boto3 now raises ImportError
        "from restore_permissions.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['policy', '--bucket', 'b-1'])\n"
        "    main(['explain', '--workflows'])\n"
        "print(sorted(m for m in ('boto3', 'aws_cdk', 'jsii') if sys.modules.get(m)))\n"
        "main(['check', '--principal-arn', 'arn:aws:iam::111122223333:user/u', '--bucket', 'b-1',"
        " '--region', 'us-east-1'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 2
    assert result.stdout == "[]\n"
    assert result.stderr == (
        "restore-permissions: error: check needs boto3, which is not installed: "
        "pip install 'restore-permissions[check]'\n"
    )


@pytest.mark.parametrize("shape", ["document", "policy --split", "vmimport-role"])
def test_policy_files_for_both_callers_check_every_call(
    shape: str, session: StubbedSession, tmp_path: pathlib.Path
) -> None:
    """A file holds a policy document, or what the CLI prints: `policy --split` prints
    {"PolicyDocuments": [...]}, `vmimport-role` {"PolicyDocument": ...}."""
    identity, role = rendered(PolicyOptions())
    identity_file, role_file = tmp_path / "identity.json", tmp_path / "vmimport.json"
    identity_file.write_text(
        json.dumps({"PolicyDocuments": [identity]} if shape == "policy --split" else identity)
    )
    role_file.write_text(
        json.dumps(
            {"RoleName": "vmimport", "PolicyDocument": role} if shape == "vmimport-role" else role
        )
    )
    oracle = Oracle([identity], [role])
    workflows = served(PolicyOptions())
    queue(session, oracle, workflows, TARGET, custom=True, role=True)
    code, out, err = run(
        "--policy-file",
        str(identity_file),
        "--vmimport-policy-file",
        str(role_file),
        "--bucket",
        BUCKET,
        "--account",
        ACCOUNT,
        "--region",
        REGION,
    )
    session.assert_no_pending_responses()
    assert (code, err) == (0, "")
    assert "not checked" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    # Wrapped lines never split a workflow's or a flag's name at its hyphens.
    assert "--workflow mbs-agent-credentials" in " ".join(out.split())
    assert not [line for line in out.splitlines() if line.endswith("-")]


def test_a_policy_file_without_statements_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"PolicyDocuments": []}))
    code, out, err = run("--policy-file", str(path), "--bucket", BUCKET, "--account", ACCOUNT)
    assert (code, out) == (2, "")
    assert err == (
        f"restore-permissions: error: argument --policy-file: {str(path)!r} is not an IAM "
        "policy document (no Statement), nor the output of policy or vmimport-role "
        '({"PolicyDocuments": [...]})\n'
    )


def test_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # No instance metadata either: the credential chain must not reach the network.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(check, "_new_session", lambda: boto3.session.Session(region_name=REGION))
    code, out, err = run(*PRINCIPAL)
    assert (code, out) == (2, "")
    assert err == "restore-permissions: error: cannot reach AWS: Unable to locate credentials\n"


def test_policy_file_without_account_asks_sts_whose_account(session: StubbedSession) -> None:
    session.stub("sts").add_response(
        "get_caller_identity",
        {
            "UserId": "AIDAEXAMPLE",
            "Account": "444455556666",
            "Arn": "arn:aws:iam::444455556666:user/ops",
        },
        {},
    )
    document = json.loads(KB1025_FILE.read_text())
    target = Target(account="444455556666", region=REGION, bucket=BUCKET)
    flow = [w for w in WORKFLOWS if w.name == "cancel-snapshot-import"]
    queue(session, Oracle([document]), flow, target, custom=True, role=False)
    code, out, _ = run(
        "--policy-file",
        str(KB1025_FILE),
        "--bucket",
        BUCKET,
        "--region",
        REGION,
        "--workflow",
        "cancel-snapshot-import",
    )
    session.assert_no_pending_responses()
    assert code == 1 and "account 444455556666" in out.splitlines()[0]
