"""The workflow matrix: every workflow, under every profile and policy-changing option.

For each option set, the identity and vmimport role policies are rendered
from the catalogue, and each workflow is judged by the offline evaluator in
tests/oracle.py (a test-only oracle):

* a workflow the options serve: every call is allowed on every resource it
  touches, and a denied twin of each scoped call stays denied (another
  account, Region, bucket or key, no tag, a key used outside S3 or EBS);
* a workflow the options do not serve (not opted in, or unsupported): at
  least one of its calls is denied, so the declaration is not stale.

tests/test_workflows.py runs it; ``make mutate`` (scripts/mutate.py) runs it
against policies with one action or resource type dropped. It imports no CDK.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from restore_permissions.policy import (
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    ResourceType,
    StatementSpec,
    identity_statements,
    policy_document,
    render_statements,
    vm_import_role_statements,
)
from restore_permissions.policy.workflows import (
    WORKFLOWS,
    Actor,
    Availability,
    Call,
    Tagging,
    Target,
    Touch,
    Workflow,
    availability,
)

from .oracle import allows, as_policy

OTHER_ACCOUNT = "999999999999"
OTHER_REGION = "ap-south-1"
OTHER_BUCKET = "someone-elses-backups"
OTHER_KEY = "arn:aws:kms:us-east-1:111122223333:key/99999999-12ab-34cd-56ef-1234567890ab"
TAG = ("restore-permissions", "restored")
SUBNET_OWNER = "444455556666"
#: Services whose service-linked roles the identity must never create.
OTHER_SERVICE = "elasticmapreduce.amazonaws.com"


@dataclass(frozen=True)
class OptionSet:
    name: str
    options: PolicyOptions
    kms: bool = False
    #: A customer managed EBS key (EBS encryption by default) besides the bucket's.
    ebs_key: bool = False

    @property
    def targets(self) -> tuple[Target, ...]:
        """Where the workflows run: once in every allowed Region (us-east-1 for any)."""
        return tuple(
            Target(
                region=region,
                instance_tag=self.options.instance_tag,
                subnet_owner=SUBNET_OWNER,
            )
            for region in self.options.allowed_regions or ("us-east-1",)
        )

    @property
    def target(self) -> Target:
        """The first of :attr:`targets`: the bucket, key and account are the same in each."""
        return self.targets[0]


#: Each profile, and each option that changes the policy, alone and combined.
OPTION_SETS: tuple[OptionSet, ...] = (
    OptionSet("least-privilege", PolicyOptions()),
    OptionSet("one-region", PolicyOptions(allowed_regions=("eu-west-1",))),
    OptionSet("two-regions", PolicyOptions(allowed_regions=("us-east-1", "eu-central-1"))),
    OptionSet("instance-tag", PolicyOptions(instance_tag=TAG)),
    OptionSet("kms", PolicyOptions(), kms=True),
    OptionSet("federation", PolicyOptions(federation=True)),
    OptionSet("email", PolicyOptions(email_notifications=True)),
    OptionSet(
        "all-options",
        PolicyOptions(
            allowed_regions=("eu-west-1",),
            instance_tag=TAG,
            federation=True,
            email_notifications=True,
        ),
        kms=True,
    ),
    OptionSet(
        "tag-two-regions-kms",
        PolicyOptions(allowed_regions=("us-east-1", "eu-central-1"), instance_tag=TAG),
        kms=True,
    ),
    OptionSet("restore-only", PolicyOptions(restore_only=True), kms=True),
    OptionSet("tag-restore-only", PolicyOptions(instance_tag=TAG, restore_only=True), kms=True),
    OptionSet("object-acl-writes", PolicyOptions(object_acl_writes=True)),
    # Accounts set up in common ways (tests/test_real_accounts.py).
    OptionSet("ebs-key", PolicyOptions(), ebs_key=True),
    OptionSet(
        "kms-ebs-key-tag-one-region",
        PolicyOptions(allowed_regions=("eu-west-1",), instance_tag=TAG),
        kms=True,
        ebs_key=True,
    ),
    OptionSet("shared-vpc", PolicyOptions(shared_subnet_owners=(SUBNET_OWNER,))),
    OptionSet(
        "shared-vpc-tag-two-regions",
        PolicyOptions(
            allowed_regions=("us-east-1", "eu-central-1"),
            instance_tag=TAG,
            shared_subnet_owners=(SUBNET_OWNER, "777788889999"),
        ),
    ),
    OptionSet("object-lock", PolicyOptions(object_lock=True)),
    OptionSet(
        "object-lock-restore-only", PolicyOptions(object_lock=True, restore_only=True), kms=True
    ),
    OptionSet("kb1025", PolicyOptions(profile=PolicyProfile.KB1025)),
    OptionSet(
        "kb1025-one-region",
        PolicyOptions(profile=PolicyProfile.KB1025, allowed_regions=("eu-west-1",)),
    ),
    OptionSet("kb1025-kms", PolicyOptions(profile=PolicyProfile.KB1025), kms=True),
    OptionSet(
        "kb1025-two-regions-kms",
        PolicyOptions(profile=PolicyProfile.KB1025, allowed_regions=("us-east-1", "eu-west-1")),
        kms=True,
    ),
    OptionSet("kb1025-ebs-key", PolicyOptions(profile=PolicyProfile.KB1025), ebs_key=True),
)


@dataclass(frozen=True)
class Row:
    """One request and whether IAM must allow it."""

    option_set: str
    workflow: str
    step: int
    call: Call
    resource_type: ResourceType
    resource: str
    context: dict[str, str]
    expected: bool
    #: What a denied twin changed; "" for the workflow's own call.
    twin: str = ""

    def describe(self) -> str:
        twin = f" [{self.twin}]" if self.twin else ""
        region = self.context["aws:RequestedRegion"]
        where = f" in {region}" if region != "us-east-1" else ""
        return (
            f"{self.option_set} / {self.workflow} step {self.step}{where}: {self.call.actor.value} "
            f"{self.call.action} on {self.resource}{twin} should be "
            f"{'allowed' if self.expected else 'denied'}"
        )


def _touches(call: Call) -> Sequence[Touch | None]:
    return call.touches or (None,)


def _row(
    option_set: OptionSet,
    workflow: Workflow,
    step: int,
    call: Call,
    touch: Touch | None,
    target: Target,
    expected: bool,
    twin: str = "",
) -> Row:
    resource_type = touch.resource_type if touch else ResourceType.ANY
    return Row(
        option_set.name,
        workflow.name,
        step,
        call,
        resource_type,
        target.arn(resource_type, shared=touch is not None and touch.shared),
        target.context(call, touch),
        expected,
        twin,
    )


#: The calls that act on an instance that already exists.
INSTANCE_CONTROLS = frozenset(
    {
        "ec2:CreateTags",
        "ec2:ModifyInstanceAttribute",
        "ec2:MonitorInstances",
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:TerminateInstances",
    }
)


def _twins(
    option_set: OptionSet, target: Target, call: Call, touch: Touch | None
) -> Iterator[tuple[str, Call, Target] | tuple[str, Call, Target, Touch]]:
    """Changed copies of one request in ``target`` (and of its touch) that the policy must deny."""
    options = option_set.options
    least = options.profile is PolicyProfile.LEAST_PRIVILEGE
    if (
        least
        and touch is not None
        and touch.resource_type is ResourceType.INSTANCE
        and call.action in INSTANCE_CONTROLS
        and call.create_action is None
    ):
        # An instance someone gave a role: controlling it could run code as the role.
        with_role = dataclasses.replace(touch, with_instance_profile=True)
        yield "an instance with a role", call, target, with_role
    if (
        least
        and call.tag_key is not None
        and target.instance_tag is None
        and touch is not None
        and touch.resource_type is ResourceType.IMAGE
    ):
        # An AMI may get its Name tag only. ForAllValues holds for a request that
        # names no tag keys (IAM user guide, condition operators for multivalued keys).
        yield "no tag keys in the request", dataclasses.replace(call, tag_key=None), target
    resource_type = touch.resource_type if touch else ResourceType.ANY
    shared = touch is not None and touch.shared
    arn = target.arn(resource_type, shared=shared)
    if least and target.account in arn and resource_type not in _KEYS:
        yield "another account", call, dataclasses.replace(target, account=OTHER_ACCOUNT)
    if least and shared:
        yield (
            "a subnet of an account not named",
            call,
            dataclasses.replace(target, subnet_owner=OTHER_ACCOUNT),
        )
    regions = options.allowed_regions
    if regions and call.actor is Actor.IDENTITY:
        ec2_call = call.action.startswith("ec2:")
        # kms:ViaService names one Region only when one Region is allowed.
        ebs_key_in_one_region = call.via_service == "ec2" and len(regions) == 1
        if ec2_call or ebs_key_in_one_region:
            yield "another Region", call, dataclasses.replace(target, region=OTHER_REGION)
    if resource_type in (ResourceType.BUCKET, ResourceType.OBJECTS):
        yield "another bucket", call, dataclasses.replace(target, bucket=OTHER_BUCKET)
    key_fields = {ResourceType.KMS_KEY: "kms_key_arn", ResourceType.EBS_KMS_KEY: "ebs_kms_key_arn"}
    if resource_type in key_fields:
        field = key_fields[resource_type]
        yield "another key", call, _with_key(target, field, OTHER_KEY)
        # A key id names a key within one account and Region (KMS developer
        # guide, key identifiers): the same id elsewhere is another key.
        _, _, service, region, account, key_id = getattr(target, field).split(":", 5)
        for label, changed in (
            ("the key id in another account", f"{region}:{OTHER_ACCOUNT}"),
            ("the key id in another Region", f"{OTHER_REGION}:{account}"),
        ):
            other = f"arn:{target.partition}:{service}:{changed}:{key_id}"
            yield label, call, _with_key(target, field, other)
    if call.aws_service_name:
        yield (
            "another service's role",
            dataclasses.replace(call, aws_service_name=OTHER_SERVICE),
            target,
        )
    if call.via_service:
        yield "the key used directly", dataclasses.replace(call, via_service=None), target
    if call.grant_for_aws_resource:
        yield (
            "a grant not for an AWS resource",
            dataclasses.replace(call, grant_for_aws_resource=False),
            target,
        )
    if target.instance_tag and call.create_action:
        # The creating call's own tag condition decides; CreateTags may apply
        # its tags, and nothing more.
        yield "outside the creating call", dataclasses.replace(call, create_action=None), target
    elif target.instance_tag and touch is not None and touch.tagging is not Tagging.NONE:
        yield "without the tag", call, dataclasses.replace(target, instance_tag=None)


def _with_key(target: Target, field: str, arn: str) -> Target:
    """``target`` with its bucket key (``kms_key_arn``) or EBS key (``ebs_kms_key_arn``) changed."""
    if field == "kms_key_arn":
        return dataclasses.replace(target, kms_key_arn=arn)
    return dataclasses.replace(target, ebs_kms_key_arn=arn)


#: Key ARNs carry an account, but another account's key is its own twin ("another key").
_KEYS = (ResourceType.KMS_KEY, ResourceType.EBS_KMS_KEY)


@functools.cache
def rows_for(option_set: OptionSet, workflow: Workflow) -> tuple[Availability, tuple[Row, ...]]:
    """The workflow's expected rows under ``option_set``, and whether it is served
    (built once: make mutate asks for them once per mutation)."""
    status, _ = availability(
        workflow, option_set.options, kms=option_set.kms, ebs_key=option_set.ebs_key
    )
    rows = []
    # A served workflow runs in every allowed Region; a declaration that it is
    # not served is judged where it would run first.
    targets = option_set.targets if status is Availability.SERVED else option_set.targets[:1]
    for target in targets:
        for step, call in enumerate(workflow.calls, 1):
            for touch in _touches(call):
                rows.append(_row(option_set, workflow, step, call, touch, target, True))
                if status is not Availability.SERVED:
                    continue
                for label, twin_call, twin_target, *twin_touch in _twins(
                    option_set, target, call, touch
                ):
                    changed = twin_touch[0] if twin_touch else touch
                    rows.append(
                        _row(
                            option_set,
                            workflow,
                            step,
                            twin_call,
                            changed,
                            twin_target,
                            False,
                            label,
                        )
                    )
    return status, tuple(rows)


#: Renders (identity statements, vmimport role statements) for an option set.
Statements = Callable[[OptionSet], tuple[list[StatementSpec], list[StatementSpec]]]


def catalogue_statements(option_set: OptionSet) -> tuple[list[StatementSpec], list[StatementSpec]]:
    return (
        identity_statements(option_set.options, kms=option_set.kms, ebs_key=option_set.ebs_key),
        vm_import_role_statements(
            existing_role=False, kms=option_set.kms, ebs_key=option_set.ebs_key
        ),
    )


@dataclass
class Policies:
    identity: Any
    role: Any


#: Changes a rendered document ("identity" or "vmimport") before it is judged (make mutate).
DocumentChange = Callable[[str, dict[str, Any]], dict[str, Any]]


def documents(
    option_set: OptionSet, statements: Statements = catalogue_statements
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The identity's and the vmimport role's policy documents for ``option_set``."""
    identity, role = statements(option_set)
    arns = PolicyTargets.for_buckets(
        [option_set.target.bucket],
        account=option_set.target.account,
        kms_key_arns=[option_set.target.kms_key_arn] if option_set.kms else [],
        regions=option_set.options.allowed_regions,
        ebs_kms_key_arns=[option_set.target.ebs_kms_key_arn] if option_set.ebs_key else [],
    )
    # The vmimport role serves every Region: its ARNs name none (vm_import.py).
    role_arns = dataclasses.replace(arns, regions=())
    return (
        policy_document(render_statements(identity, arns, option_set.options)),
        policy_document(render_statements(role, role_arns, for_vm_import_role=True)),
    )


def render(
    option_set: OptionSet,
    statements: Statements = catalogue_statements,
    change: DocumentChange | None = None,
) -> Policies:
    identity, role = documents(option_set, statements)
    if change is not None:
        identity, role = change("identity", identity), change("vmimport", role)
    return Policies(as_policy(identity), as_policy(role, "vmimport"))


def evaluate(row: Row, policies: Policies) -> bool:
    policy = policies.identity if row.call.actor is Actor.IDENTITY else policies.role
    return allows(policy, row.call.action, row.resource, row.context)


def evaluate_call(call: Call, target: Target, policies: Policies) -> bool:
    """Whether ``call`` is allowed on every resource it touches (attack rows)."""
    policy = policies.identity if call.actor is Actor.IDENTITY else policies.role
    return all(
        allows(policy, call.action, target.touch_arn(touch), target.context(call, touch))
        for touch in _touches(call)
    )


def failures(option_set: OptionSet, workflow: Workflow, policies: Policies) -> list[str]:
    """What is wrong with ``workflow`` under ``option_set``; empty when all is as expected."""
    status, rows = rows_for(option_set, workflow)
    if status is Availability.SERVED:
        return [row.describe() for row in rows if evaluate(row, policies) is not row.expected]
    if all(evaluate(row, policies) for row in rows):
        return [
            f"{option_set.name} / {workflow.name} is declared {status.value}, yet every call "
            "is allowed"
        ]
    return []


def matrix_failures(statements: Statements = catalogue_statements) -> list[str]:
    """Every failure of the whole matrix, for ``statements``."""
    found = []
    for option_set in OPTION_SETS:
        policies = render(option_set, statements)
        for workflow in WORKFLOWS:
            found += failures(option_set, workflow, policies)
    return found


@functools.cache
def matrix_size() -> dict[str, int]:
    """How many cells and rows the matrix has, by kind."""
    counts = {"cells": 0, "served": 0, "allowed": 0, "denied twins": 0, "not served": 0}
    for option_set in OPTION_SETS:
        for workflow in WORKFLOWS:
            status, rows = rows_for(option_set, workflow)
            counts["cells"] += 1
            if status is Availability.SERVED:
                counts["served"] += 1
                counts["allowed"] += sum(row.expected for row in rows)
                counts["denied twins"] += sum(not row.expected for row in rows)
            else:
                counts["not served"] += 1
    return counts
