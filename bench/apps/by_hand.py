"""What the hand-written apps share: the cdk-nag findings the construct acknowledges, by hand."""

from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from restore_permissions.policy import vm_import_trust_policy


def vm_import_role(stack: cdk.Stack, account: str) -> iam.Role:
    """The vmimport service role with the trust policy the construct gives it."""
    trust = vm_import_trust_policy("aws", account)["Statement"][0]
    return iam.Role(
        stack,
        "VmImport",
        role_name="vmimport",
        assumed_by=iam.ServicePrincipal("vmie.amazonaws.com", conditions=trust["Condition"]),
    )


def acknowledge_wildcards(
    stack: cdk.Stack, documents: Iterable[dict[str, Any]], *extra: str
) -> None:
    """Acknowledge AwsSolutions-IAM5 for every wildcard resource and action of ``documents``."""
    findings = set(extra)
    for document in documents:
        for statement in document["Statement"]:
            for kind in ("Resource", "Action"):
                value = statement[kind]
                items = value if isinstance(value, list) else [value]
                findings |= {f"AwsSolutions-IAM5[{kind}::{item}]" for item in items if "*" in item}
    cdk.Validations.of(stack).acknowledge(
        *(
            cdk.Acknowledgment(id=finding, reason="Hand-written baseline: as the construct.")
            for finding in sorted(findings)
        )
    )
