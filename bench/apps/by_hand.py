"""What the hand-written apps share: ARNs with pseudo parameters, the vmimport role and
the cdk-nag findings the construct acknowledges, written by hand.

A careful author does not hard-code the account and the ``aws`` partition (the
flaw of the vendor's policy): the catalogue is rendered with the
``AWS::Partition``, ``AWS::AccountId`` and ``AWS::URLSuffix`` pseudo
parameters, and each ARN becomes one ``Fn::Sub``, as in the construct's
template. tests/test_bench_twins.py checks that each twin writes the same
resources and policy documents as the construct's app.
"""

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from restore_permissions.policy import PolicyTargets, vm_import_trust_conditions

PARTITION, ACCOUNT, URL_SUFFIX = "${AWS::Partition}", "${AWS::AccountId}", "${AWS::URLSuffix}"
#: The construct's descriptions, so that the templates are the same size.
STACK_DESCRIPTION = (
    "IAM permissions to restore image-based backups as EC2 instances (restore-permissions)"
)
OWN_POLICY = "Restore image-based backups as EC2 instances (restore-permissions)"
SHARED_POLICY = (
    "Restore image-based backups as EC2 instances: the statements every restore identity "
    "of this stack with these options shares (restore-permissions)"
)
ROLE = "Restores image-based backups as EC2 instances (restore-permissions)"
VM_IMPORT_POLICY = "Lets VM Import/Export read the backup buckets (restore-permissions)"


def targets(buckets: Sequence[str]) -> PolicyTargets:
    """The buckets' ARNs, in this stack's partition and account."""
    literal = PolicyTargets.for_buckets(buckets, partition=PARTITION, account=ACCOUNT)
    return dataclasses.replace(literal, url_suffix=URL_SUFFIX)


def with_pseudo_parameters(value: Any) -> Any:
    """A rendered document with each string that names a pseudo parameter as an Fn::Sub."""
    if isinstance(value, str):
        return cdk.Fn.sub(value) if "${AWS::" in value else value
    if isinstance(value, list):
        return [with_pseudo_parameters(item) for item in value]
    if isinstance(value, dict):
        return {key: with_pseudo_parameters(item) for key, item in value.items()}
    return value


def managed_policy(
    stack: cdk.Stack, policy_id: str, document: dict[str, Any], description: str, **attach: Any
) -> iam.ManagedPolicy:
    return iam.ManagedPolicy(
        stack,
        policy_id,
        description=description,
        document=iam.PolicyDocument.from_json(with_pseudo_parameters(document)),
        **attach,
    )


def vm_import_role(stack: cdk.Stack) -> iam.Role:
    """The vmimport service role with the trust policy the construct gives it, retained."""
    role = iam.Role(
        stack,
        "VmImport",
        role_name="vmimport",
        assumed_by=iam.ServicePrincipal(
            "vmie.amazonaws.com",
            conditions=vm_import_trust_conditions(str(cdk.Aws.PARTITION), str(cdk.Aws.ACCOUNT_ID)),
        ),
        description="VM Import/Export service role (restore-permissions)",
    )
    role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return role


def acknowledge_wildcards(
    stack: cdk.Stack, documents: Iterable[dict[str, Any]], *extra: str
) -> None:
    """Acknowledge AwsSolutions-IAM5 for every wildcard resource and action of ``documents``,
    as cdk-nag names them (``${AWS::Partition}`` flattened to ``<AWS::Partition>``)."""
    findings = set(extra)
    for document in documents:
        for statement in document["Statement"]:
            for kind in ("Resource", "Action"):
                value = statement[kind]
                items = value if isinstance(value, list) else [value]
                findings |= {
                    f"AwsSolutions-IAM5[{kind}::{item.replace('${', '<').replace('}', '>')}]"
                    for item in items
                    if "*" in item
                }
    cdk.Validations.of(stack).acknowledge(
        *(
            cdk.Acknowledgment(id=finding, reason="Hand-written baseline: as the construct.")
            for finding in sorted(findings)
        )
    )
