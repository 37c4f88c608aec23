"""Roll a restore-permissions stack out to every account of AWS Organizations OUs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import IStableStringProducer, Lazy, Stack, Stage
from aws_cdk import aws_cloudformation as cloudformation
from constructs import Construct, IValidation

from .errors import RestorePermissionsError, construct_path
from .policy import REGION_NAME

#: CloudFormation's limit for a template passed in the request (TemplateBody).
TEMPLATE_BODY_LIMIT = 51_200
_OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")


def ou_id_problem(value: str) -> str | None:
    """Why ``value`` is not an OU or root id ("is not ..."), or None."""
    if not _OU_ID.fullmatch(value):
        return "is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
    return None


class OrganizationRollout(Construct):
    """A service-managed CloudFormation StackSet of ``member``'s template.

    The StackSet deploys the template to every account in the given
    organizational units (or the root), and, with auto-deployment, to accounts
    that join them later; removing an account from them deletes its stack.
    The template is embedded in the StackSet (TemplateBody), rendered at synth
    so that the member may still change after this construct is created; the
    rollout stack's template shows exactly what each account gets, and the
    member stack's own template sits beside it in ``cdk.out`` for review. A
    member that CloudFormation would refuse (a bootstrap check, a template past
    51,200 characters) fails synth.

    :param member: the stack to roll out. It must be in another Stage than
        this construct (it is synthesized on its own), use a synthesizer that
        adds no bootstrap check (``DefaultStackSynthesizer(
        generate_bootstrap_version_rule=False)``: member accounts are not
        bootstrapped) and have no assets.
    :param organizational_unit_ids: OU ids (``ou-...``) or the root (``r-...``).
    :param region: the one Region the stacks go to. IAM is global: a second
        Region would create a second ``vmimport`` role and fail.
    :param stack_set_name: default: the construct's path-based unique name.
    :param call_as: ``SELF`` from the management account (default), or
        ``DELEGATED_ADMIN`` from a delegated administrator account.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        member: Stack,
        organizational_unit_ids: Sequence[str],
        region: str,
        stack_set_name: str | None = None,
        call_as: str = "SELF",
    ) -> None:
        try:
            _check_props(
                scope,
                member=member,
                organizational_unit_ids=organizational_unit_ids,
                region=region,
                stack_set_name=stack_set_name,
                call_as=call_as,
            )
        except ValueError as error:
            raise RestorePermissionsError(construct_path(scope, construct_id), str(error)) from None
        super().__init__(scope, construct_id)
        self.member = member
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "StackSet",
            stack_set_name=stack_set_name or f"restore-permissions-{self.node.addr[:8]}",
            description="restore-permissions: IAM for restoring image-based backups as EC2 instances",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            call_as=call_as,
            # The member template names the vmimport role and creates IAM users.
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_percentage=10,
                max_concurrent_percentage=25,
                region_concurrency_type="PARALLEL",
            ),
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(organizational_unit_ids)
                    ),
                    regions=[region],
                )
            ],
            # Rendered at synth, after every change to the member: CDK synthesizes
            # nested stages before it resolves this stack's template.
            template_body=Lazy.string(_MemberTemplateBody(self)),
        )
        self.node.add_validation(_MemberTemplateChecks(self))

    @property
    def template(self) -> dict[str, Any]:
        """The member stack's template, as the StackSet deploys it (synthesizes the member)."""
        stage = Stage.of(self.member)
        assert stage is not None
        template: dict[str, Any] = stage.synth().get_stack_by_name(self.member.stack_name).template
        return template

    @property
    def template_body(self) -> str:
        return _body(self.template)


#: A StackSet name (CloudFormation API reference, CreateStackSet).
_STACK_SET_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


def _check_props(
    scope: Construct,
    *,
    member: Stack,
    organizational_unit_ids: Sequence[str],
    region: str,
    stack_set_name: str | None,
    call_as: str,
) -> None:
    """ValueError naming the first argument of OrganizationRollout that is wrong."""
    if not isinstance(member, Stack):
        raise ValueError(f"member={member!r} is invalid: pass the cdk.Stack to roll out")
    if not isinstance(organizational_unit_ids, (list, tuple)) or not organizational_unit_ids:
        raise ValueError(
            f"organizational_unit_ids={organizational_unit_ids!r} is invalid: pass a list "
            "of OU ids (ou-...) or the root id (r-...)"
        )
    for ou in organizational_unit_ids:
        problem = ou_id_problem(ou) if isinstance(ou, str) else "is not a str"
        if problem is not None:
            raise ValueError(f"organizational_unit_ids contains {ou!r}, which {problem}")
    if not isinstance(region, str) or not REGION_NAME.fullmatch(region):
        raise ValueError(
            f"region={region!r} is invalid: pass one AWS Region name, for example 'us-east-1'"
        )
    if stack_set_name is not None and (
        not isinstance(stack_set_name, str) or not _STACK_SET_NAME.fullmatch(stack_set_name)
    ):
        raise ValueError(
            f"stack_set_name={stack_set_name!r} is invalid: a StackSet name is 1 to 128 "
            "letters, digits and hyphens, starting with a letter"
        )
    if not isinstance(call_as, str) or call_as not in ("SELF", "DELEGATED_ADMIN"):
        raise ValueError(f"call_as={call_as!r} is invalid: use 'SELF' or 'DELEGATED_ADMIN'")
    if Stage.of(member) is Stage.of(scope):
        raise ValueError(
            f"member={member.node.path!r} is invalid: put the member stack in its own "
            "cdk.Stage, so that it is synthesized on its own"
        )


@jsii.implements(IStableStringProducer)
class _MemberTemplateBody:
    def __init__(self, rollout: OrganizationRollout) -> None:
        self._rollout = rollout

    def produce(self) -> str:
        return self._rollout.template_body


@jsii.implements(IValidation)
class _MemberTemplateChecks:
    """What CloudFormation would refuse at deploy time, checked at synth."""

    def __init__(self, rollout: OrganizationRollout) -> None:
        self._rollout = rollout

    def validate(self) -> list[str]:
        member = self._rollout.member.node.path
        # One read of the member's template (it crosses jsii whole) for both checks.
        template = self._rollout.template
        if "BootstrapVersion" in template.get("Parameters", {}):
            return [
                f"member={member!r} is invalid: its template checks the CDK bootstrap version, "
                "which member accounts do not have; give it "
                "synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False)"
            ]
        size = len(_body(template))
        if size > TEMPLATE_BODY_LIMIT:
            return [
                f"member={member!r} is invalid: its template has {size} characters, more than "
                f"the {TEMPLATE_BODY_LIMIT} CloudFormation accepts in a StackSet's TemplateBody; "
                "split its buckets over more member stacks"
            ]
        return []


def _body(template: dict[str, Any]) -> str:
    """The template as the StackSet's TemplateBody: JSON without whitespace, keys sorted.

    Sorted, so that the body depends on what the template says and not on the
    order constructs were created in: a changed body is a StackSet update,
    rolled out to every member account."""
    return json.dumps(template, separators=(",", ":"), sort_keys=True)
