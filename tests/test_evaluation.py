"""The synthesized policies, judged by an offline IAM policy evaluator we did not write.

The evaluator is principalmapper's local policy simulation (tests/oracle.py:
a test-only oracle; its last release is from 2022). It evaluates resources and
conditions, which moto does not: moto checks non-S3 calls against '*' and
ignores request context. Each row is a request with its context and whether
IAM should allow it; "denied" means no Allow statement matches (implicit deny).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PSEUDO, Synthesized
from .oracle import Policy, allows, as_policy

ACCOUNT = PSEUDO["AWS::AccountId"]
OTHER_ACCOUNT = "999999999999"
TAG = "aws:ResourceTag/restore-permissions"
REQUEST_TAG = "aws:RequestTag/restore-permissions"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def instance(region: str = "us-east-1", account: str = ACCOUNT) -> str:
    return f"arn:aws:ec2:{region}:{account}:instance/i-0123456789abcdef0"


# (what, action, resource, request context, allowed)
# The all_options example: Region us-east-1, tag guard restore-permissions=restored,
# federation, e-mail and a KMS key.
Row = tuple[str, str, str, dict[str, str], bool]

GUARDED: list[Row] = [
    ("launch a tagged instance", "ec2:RunInstances", instance(), {REQUEST_TAG: "restored"}, True),
    (
        "launch from a public AMI",
        "ec2:RunInstances",
        "arn:aws:ec2:us-east-1::image/ami-0abc",
        {},
        True,
    ),
    (
        "launch into a subnet",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-1",
        {},
        True,
    ),
    (
        "import a tagged image",
        "ec2:ImportImage",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:import-image-task/import-ami-1",
        {REQUEST_TAG: "restored"},
        True,
    ),
    (
        "tag what a launch creates",
        "ec2:CreateTags",
        instance(),
        {"ec2:CreateAction": "RunInstances"},
        True,
    ),
    ("stop a tagged instance", "ec2:StopInstances", instance(), {TAG: "restored"}, True),
    ("terminate a tagged instance", "ec2:TerminateInstances", instance(), {TAG: "restored"}, True),
    ("describe instances", "ec2:DescribeInstances", "*", {}, True),
    ("read a backup object", "s3:GetObject", "arn:aws:s3:::my-backups/image/disk.vhdx", {}, True),
    (
        "decrypt with the bucket key, through S3",
        "kms:Decrypt",
        KEY,
        {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        True,
    ),
    (
        "launch with a security group",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-1",
        {},
        True,
    ),
    (
        "launch with a key pair",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:key-pair/restore-key",
        {},
        True,
    ),
    (
        "launch with a new network interface",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-1",
        {},
        True,
    ),
    (
        "launch with the AMI's volumes, untagged",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-1",
        {},
        True,
    ),
    (
        "create a tagged volume from the imported snapshot",
        "ec2:CreateVolume",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-1",
        {REQUEST_TAG: "restored"},
        True,
    ),
    (
        "name the imported AMI, adding the tag",
        "ec2:CreateTags",
        "arn:aws:ec2:us-east-1::image/ami-1",
        {REQUEST_TAG: "restored"},
        True,
    ),
    (
        "federation token for an agent",
        "sts:GetFederationToken",
        f"arn:aws:sts::{ACCOUNT}:federated-user/agent-1",
        {},
        True,
    ),
    ("launch without the tag", "ec2:RunInstances", instance(), {}, False),
    (
        "launch with another tag value",
        "ec2:RunInstances",
        instance(),
        {REQUEST_TAG: "other"},
        False,
    ),
    (
        "launch in a Region not allowed",
        "ec2:RunInstances",
        instance("us-west-2"),
        {REQUEST_TAG: "restored", "aws:RequestedRegion": "us-west-2"},
        False,
    ),
    ("stop an untagged instance", "ec2:StopInstances", instance(), {}, False),
    ("terminate an untagged instance", "ec2:TerminateInstances", instance(), {}, False),
    (
        "terminate a tagged instance in another account",
        "ec2:TerminateInstances",
        instance(account=OTHER_ACCOUNT),
        {TAG: "restored"},
        False,
    ),
    ("tag an existing untagged instance", "ec2:CreateTags", instance(), {}, False),
    (
        "describe instances in a Region not allowed",
        "ec2:DescribeInstances",
        "*",
        {"aws:RequestedRegion": "eu-west-1"},
        False,
    ),
    ("read another bucket", "s3:GetObject", "arn:aws:s3:::other-bucket/x", {}, False),
    ("delete the backup bucket", "s3:DeleteBucket", "arn:aws:s3:::my-backups", {}, False),
    (
        "decrypt with another key",
        "kms:Decrypt",
        KEY.replace("1234abcd", "9999abcd"),
        {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        False,
    ),
    ("decrypt with the bucket key directly, not through S3 or EBS", "kms:Decrypt", KEY, {}, False),
    (
        "create an untagged volume",
        "ec2:CreateVolume",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/v",
        {},
        False,
    ),
    (
        "launch into a security group of another account",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{OTHER_ACCOUNT}:security-group/sg-1",
        {},
        False,
    ),
    (
        "name an AMI without adding the tag",
        "ec2:CreateTags",
        "arn:aws:ec2:us-east-1::image/ami-1",
        {},
        False,
    ),
    (
        "request Spot capacity (not granted with the tag guard)",
        "ec2:RequestSpotInstances",
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:spot-instances-request/sir-1",
        {REQUEST_TAG: "restored"},
        False,
    ),
    ("create a user", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", {}, False),
]

# The default example: no Region restriction, no tag guard.
DEFAULT: list[Row] = [
    ("stop an instance in the account", "ec2:StopInstances", instance("eu-west-1"), {}, True),
    ("launch an instance in the account", "ec2:RunInstances", instance("ap-south-1"), {}, True),
    (
        "stop an instance in another account",
        "ec2:StopInstances",
        instance(account=OTHER_ACCOUNT),
        {},
        False,
    ),
    (
        "launch into another account's subnet",
        "ec2:RunInstances",
        f"arn:aws:ec2:us-east-1:{OTHER_ACCOUNT}:subnet/s-1",
        {},
        False,
    ),
    (
        "federation token (not opted in)",
        "sts:GetFederationToken",
        f"arn:aws:sts::{ACCOUNT}:federated-user/a",
        {},
        False,
    ),
    (
        "send e-mail (not opted in)",
        "ses:SendEmail",
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/a@b.c",
        {},
        False,
    ),
]


def identity_policy(synth: Synthesized) -> Policy:
    """The identity's statements (its own policy and the stack's shared one), deployed."""
    return as_policy(synth.policy_document("identity", refs=PSEUDO))


def allowed(policy: Policy, action: str, resource: str, context: dict[str, Any]) -> bool:
    return allows(policy, action, resource, {"aws:RequestedRegion": "us-east-1", **context})


ROWS = [("all_options", *row) for row in GUARDED] + [("user_with_key", *row) for row in DEFAULT]


@pytest.mark.parametrize(
    ("variant", "what", "action", "resource", "context", "expected"),
    ROWS,
    ids=[f"{row[0]}: {row[1]}" for row in ROWS],
)
def test_evaluated_request(
    examples: dict[str, Synthesized],
    variant: str,
    what: str,
    action: str,
    resource: str,
    context: dict[str, Any],
    expected: bool,
) -> None:
    assert allowed(identity_policy(examples[variant]), action, resource, context) is expected


def test_the_vendor_policy_would_let_a_leaked_key_stop_any_instance(
    examples: dict[str, Synthesized],
) -> None:
    # The contrast that motivates the scoping: KB1025 puts EC2 control on '*'.
    policy = identity_policy(examples["kb1025"])
    assert allowed(policy, "ec2:StopInstances", instance(account=OTHER_ACCOUNT), {})
    assert allowed(policy, "s3:DeleteBucket", "arn:aws:s3:::my-backups", {})
