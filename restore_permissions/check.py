"""``restore-permissions check``: ask IAM's policy simulator whether every restore would succeed.

    restore-permissions check --stack RestorePermissions --bucket my-backups
    restore-permissions check --principal-arn arn:aws:iam::111122223333:user/restore --bucket b
    restore-permissions check --policy-file kb1025.json --bucket my-backups --account 111122223333

Each call of each restore workflow (:mod:`.policy.workflows`) becomes one
simulator request (:mod:`.policy.simulation`). ``--stack`` and
``--principal-arn`` use ``iam:SimulatePrincipalPolicy``, which evaluates the
identity's own policies, its groups' and its permissions boundary, as
attached now; the calls that VM Import/Export makes are simulated on the
``vmimport`` role the same way. ``--policy-file`` uses
``iam:SimulateCustomPolicy`` on the documents given.

boto3 is an optional extra (``pip install 'restore-permissions[check]'``); the
other subcommands never import it. Exit codes: 0 when every workflow checked
passes, 1 when one would fail, 2 on bad arguments or when the simulator cannot
be called.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .policy import PolicyOptions
from .policy.explain import DEFAULT_WIDTH, wrapped
from .policy.simulation import (
    Decision,
    SimulatedCall,
    Step,
    Verdict,
    steps,
    verdict,
    workflow_scenarios,
)
from .policy.workflows import (
    WORKFLOWS,
    Actor,
    Availability,
    Needs,
    Target,
    Workflow,
    availability,
    workflow,
)

PROG = "restore-permissions"
INSTALL_HINT = "pip install 'restore-permissions[check]'"
#: The Region simulated, and the one CloudFormation is asked, when neither
#: --region nor the AWS configuration names one.
DEFAULT_REGION = "us-east-1"
#: Results per simulator page: the API's own default.
PAGE_SIZE = 100
#: How the stack's outputs name the restore identity (RestorePermissions._create_outputs).
IDENTITY_OUTPUT_DESCRIPTIONS = ("Restore user ARN", "Restore role ARN")
VM_IMPORT_OUTPUT_DESCRIPTION = "VM Import/Export service role ARN"

_PRINCIPAL_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):(user|role)/[\w+=,.@/-]+")


class CheckError(Exception):
    """The check cannot run: one line for stderr, exit code 2."""


def add_check_parser(
    commands: Any,
    *,
    add_target: Callable[..., None],
    tag: Callable[[str], tuple[str, str]],
    region: Callable[[str], str],
    account: Callable[[str], str] = str,
) -> None:
    """The ``check`` subcommand's flags; ``add_target``, ``tag`` and ``region`` are the CLI's own."""
    check = commands.add_parser(
        "check",
        help="ask IAM's policy simulator whether every restore workflow would succeed",
        description="Simulate every call of every restore workflow with IAM's policy "
        "simulator. Exit 0: every workflow checked passes; 1: one would fail; 2: bad "
        "arguments, or the simulator cannot be called.",
    )
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--stack", metavar="NAME", help="read the restore identity's ARN from this stack's outputs"
    )
    source.add_argument("--principal-arn", metavar="ARN", help="the restore user or role")
    source.add_argument(
        "--policy-file",
        metavar="FILE",
        action="append",
        help="simulate this policy document instead (repeat for several; '-' reads stdin)",
    )
    check.add_argument(
        "--vmimport-policy-file",
        metavar="FILE",
        action="append",
        help="with --policy-file: the vmimport role's policy documents (default: its calls "
        "are not checked)",
    )
    check.add_argument(
        "--vmimport-role-arn",
        metavar="ARN",
        help="the role VM Import/Export uses (default: the stack's output, or role/vmimport "
        "in the identity's account)",
    )
    add_target(
        check,
        bucket_required=False,
        account_help="the account the calls are simulated in (default: the account of "
        "--principal-arn or of the stack's restore identity; with --policy-file, the "
        "caller's, from STS GetCallerIdentity)",
    )
    check.add_argument(
        "--region",
        type=region,
        help=f"the Region the calls are simulated in, and the stack's Region (default: the AWS "
        f"configuration's, or {DEFAULT_REGION})",
    )
    check.add_argument(
        "--instance-tag",
        type=tag,
        metavar="KEY=VALUE",
        help="the tag the backup tool puts on what it launches and imports (default: none)",
    )
    check.add_argument("--federation", action="store_true", help="also check mbs-agent-credentials")
    check.add_argument(
        "--email-notifications", action="store_true", help="also check email-notification"
    )
    check.add_argument("--object-acl-writes", action="store_true", help="also check object-acl")
    check.add_argument(
        "--restore-only",
        action="store_true",
        help="a restore-only identity: skip the backup-side workflows",
    )
    check.add_argument(
        "--object-lock",
        action="store_true",
        help="also check object-lock-backup and object-lock-restore",
    )
    check.add_argument(
        "--shared-subnet-owner",
        type=account,
        metavar="ACCOUNT",
        help="also check shared-vpc-launch, into a subnet of this account",
    )
    check.add_argument(
        "--workflow",
        action="append",
        metavar="NAME",
        choices=[w.name for w in WORKFLOWS],
        help="check only this workflow (repeat for several; default: every workflow the "
        "options serve)",
    )
    check.add_argument(
        "--attacks",
        action="store_true",
        help="simulate the attack rows instead (what a holder of the credential could do "
        "beyond restoring); exit 1 if one that the options promise to deny is allowed",
    )
    check.add_argument("--format", choices=("table", "json"), default="table")
    check.add_argument(
        "--operator-policy",
        action="store_true",
        help="print the least IAM policy the operator running check needs, and exit",
    )


def run_check(args: argparse.Namespace, parser: Any) -> int:
    """The ``check`` subcommand: 0 pass, 1 a workflow would fail, 2 cannot check."""
    try:
        plan = _plan(args)
        if args.operator_policy:
            print(json.dumps(operator_policy(plan), indent=2))
            return 0
        simulator = _simulator(plan)
        if args.attacks:
            return _report_attacks(plan, simulator, args.format)
        report = run_workflows(plan, simulator)
    except CheckError as error:
        parser.exit(2, f"{PROG}: error: {error}\n")
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.as_table(width=DEFAULT_WIDTH), end="")
    return 0 if report.passed else 1


def _report_attacks(plan: Plan, simulator: Simulator, output_format: str) -> int:
    from .check_attacks import attacks_json, attacks_table, run_attacks  # noqa: PLC0415

    results = run_attacks(plan.target, plan.options, simulator)
    if output_format == "json":
        print(json.dumps(attacks_json(results), indent=2))
    else:
        subject = Report(plan, []).subject()
        print(attacks_table(results, subject, width=DEFAULT_WIDTH), end="")
    return 1 if any(r.broken_promise for r in results) else 0


@dataclass
class Plan:
    """What to simulate, from the arguments."""

    #: Where the workflows run: partition, Region, bucket, key, tag. Its account
    #: is a placeholder until ``account`` is known.
    target: Target
    workflows: list[Workflow]
    skipped: list[tuple[Workflow, str]]
    #: The account, once known (from the arguments, the stack or STS).
    account: str | None
    stack: str | None = None
    principal_arn: str | None = None
    vm_import_role_arn: str | None = None
    policy_documents: list[str] = field(default_factory=list)
    vm_import_documents: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    #: The options the identity was deployed with: what its policy promises.
    options: PolicyOptions = field(default_factory=PolicyOptions)


def _plan(args: argparse.Namespace) -> Plan:
    if not args.bucket and not args.operator_policy:
        raise CheckError("check needs --bucket: the workflows read and write that bucket")
    if args.vmimport_policy_file and not args.policy_file:
        raise CheckError("--vmimport-policy-file is only valid with --policy-file")
    partition, account = args.partition, args.account
    if args.principal_arn:
        match = _PRINCIPAL_ARN.fullmatch(args.principal_arn)
        if match is None:
            raise CheckError(
                f"argument --principal-arn: {args.principal_arn!r} is not the ARN of an IAM "
                "user or role (arn:aws:iam::111122223333:user/NAME or .../role/NAME)"
            )
        partition, principal_account = match.group(1), match.group(2)
        if account and account != principal_account:
            raise CheckError(
                f"--account {account} is not the account of --principal-arn ({principal_account})"
            )
        account = principal_account
    role_arn = args.vmimport_role_arn
    if role_arn is not None and (
        (match := _PRINCIPAL_ARN.fullmatch(role_arn)) is None or match.group(3) != "role"
    ):
        raise CheckError(
            f"argument --vmimport-role-arn: {role_arn!r} is not the ARN of an IAM role "
            "(arn:aws:iam::111122223333:role/vmimport)"
        )
    tag = args.instance_tag
    owner = args.shared_subnet_owner
    options = PolicyOptions(
        instance_tag=tag,
        federation=args.federation,
        email_notifications=args.email_notifications,
        restore_only=args.restore_only,
        object_acl_writes=args.object_acl_writes and not args.restore_only,
        object_lock=args.object_lock,
        shared_subnet_owners=(owner,) if owner else (),
    )
    kms, ebs_key = args.kms_key is not None, args.ebs_kms_key is not None
    chosen = [workflow(name) for name in dict.fromkeys(args.workflow or ())]
    selected, skipped = [], []
    for candidate in chosen or WORKFLOWS:
        status, _ = availability(candidate, options, kms=kms, ebs_key=ebs_key)
        if chosen or status is Availability.SERVED:
            selected.append(candidate)
        else:
            skipped.append((candidate, _skip_reason(candidate, status)))
    region = args.region or _configured_region() or DEFAULT_REGION
    documents = [
        document
        for path in args.policy_file or ()
        for document in _read_policy(path, "--policy-file")
    ]
    role_documents = [
        document
        for path in args.vmimport_policy_file or ()
        for document in _read_policy(path, "--vmimport-policy-file")
    ]
    return Plan(
        target=Target(
            partition=partition,
            account=account or "111122223333",
            region=region,
            bucket=(args.bucket or ["BUCKET"])[0],
            kms_key_arn=args.kms_key or Target.kms_key_arn,
            instance_tag=tag,
            ebs_kms_key_arn=args.ebs_kms_key or Target.ebs_kms_key_arn,
            subnet_owner=owner or Target.subnet_owner,
        ),
        workflows=selected,
        skipped=skipped,
        account=account,
        stack=args.stack,
        principal_arn=args.principal_arn,
        vm_import_role_arn=args.vmimport_role_arn,
        policy_documents=documents,
        vm_import_documents=role_documents,
        buckets=list(dict.fromkeys(args.bucket or ())),
        options=options,
    )


#: The check flag that opts a workflow in.
_OPT_IN_FLAGS = {
    Needs.KMS_KEY: "--kms-key (the bucket's KMS key)",
    Needs.FEDERATION: "--federation",
    Needs.EMAIL: "--email-notifications",
    Needs.OBJECT_ACL_WRITES: "--object-acl-writes",
    Needs.EBS_KEY: "--ebs-kms-key (the account's EBS encryption key)",
    Needs.OBJECT_LOCK: "--object-lock",
    Needs.SHARED_SUBNETS: "--shared-subnet-owner ACCOUNT",
}


def _skip_reason(flow: Workflow, status: Availability) -> str:
    if status is Availability.NOT_OPTED_IN and flow.needs is not None:
        return f"not asked for: pass {_OPT_IN_FLAGS[flow.needs]}, or --workflow {flow.name}"
    if status is Availability.RESTORE_ONLY:
        return f"backup-side: --restore-only leaves it out; --workflow {flow.name} checks it anyway"
    return (
        "the tag guard cannot serve it (a policy with the tag guard does not grant it); "
        f"--workflow {flow.name} checks it anyway"
    )


def _read_policy(path: str, flag: str) -> list[str]:
    """The policy documents in ``path``: a policy document, or what ``policy`` and
    ``vmimport-role`` print (``{"PolicyDocuments": [...]}``, ``{"PolicyDocument": ...}``)."""
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as error:
        raise CheckError(f"argument {flag}: cannot read {path!r}: {error.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckError(
            f"argument {flag}: {path!r} is not JSON: {error.msg} (line {error.lineno})"
        ) from None
    if isinstance(document, dict) and "Statement" not in document:
        if isinstance(document.get("PolicyDocument"), dict):
            document = [document["PolicyDocument"]]
        elif isinstance(document.get("PolicyDocuments"), list):
            document = document["PolicyDocuments"]
    documents = document if isinstance(document, list) and document else [document]
    if not all(isinstance(d, dict) and "Statement" in d for d in documents):
        raise CheckError(
            f"argument {flag}: {path!r} is not an IAM policy document (no Statement), nor the "
            'output of policy or vmimport-role ({"PolicyDocuments": [...]})'
        )
    return [json.dumps(d) for d in documents]


def _configured_region() -> str | None:
    try:
        import botocore.session  # noqa: PLC0415 - only for check
    except ImportError:
        return None
    region = botocore.session.get_session().get_config_variable("region")
    return region if isinstance(region, str) else None


# --- the simulator -----------------------------------------------------------


class Simulator(Protocol):
    """Answers one simulator request as the list of its EvaluationResults."""

    def __call__(self, actor: Actor, request: SimulatedCall) -> list[dict[str, Any]]: ...


class NoSuchPrincipalError(Exception):
    """The principal a call is simulated for does not exist."""


#: botocore's standard retry mode: throttled simulator calls back off and retry.
RETRIES = {"mode": "standard", "max_attempts": 10}


def _new_session() -> Any:
    """A boto3 session from the usual AWS configuration (AWS_PROFILE, environment, files)."""
    boto3, _ = _import_boto3()
    return boto3.session.Session()


def _simulator(plan: Plan) -> Simulator:
    _, botocore = _import_boto3()
    config = botocore.config.Config(region_name=plan.target.region, retries=dict(RETRIES))
    session = _new_session()
    iam = session.client("iam", config=config)
    try:
        if plan.stack:
            principal, role = stack_principals(
                session.client("cloudformation", config=config), plan.stack
            )
            plan.principal_arn = principal
            plan.vm_import_role_arn = plan.vm_import_role_arn or role
            match = _PRINCIPAL_ARN.fullmatch(principal)
            if match is not None:
                plan.target = replace(plan.target, partition=match.group(1))
                plan.account = match.group(2)
        if plan.account is None:
            identity = session.client("sts", config=config).get_caller_identity()
            plan.account = identity["Account"]
            plan.target = replace(plan.target, partition=identity["Arn"].split(":")[1])
    except botocore.exceptions.BotoCoreError as error:
        raise CheckError(f"cannot reach AWS: {error}") from None
    except botocore.exceptions.ClientError as error:
        raise CheckError(_client_error(error)) from None
    plan.target = replace(plan.target, account=plan.account)
    if plan.principal_arn and not plan.vm_import_role_arn:
        plan.vm_import_role_arn = f"arn:{plan.target.partition}:iam::{plan.account}:role/vmimport"
    return iam_simulator(iam, plan)


def _import_boto3() -> tuple[Any, Any]:
    try:
        import boto3  # noqa: PLC0415 - boto3 is the optional `check` extra
        import botocore.config  # noqa: PLC0415
        import botocore.exceptions  # noqa: PLC0415
    except ImportError:
        raise CheckError(f"check needs boto3, which is not installed: {INSTALL_HINT}") from None
    return boto3, botocore


def iam_simulator(iam: Any, plan: Plan) -> Simulator:
    """A Simulator on an IAM client: pages through each request's results, once per request."""
    _, botocore = _import_boto3()
    answers: dict[tuple[Actor, SimulatedCall], list[dict[str, Any]]] = {}

    def simulate(actor: Actor, request: SimulatedCall) -> list[dict[str, Any]]:
        key = (actor, request)
        if key not in answers:
            operation, parameters = _source(plan, actor)
            try:
                answers[key] = _pages(iam, operation, parameters, request)
            except botocore.exceptions.ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "NoSuchEntity" and operation == "simulate_principal_policy":
                    raise NoSuchPrincipalError(parameters["PolicySourceArn"]) from None
                raise CheckError(_client_error(error, operation)) from None
            except botocore.exceptions.BotoCoreError as error:  # no credentials, no connection
                raise CheckError(f"cannot reach AWS: {error}") from None
        return answers[key]

    return simulate


def _source(plan: Plan, actor: Actor) -> tuple[str, dict[str, Any]]:
    """The operation and the parameters that name whose policies are simulated."""
    if plan.policy_documents:
        documents = plan.policy_documents if actor is Actor.IDENTITY else plan.vm_import_documents
        return "simulate_custom_policy", {"PolicyInputList": documents}
    arn = plan.principal_arn if actor is Actor.IDENTITY else plan.vm_import_role_arn
    return "simulate_principal_policy", {"PolicySourceArn": arn}


def _pages(
    iam: Any, operation: str, parameters: dict[str, Any], request: SimulatedCall
) -> list[dict[str, Any]]:
    """Every EvaluationResult of one request, following Marker while IsTruncated."""
    results: list[dict[str, Any]] = []
    marker = None
    while True:
        page_parameters = {**parameters, **request.parameters(), "MaxItems": PAGE_SIZE}
        if marker:
            page_parameters["Marker"] = marker
        page = getattr(iam, operation)(**page_parameters)
        results += page.get("EvaluationResults", [])
        if not page.get("IsTruncated"):
            return results
        marker = page["Marker"]


def _client_error(error: Any, operation: str | None = None) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    action = {
        "simulate_principal_policy": "iam:SimulatePrincipalPolicy",
        "simulate_custom_policy": "iam:SimulateCustomPolicy",
    }.get(operation or "", "")
    if code in ("AccessDenied", "AccessDeniedException") and action:
        return (
            f"the caller may not call {action} ({code}): grant it to the identity running "
            "check; `restore-permissions check --operator-policy` prints the least policy"
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return f"access denied: {message}"
    if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
        return f"IAM kept throttling the simulator after 10 attempts ({code}): try again later"
    return f"{code or 'error'}: {message}"


def stack_principals(cloudformation: Any, stack: str) -> tuple[str, str | None]:
    """The restore identity's ARN and the vmimport role's ARN, from the stack's outputs."""
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = stacks[0].get("Outputs", []) if stacks else []
    identities = [
        o["OutputValue"] for o in outputs if o.get("Description") in IDENTITY_OUTPUT_DESCRIPTIONS
    ]
    roles = [
        o["OutputValue"] for o in outputs if o.get("Description") == VM_IMPORT_OUTPUT_DESCRIPTION
    ]
    if not identities:
        raise CheckError(
            f"stack {stack!r} has no restore identity output (UserArn or RoleArn of a "
            "RestorePermissions with create_outputs=True): pass --principal-arn"
        )
    if len(set(identities)) > 1:
        raise CheckError(
            f"stack {stack!r} has {len(set(identities))} restore identities "
            f"({', '.join(sorted(set(identities)))}): pass --principal-arn for one of them"
        )
    return identities[0], roles[0] if roles else None


# --- running and reporting ---------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    step: Step
    verdict: Verdict | None  # None: not checked (the vmimport role's calls without its policy)


@dataclass(frozen=True)
class WorkflowResult:
    workflow: Workflow
    bucket: str
    results: tuple[StepResult, ...]

    @property
    def first_denied(self) -> StepResult | None:
        return next((r for r in self.results if r.verdict and not r.verdict.allowed), None)

    @property
    def passed(self) -> bool:
        return self.first_denied is None

    @property
    def unchecked(self) -> int:
        return sum(r.verdict is None for r in self.results)


@dataclass
class Report:
    plan: Plan
    workflows: list[WorkflowResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.workflows)

    def subject(self) -> str:
        if self.plan.policy_documents:
            return f"{len(self.plan.policy_documents)} policy document(s)"
        return str(self.plan.principal_arn)

    def as_json(self) -> dict[str, Any]:
        return {
            "simulated": {
                "principal": None if self.plan.policy_documents else self.plan.principal_arn,
                "policy_documents": len(self.plan.policy_documents),
                "vmimport_role": self.plan.vm_import_role_arn,
                "region": self.plan.target.region,
                "account": self.plan.account,
            },
            "passed": self.passed,
            "workflows": [_workflow_json(result) for result in self.workflows],
            "skipped": [
                {"workflow": flow.name, "reason": reason} for flow, reason in self.plan.skipped
            ],
        }

    def as_table(self, *, width: int = DEFAULT_WIDTH) -> str:
        lines = [
            f"Simulated: {self.subject()}, Region {self.plan.target.region}, "
            f"account {self.plan.account}",
        ]
        several = len(self.plan.buckets) > 1
        for result in self.workflows:
            name = result.workflow.name + (f" ({result.bucket})" if several else "")
            status = "allowed" if result.passed else "DENIED"
            scenario = ", ".join(workflow_scenarios(result.workflow))
            extra = f"  [RunInstances scenario {scenario}]" if scenario else ""
            lines.append(f"{name:<28}{status}{extra}")
            denied = result.first_denied
            if denied is not None:
                lines += wrapped("    ", _describe_denial(denied), width, hanging=6)
                later = [
                    r.step.call.action
                    for r in result.results
                    if r.verdict and not r.verdict.allowed and r is not denied
                ]
                if later:
                    lines += wrapped(
                        "    ",
                        f"later steps denied too: {', '.join(dict.fromkeys(later))}",
                        width,
                        hanging=6,
                    )
        for flow, reason in self.plan.skipped:
            lines += wrapped(f"{flow.name:<28}", f"skipped: {reason}", width, hanging=28)
        if any(result.unchecked for result in self.workflows):
            lines += wrapped(
                "",
                "The calls VM Import/Export makes with the vmimport role were not checked: "
                "pass its policy with --vmimport-policy-file.",
                width,
            )
        failed = sum(not r.passed for r in self.workflows)
        lines.append(
            f"{len(self.workflows) - failed} of {len(self.workflows)} workflows allowed"
            + (f"; {failed} would fail" if failed else "")
        )
        return "\n".join(lines) + "\n"


def _describe_denial(result: StepResult) -> str:
    step, found = result.step, result.verdict
    assert found is not None
    caller = "" if step.call.actor is Actor.IDENTITY else "vmimport role: "
    if found.decision is Decision.NO_SUCH_PRINCIPAL:
        return f"step {step.number} {caller}{step.call.action}: the role does not exist"
    text = (
        f"step {step.number} {caller}{step.call.action} ({step.call.what}): "
        f"{found.decision.value} on {', '.join(found.denied_resources)}"
    )
    if found.matched_policies:
        text += f"; matched {', '.join(found.matched_policies)}"
    if found.denied_by:
        text += f"; denied by {', '.join(found.denied_by)}"
    if found.missing_context:
        text += f"; missing context {', '.join(found.missing_context)}"
    return f"{text}. Cause: {found.cause}"


def _workflow_json(result: WorkflowResult) -> dict[str, Any]:
    denied = [_step_json(r) for r in result.results if r.verdict and not r.verdict.allowed]
    return {
        "workflow": result.workflow.name,
        "bucket": result.bucket,
        "passed": result.passed,
        "scenarios": workflow_scenarios(result.workflow),
        "calls_checked": sum(r.verdict is not None for r in result.results),
        "calls_not_checked": result.unchecked,
        "first_denied": denied[0] if denied else None,
        "denied_calls": denied,
    }


def _step_json(result: StepResult) -> dict[str, Any]:
    step, found = result.step, result.verdict
    assert found is not None
    return {
        "step": step.number,
        "caller": step.call.actor.value,
        "action": step.call.action,
        "what": step.call.what,
        "decision": found.decision.value,
        "resources": list(found.denied_resources),
        "matched_statements": list(found.matched_policies),
        "missing_context": list(found.missing_context),
        "denied_by": list(found.denied_by),
        "cause": found.cause,
        "request": step.request.parameters(),
    }


def run_workflows(plan: Plan, simulator: Simulator) -> Report:
    """Simulate every step of the planned workflows, for each bucket."""
    report = Report(plan, [])
    role_checked = bool(plan.vm_import_documents) or not plan.policy_documents
    #: Once the vmimport role is found missing, its later calls are not sent.
    role_missing = False
    for bucket in plan.buckets or [plan.target.bucket]:
        target = replace(plan.target, bucket=bucket)
        for flow in plan.workflows:
            results = []
            for step in steps(flow, target):
                actor = step.call.actor
                if actor is Actor.VM_IMPORT_ROLE and not role_checked:
                    results.append(StepResult(step, None))
                    continue
                if actor is Actor.VM_IMPORT_ROLE and role_missing:
                    results.append(StepResult(step, Verdict(Decision.NO_SUCH_PRINCIPAL)))
                    continue
                try:
                    answer = simulator(actor, step.request)
                except NoSuchPrincipalError as missing:
                    if actor is Actor.IDENTITY:
                        raise CheckError(f"{missing} does not exist") from None
                    role_missing = True
                    results.append(StepResult(step, Verdict(Decision.NO_SUCH_PRINCIPAL)))
                    continue
                results.append(StepResult(step, verdict(step.request, answer)))
            report.workflows.append(WorkflowResult(flow, bucket, tuple(results)))
    return report


def operator_policy(plan: Plan) -> dict[str, Any]:
    """The least policy the identity running ``check`` needs, for these arguments."""
    partition, region = plan.target.partition, plan.target.region
    account = plan.account or "*"
    statements: list[dict[str, Any]] = []
    if plan.policy_documents:
        # SimulateCustomPolicy takes no resource (Service Authorization Reference).
        statements.append(
            {
                "Sid": "SimulateGivenPolicies",
                "Effect": "Allow",
                "Action": "iam:SimulateCustomPolicy",
                "Resource": "*",
            }
        )
    else:
        principals = [
            arn for arn in (plan.principal_arn, plan.vm_import_role_arn) if arn is not None
        ] or [f"arn:{partition}:iam::{account}:user/*", f"arn:{partition}:iam::{account}:role/*"]
        if plan.principal_arn and not plan.vm_import_role_arn:
            principals.append(f"arn:{partition}:iam::{account}:role/vmimport")
        statements.append(
            {
                "Sid": "SimulateRestoreIdentity",
                "Effect": "Allow",
                "Action": "iam:SimulatePrincipalPolicy",
                "Resource": principals if len(principals) > 1 else principals[0],
            }
        )
    if plan.stack:
        statements.append(
            {
                "Sid": "ReadStackOutputs",
                "Effect": "Allow",
                "Action": "cloudformation:DescribeStacks",
                "Resource": f"arn:{partition}:cloudformation:{region}:{account}:stack/{plan.stack}/*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


__all__ = [
    "CheckError",
    "Plan",
    "Report",
    "Simulator",
    "add_check_parser",
    "iam_simulator",
    "operator_policy",
    "run_check",
    "run_workflows",
    "stack_principals",
]
