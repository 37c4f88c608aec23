"""``diff --stack``: a deployed stack's template, and with ``--deployed`` its identities as IAM has them.

The template comes from CloudFormation ``GetTemplate`` (the original, as
deployed), resolved with the stack's own partition, account, Region and
parameter values. ``--deployed`` then reads, for each identity of that
template, the managed policies IAM attaches to it now: a user's own
(``ListAttachedUserPolicies``) and its groups' (``ListGroupsForUser``,
``ListAttachedGroupPolicies``), a role's (``ListAttachedRolePolicies``), each
at its default version (``GetPolicy``, ``GetPolicyVersion``). A policy edited
by hand in the console since the deploy shows up here. Inline policies are
not read.

boto3 is the optional ``check`` extra; only this module imports it.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .diff_sources import DiffError, Identity, ManagedPolicy, Role, Side, from_template
from .policy.rendering import DEFAULT_URL_SUFFIX, URL_SUFFIXES
from .policy.trust import VM_IMPORT_ROLE_NAME
from .template_values import Pseudo

INSTALL_HINT = "pip install 'restore-permissions[check]'"
DEFAULT_REGION = "us-east-1"
#: botocore's standard retry mode, as ``check`` uses it.
RETRIES = {"mode": "standard", "max_attempts": 10}


def _boto3() -> tuple[Any, Any]:
    try:
        import boto3  # noqa: PLC0415 - boto3 is the optional `check` extra
        import botocore.config  # noqa: PLC0415
        import botocore.exceptions  # noqa: PLC0415
    except ImportError:
        raise DiffError(
            f"diff --stack needs boto3, which is not installed: {INSTALL_HINT}"
        ) from None
    return boto3, botocore


def stack_sides(
    stack: str, *, region: str | None, deployed: bool, parameters: Mapping[str, str]
) -> tuple[Side, Side | None, Pseudo]:
    """The stack's template as a side, IAM's view of its identities (with ``deployed``), and
    the pseudo parameters both are resolved with."""
    boto3, botocore = _boto3()
    session = boto3.session.Session()
    config = botocore.config.Config(
        region_name=region or session.region_name or DEFAULT_REGION, retries=dict(RETRIES)
    )
    try:
        cloudformation = session.client("cloudformation", config=config)
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        body = cloudformation.get_template(StackName=stack, TemplateStage="Original")[
            "TemplateBody"
        ]
        physical = {
            summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
            for page in cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack
            )
            for summary in page["StackResourceSummaries"]
        }
        _, partition, _, stack_region, account, _ = described["StackId"].split(":", 5)
        pseudo = Pseudo(
            partition=partition,
            account=account,
            region=stack_region,
            url_suffix=URL_SUFFIXES.get(partition, DEFAULT_URL_SUFFIX),
            stack_name=stack,
        )
        values = {
            p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
            for p in described.get("Parameters", [])
        }
        template = _template(body, stack)
        side = from_template(
            template, f"stack {stack}", pseudo=pseudo, parameters={**values, **parameters}
        )
        if not deployed:
            return side, None, pseudo
        iam = session.client("iam", config=config)
        by_arn = {arn: logical_id for logical_id, arn in physical.items() if ":policy/" in arn}
        identities = [
            found
            for identity in side.identities
            if (found := _deployed(iam, botocore, identity, physical, by_arn)) is not None
        ]
    except botocore.exceptions.BotoCoreError as error:
        raise DiffError(f"cannot reach AWS: {error}") from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        raise DiffError(f"{code or 'error'}: {message}") from None
    return side, Side(f"stack {stack} as deployed in IAM", identities), pseudo


def _template(body: Any, stack: str) -> dict[str, Any]:
    if isinstance(body, dict):
        return dict(body)
    try:
        value = json.loads(body)
    except (TypeError, json.JSONDecodeError):
        raise DiffError(f"stack {stack!r} has a YAML template: diff reads JSON templates") from None
    if not isinstance(value, dict):
        raise DiffError(f"stack {stack!r} has no template object")
    return value


def _deployed(
    iam: Any,
    botocore: Any,
    identity: Identity,
    physical: Mapping[str, str],
    by_arn: Mapping[str, str],
) -> Identity | None:
    """The identity with the managed policies IAM attaches to it now (None: it does not exist)."""
    name = physical.get(identity.logical_id) or (
        VM_IMPORT_ROLE_NAME if identity.role is Role.VM_IMPORT else ""
    )
    if not name:
        return None
    kind = identity.label.split(" ", 1)[0]
    try:
        if kind == "user":
            arns = _attached(iam, "list_attached_user_policies", UserName=name)
            for page in iam.get_paginator("list_groups_for_user").paginate(UserName=name):
                for group in page["Groups"]:
                    arns += _attached(
                        iam, "list_attached_group_policies", GroupName=group["GroupName"]
                    )
        else:
            arns = _attached(iam, "list_attached_role_policies", RoleName=name)
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise
    policies = []
    for arn in dict.fromkeys(arns):
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
            "Document"
        ]
        if isinstance(document, str):  # URL-encoded JSON, as the IAM API sends it
            document = json.loads(urllib.parse.unquote(document))
        # Named by its logical id when the stack created it, so that sizes pair up.
        policies.append(ManagedPolicy(by_arn.get(arn, arn.rsplit("/", 1)[-1]), document))
    return replace(
        identity,
        label=f"{kind} {name} (IAM now)",
        policies=tuple(policies),
        # Every managed policy IAM attaches is here, an existing vmimport role's too.
        partial="",
    )


def _attached(iam: Any, operation: str, **name: str) -> list[str]:
    return [
        policy["PolicyArn"]
        for page in iam.get_paginator(operation).paginate(**name)
        for policy in page["AttachedPolicies"]
    ]


__all__ = ["stack_sides"]
