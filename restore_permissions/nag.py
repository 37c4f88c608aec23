"""cdk-nag acknowledgments that the construct adds for the findings its job implies.

cdk-nag 3 reports each wildcard of a policy as its own finding, and the
finding id embeds the resource flattened to a string:
``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::NAME/*]`` for an
imported bucket, ``AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/*]`` for a
bucket in the same stack, the export name for a bucket from another stack.
That string is only final once CDK has resolved cross-stack references, so
the ids are computed in a ``node.add_validation`` hook, not in a constructor.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from .scopes import stack_of
from .stack_checks import StackChecks
from .tokens import ResolvedTokens

#: Finding ids of rules that cdk-nag reports on the access-key secret.
SECRET_ROTATION_FINDINGS = (
    "AwsSolutions-SMG4",
    "NIST.800.53.R5-SecretsManagerRotationEnabled",
    "HIPAA.Security-SecretsManagerRotationEnabled",
)
SECRET_KMS_FINDINGS = (
    "NIST.800.53.R5-SecretsManagerUsingKMSKey",
    "HIPAA.Security-SecretsManagerUsingKMSKey",
    "PCI.DSS.321-SecretsManagerUsingKMSKey",
)

#: Finding ids of rules that report a policy statement granting ``service:*``.
FULL_ACCESS_FINDINGS = (
    "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess",
    "HIPAA.Security-IAMPolicyNoStatementsWithFullAccess",
    "PCI.DSS.321-IAMPolicyNoStatementsWithFullAccess",
)


def flatten_cfn_reference(reference: object) -> str:
    """Flatten a resolved CloudFormation value the way cdk-nag does for finding ids.

    A port of cdk-nag 3's ``utils/flatten-cfn-reference.ts``: ``Fn::Join`` is
    joined, ``Ref`` becomes ``<Name>``, ``Fn::GetAtt`` becomes
    ``<Name.Attribute>``, ``Fn::ImportValue`` becomes the export name, and
    ``${...}`` becomes ``<...>``; anything else is JSON.
    """
    if reference is None:
        return ""
    if isinstance(reference, str):
        return reference.replace("${", "<").replace("}", ">")
    if isinstance(reference, dict):
        if reference.get("Fn::Join"):
            delimiter, items = reference["Fn::Join"]
            return str(delimiter).join(flatten_cfn_reference(item) for item in items)
        if reference.get("Fn::Sub"):
            return flatten_cfn_reference(reference["Fn::Sub"])
        if reference.get("Fn::GetAtt"):
            resource, attribute = reference["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if reference.get("Fn::ImportValue"):
            return flatten_cfn_reference(reference["Fn::ImportValue"])
        if reference.get("Ref"):
            return f"<{flatten_cfn_reference(reference['Ref'])}>"
    return json.dumps(reference, separators=(",", ":"))


def acknowledge(scope: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledge exact cdk-nag findings (id -> reason) on ``scope`` and its children."""
    if findings:
        Validations.of(scope).acknowledge(
            *(Acknowledgment(id=finding, reason=reason) for finding, reason in findings.items())
        )


class Flattener:
    """Flattens resource strings as cdk-nag does, resolving each distinct token once."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._tokens = ResolvedTokens(stack, flatten_cfn_reference)

    def prefetch(self, resources: list[str]) -> None:
        """Resolve the tokens of every resource at once (one jsii call)."""
        self._tokens.prefetch(resources)

    def __call__(self, resource: str) -> str:
        literal, _ = self._tokens.split(resource)
        if "${" in literal:  # Fn::Sub syntax: let CDK resolve the whole string
            return flatten_cfn_reference(self._stack.resolve(resource))
        return self._tokens.substitute(resource, str)


class WildcardAcknowledgments:
    """Acknowledges the justified wildcards of a stack's policies once references are final.

    For each policy, ``resources`` and ``actions`` are called at validation time
    and yield ``(resource or action, reason)`` pairs, so what is added after
    construction is covered too. Only resources that flatten to a string with
    a wildcard are acknowledged: exactly what cdk-nag reports, on that policy.
    One validation per stack serves all of its policies, with one ``resolve``
    for all of their tokens.
    """

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, WildcardAcknowledgments]] = (
        weakref.WeakKeyDictionary()
    )

    @classmethod
    def add(
        cls,
        policy: IConstruct,
        resources: Callable[[], Iterable[tuple[str, str]]],
        actions: Callable[[], Iterable[tuple[str, str]]],
    ) -> None:
        """Acknowledge ``policy``'s justified wildcards at validation time."""
        stack = stack_of(policy)
        checks = cls._OF.get(stack)
        if checks is None or checks.validated:
            # A policy placed after its stack was validated gets a validation of its own.
            checks = cls(stack)
            cls._OF[stack] = checks
            StackChecks.add(stack, checks.validate)
        checks._policies.append((policy, resources, actions))

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._policies: list[
            tuple[
                IConstruct,
                Callable[[], Iterable[tuple[str, str]]],
                Callable[[], Iterable[tuple[str, str]]],
            ]
        ] = []
        self.validated = False

    def validate(self) -> list[str]:
        self.validated = True
        flatten = Flattener(self._stack)
        # Literal text without a wildcard is skipped (an Fn::Sub token may hold one).
        candidates = [
            [
                (resource, reason)
                for resource, reason in resources()
                if "*" in resource or "${Token[" in resource
            ]
            for _, resources, _ in self._policies
        ]
        flatten.prefetch([resource for found in candidates for resource, _ in found])
        for (policy, _, actions), found in zip(self._policies, candidates, strict=True):
            findings: dict[str, str] = {}
            for resource, reason in found:
                flat = flatten(resource)
                if "*" in flat:
                    findings.setdefault(f"AwsSolutions-IAM5[Resource::{flat}]", reason)
            full_access = []
            for action, reason in actions():
                findings[f"AwsSolutions-IAM5[Action::{action}]"] = reason
                if action.endswith(":*"):
                    full_access.append(reason)
            if full_access:
                for finding in FULL_ACCESS_FINDINGS:
                    findings[finding] = " ".join(full_access)
            acknowledge(policy, findings)
        return []
