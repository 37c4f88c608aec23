"""cdk-nag: every variant passes four packs, and each acknowledgment the construct adds is needed.

Compliant and non-compliant pairs: the same stacks are checked with the
construct's acknowledgments and without them.
"""

from __future__ import annotations

from collections.abc import Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NagPack,
    NIST80053R5Checks,
    PCIDSS321Checks,
)

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    SecretEncryption,
    nag,
)

from .conftest import EXAMPLE_VARIANTS, Synthesized, new_app, synthesize, synthesize_stack

PACKS: list[type[NagPack]] = [
    AwsSolutionsChecks,
    NIST80053R5Checks,
    HIPAASecurityChecks,
    PCIDSS321Checks,
]

# The scoped EC2 ARNs of the least-privilege policy, as cdk-nag flattens them.
EC2_ACCOUNT_TYPES = [
    "import-image-task",
    "import-snapshot-task",
    "instance",
    "key-pair",
    "network-interface",
    "security-group",
    "spot-instances-request",
    "subnet",
    "volume",
]
IDENTITY_EC2_FINDINGS = {
    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:{t}/*]"
    for t in EC2_ACCOUNT_TYPES
} | {
    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*::{t}/*]" for t in ("image", "snapshot")
}
VMIMPORT_EC2_FINDINGS = {
    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*::{t}/*]" for t in ("image", "snapshot")
}


def findings(scope: cdk.Stack | cdk.App, pack: type[NagPack]) -> list[str]:
    report = pack(verbose=True).validate_scope(scope)
    ids = sorted(violation.rule_name for violation in report.violations)
    assert report.success == (not ids)
    return ids


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
@pytest.mark.parametrize("variant", list(EXAMPLE_VARIANTS))
def test_example_variants_pass(
    examples: dict[str, Synthesized], variant: str, pack: type[NagPack]
) -> None:
    assert findings(examples[variant].app, pack) == []


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.__name__)
def test_two_constructs_in_one_stack_pass(
    two_in_one_stack: Synthesized, pack: type[NagPack]
) -> None:
    assert findings(two_in_one_stack.app, pack) == []


@pytest.fixture
def without_acknowledgments(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record the construct's acknowledgments instead of adding them."""
    recorded: list[str] = []
    monkeypatch.setattr(nag, "acknowledge", lambda scope, findings: recorded.extend(findings))
    yield recorded


def test_without_acknowledgments_exactly_those_findings_appear(
    without_acknowledgments: list[str],
) -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(stack, "Restore", bucket="my-backups")
    )
    found = sorted({finding for pack in PACKS for finding in findings(synth.app, pack)})
    expected = sorted(
        {
            "AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::my-backups/*]",
            "AwsSolutions-IAM5[Action::ec2:Describe*]",
            "AwsSolutions-SMG4",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
            "HIPAA.Security-SecretsManagerRotationEnabled",
            # No SecretsManagerUsingKMSKey: the stack's customer-managed key meets it.
        }
        | IDENTITY_EC2_FINDINGS
    )
    assert found == expected
    assert sorted(set(without_acknowledgments)) == expected


@pytest.fixture
def spied_acknowledgments(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Record (construct path, finding) of each acknowledgment, and still add it."""
    recorded: list[tuple[str, str]] = []
    original = nag.acknowledge

    def spy(scope: object, findings: dict[str, str]) -> None:
        for finding, reason in findings.items():
            recorded.append((scope.node.path, finding))  # type: ignore[attr-defined]
            assert len(reason) > 40, finding
        original(scope, findings)  # type: ignore[arg-type]

    monkeypatch.setattr(nag, "acknowledge", spy)
    yield recorded


def object_wildcards(recorded: list[tuple[str, str]], path: str) -> list[str]:
    return [
        finding
        for construct, finding in recorded
        if construct == path
        and finding.startswith("AwsSolutions-IAM5[Resource::")
        and finding.endswith("/*]")
        and ":ec2:" not in finding
    ]


def test_bucket_created_in_the_stack(spied_acknowledgments: list[tuple[str, str]]) -> None:
    def build(stack: cdk.Stack) -> None:
        bucket = s3.Bucket(stack, "Backups")
        RestorePermissions(stack, "Restore", bucket=bucket)
        # Overridden after the construct was built: the finding id must follow.
        bucket.node.default_child.override_logical_id("RenamedBackups")  # type: ignore[union-attr]

    synth = synthesize_stack(build)
    assert findings(synth.stack, AwsSolutionsChecks) == [
        "AwsSolutions-S1",
        "AwsSolutions-S10",
    ]  # the bucket's own
    assert object_wildcards(spied_acknowledgments, "Test/Restore/Policy") == [
        "AwsSolutions-IAM5[Resource::<RenamedBackups.Arn>/*]"
    ]
    assert object_wildcards(spied_acknowledgments, "Test/VmImportServiceRole/Policy") == [
        "AwsSolutions-IAM5[Resource::<RenamedBackups.Arn>/*]"
    ]


@pytest.mark.parametrize(
    ("references", "prefix", "fragment"),
    [
        # cdk.json's setting: Fn::GetStackOutput, which cdk-nag flattens to JSON.
        (
            "weak",
            'AwsSolutions-IAM5[Resource::{"Fn::GetStackOutput":{"StackName":"Storage",',
            '"OutputName":"PublishOutputFnGetAttBackups',
        ),
        # Classic exports: cdk-nag flattens Fn::ImportValue to the export name.
        ("strong", "AwsSolutions-IAM5[Resource::Storage:ExportsOutputFnGetAttBackups", "Arn"),
    ],
)
def test_bucket_from_another_stack(
    spied_acknowledgments: list[tuple[str, str]], references: str, prefix: str, fragment: str
) -> None:
    app = new_app(**{"@aws-cdk/core:defaultCrossStackReferences": references})
    storage = cdk.Stack(app, "Storage")
    bucket = s3.Bucket(storage, "Backups")
    restore_stack = cdk.Stack(app, "Test")
    RestorePermissions(restore_stack, "Restore", bucket=bucket)
    synthesize(app, restore_stack)
    assert findings(restore_stack, AwsSolutionsChecks) == []
    (finding,) = object_wildcards(spied_acknowledgments, "Test/Restore/Policy")
    assert finding.startswith(prefix)
    assert fragment in finding
    assert finding.endswith("/*]")


def test_imported_bucket(spied_acknowledgments: list[tuple[str, str]]) -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack, "Restore", bucket=s3.Bucket.from_bucket_name(stack, "Imported", "my-backups")
        )
    )
    assert findings(synth.app, AwsSolutionsChecks) == []
    assert object_wildcards(spied_acknowledgments, "Test/Restore/Policy") == [
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::my-backups/*]"
    ]


def test_acknowledgments_sit_on_the_narrowest_construct(
    spied_acknowledgments: list[tuple[str, str]],
) -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(stack, "Restore", bucket="my-backups")
    )
    (shared,) = [
        f"Test/{c.node.id}/Policy"
        for c in synth.stack.node.children
        if c.node.id.startswith("RestorePermissionsShared")
    ]
    objects = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::my-backups/*]"
    secret = "Test/Restore/AccessKeySecret"
    assert sorted(set(spied_acknowledgments)) == sorted(
        {
            # The statements that name no bucket are in the stack's shared policy.
            (shared, "AwsSolutions-IAM5[Resource::*]"),
            ("Test/Restore/Policy", objects),
            *((shared, finding) for finding in IDENTITY_EC2_FINDINGS),
            ("Test/VmImportServiceRole/Policy", "AwsSolutions-IAM5[Resource::*]"),
            ("Test/VmImportServiceRole/Policy", "AwsSolutions-IAM5[Action::ec2:Describe*]"),
            ("Test/VmImportServiceRole/Policy", objects),
            *(("Test/VmImportServiceRole/Policy", finding) for finding in VMIMPORT_EC2_FINDINGS),
            (secret, "AwsSolutions-SMG4"),
            (secret, "NIST.800.53.R5-SecretsManagerRotationEnabled"),
            (secret, "HIPAA.Security-SecretsManagerRotationEnabled"),
        }
    )


@pytest.mark.parametrize(
    ("reference", "flat"),
    [
        ("*", "*"),
        (
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/*"]]},
            "arn:<AWS::Partition>:s3:::b/*",
        ),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["B1", "Arn"]}, "/*"]]}, "<B1.Arn>/*"),
        ({"Fn::Join": ["", [{"Fn::ImportValue": "S:Export"}, "/*"]]}, "S:Export/*"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}, "arn:<AWS::Partition>:s3:::b/*"),
        ({"Fn::Join": ["/", ["a", "b"]]}, "a/b"),
        ({"Fn::Select": [0, ["x"]]}, '{"Fn::Select":[0,["x"]]}'),
    ],
)
def test_flatten_cfn_reference_matches_cdk_nag(reference: object, flat: str) -> None:
    assert nag.flatten_cfn_reference(reference) == flat


def test_the_aws_managed_secret_key_is_acknowledged_and_the_default_is_not(
    spied_acknowledgments: list[tuple[str, str]],
) -> None:
    synthesize_stack(
        lambda stack: RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            identity=RestoreIdentity.user(secret_encryption=SecretEncryption.aws_managed_key()),
        )
    )
    secret = "Test/Restore/AccessKeySecret"
    assert {
        (secret, "NIST.800.53.R5-SecretsManagerUsingKMSKey"),
        (secret, "HIPAA.Security-SecretsManagerUsingKMSKey"),
        (secret, "PCI.DSS.321-SecretsManagerUsingKMSKey"),
    } <= set(spied_acknowledgments)
