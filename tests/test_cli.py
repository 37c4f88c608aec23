"""The restore-permissions command line: output, errors, parity with the templates, no CDK."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from restore_permissions.policy import iam_size

from .conftest import KMS_KEY_ARN, PSEUDO, Synthesized, resolve_cfn

ACCOUNT = PSEUDO["AWS::AccountId"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restore_permissions", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variant", "args"),
    [
        ("user_with_key", []),
        ("kb1025", ["--profile", "kb1025"]),
        (
            "all_options",
            [
                "--region",
                "us-east-1",
                "--instance-tag",
                "restore-permissions=restored",
                "--federation",
                "--email-notifications",
                "--kms-key",
                KMS_KEY_ARN,
            ],
        ),
    ],
)
def test_policy_equals_the_synthesized_managed_policy(
    examples: dict[str, Synthesized], variant: str, args: list[str]
) -> None:
    result = cli("policy", "--bucket", "my-backups", "--account", ACCOUNT, *args)
    assert result.returncode == 0, result.stderr
    printed, synthesized = json.loads(result.stdout), examples[variant].policy_document(refs=PSEUDO)
    # The same statements; the construct puts those that name no bucket or key
    # in the stack's shared policy, so their order differs.
    assert by_sid(printed) == by_sid(synthesized)
    assert printed["Version"] == synthesized["Version"]


def by_sid(document: dict[str, Any]) -> dict[str, Any]:
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert len(statements) == len(document["Statement"])
    return statements


def test_vmimport_role_equals_the_synthesized_role(examples: dict[str, Synthesized]) -> None:
    result = cli("vmimport-role", "--bucket", "my-backups", "--account", ACCOUNT)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    synth = examples["user_with_key"]
    (role,) = [
        r
        for r in synth.resources("AWS::IAM::Role").values()
        if r["Properties"].get("RoleName") == "vmimport"
    ]
    assert printed["RoleName"] == "vmimport"
    assert printed["AssumeRolePolicyDocument"] == resolve_cfn(
        role["Properties"]["AssumeRolePolicyDocument"], PSEUDO
    )
    assert printed["PolicyDocument"] == synth.policy_document("vmimport", refs=PSEUDO)
    existing = json.loads(
        cli("vmimport-role", "--bucket", "my-backups", "--account", ACCOUNT, "--existing").stdout
    )
    assert existing == {
        "PolicyDocument": examples["use_existing_vmimport"].policy_document("vmimport", refs=PSEUDO)
    }


def test_without_account_scoped_arns_use_the_principals_account() -> None:
    document = json.loads(
        cli("policy", "--bucket", "my-backups", "--partition", "aws-us-gov").stdout
    )
    resources = [
        r
        for s in document["Statement"]
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert "arn:aws-us-gov:ec2:*:${aws:PrincipalAccount}:instance/*" in resources
    assert "arn:aws-us-gov:s3:::my-backups" in resources
    assert not [r for r in resources if r.startswith("arn:aws:")]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "restore-permissions: error: the following arguments are required: command"),
        (["policy"], "restore-permissions: error: the following arguments are required: --bucket"),
        (
            ["policy", "--bucket", "My_Bucket"],
            "restore-permissions: error: argument --bucket: 'My_Bucket' is not a valid S3 bucket name: "
            "it contains 'B', 'M', '_'; only lowercase letters, digits, '.' and '-' are allowed",
        ),
        (
            ["policy", "--bucket", "b-1", "--account", "12345"],
            "restore-permissions: error: argument --account: '12345' is not a 12-digit AWS account id",
        ),
        (
            ["policy", "--bucket", "b-1", "--region", "Mars-1"],
            "restore-permissions: error: allowed_regions contains 'Mars-1', which is not an AWS Region "
            "name (for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')",
        ),
        (
            ["policy", "--bucket", "b-1", "--instance-tag", "restore"],
            "restore-permissions: error: argument --instance-tag: 'restore' is not KEY=VALUE",
        ),
        (
            ["policy", "--bucket", "b-1", "--profile", "kb1025", "--email-notifications"],
            "restore-permissions: error: email_notifications is only valid with "
            "PolicyProfile.LEAST_PRIVILEGE: PolicyProfile.KB1025 grants exactly what the vendor article grants",
        ),
        (
            ["policy", "--bucket", "b-1", "--partition", "aws-mars"],
            "restore-permissions: error: argument --partition: invalid choice: 'aws-mars' "
            "(choose from 'aws', 'aws-cn', 'aws-us-gov')",
        ),
        (
            ["vmimport-role", "--bucket", "b-1"],
            "restore-permissions: error: vmimport-role needs --account: the trust policy's "
            "aws:SourceAccount must name the account, because IAM does not promise "
            "${aws:PrincipalAccount} when vmie.amazonaws.com assumes the role (with --existing "
            "no trust policy is printed)",
        ),
        (
            ["vmimport-role", "--bucket", "b-1", "--kms-key", "alias/backups"],
            "restore-permissions: error: argument --kms-key: 'alias/backups' is not a KMS key ARN",
        ),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(args: list[str], error: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == error + "\n"


def test_explain_formats() -> None:
    table = cli("explain").stdout.splitlines()
    assert table[0].split() == ["ACTION", "RESOURCE", "CONDITION", "WHY", "SOURCE"]
    assert any(line.startswith("ec2:RunInstances ") and "ec2:instance" in line for line in table)
    markdown = cli("explain", "--format", "markdown").stdout.splitlines()
    assert markdown[0] == "| Action | Resource | Condition | Why | Source |"
    records = json.loads(cli("explain", "--format", "json", "--profile", "kb1025").stdout)
    s3_all = [record for record in records if record["action"] == "s3:*"]
    assert [(r["statement"], r["resource_arns"]) for r in s3_all] == [
        ("Kb1025Bucket", ["arn:PARTITION:s3:::BUCKET"]),
        ("Kb1025Objects", ["arn:PARTITION:s3:::BUCKET/*"]),
    ]
    (ses,) = [record for record in records if record["action"] == "ses:*"]
    assert ses["source"] == "CloudBerry KB 1025"
    guarded = json.loads(
        cli("explain", "--format", "json", "--instance-tag", "k=v", "--region", "eu-west-1").stdout
    )
    (run,) = [
        r
        for r in guarded
        if r["action"] == "ec2:RunInstances" and r["statement"] == "Ec2CreateTagged"
    ]
    assert run["condition"] == "StringEquals aws:RequestedRegion, StringEquals aws:RequestTag/k"
    assert run["resource_arns"][0] == "arn:PARTITION:ec2:REGION:ACCOUNT:instance/*"


def test_cli_never_loads_cdk() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from restore_permissions.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for args in (['policy', '--bucket', 'b-1'],\n"
        "                 ['vmimport-role', '--bucket', 'b-1', '--account', '111122223333'],\n"
        "                 ['explain'], ['explain', '--workflows']):\n"
        "        main(args)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'cdk_nag'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_console_script_is_installed() -> None:
    script = pathlib.Path(sys.executable).parent / "restore-permissions"
    assert script.exists(), "make install installs the package with its console script"
    result = subprocess.run(
        [str(script), "policy", "--bucket", "b-1"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == "2012-10-17"


def test_many_buckets_print_one_document_per_managed_policy() -> None:
    buckets = [f"customer-{i:03d}-backups" for i in range(200)]
    result = cli(
        "policy", *(arg for bucket in buckets for arg in ("--bucket", bucket)), "--account", ACCOUNT
    )
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert isinstance(documents, list) and len(documents) > 1
    assert (
        result.stderr.startswith("restore-permissions: ")
        and "do not fit one managed policy (6144)" in result.stderr
    )
    granted = []
    for document in documents:
        assert iam_size(document) <= 6144
        for statement in document["Statement"]:
            if statement["Sid"].startswith("BackupBucket"):
                granted += (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
    assert sorted(granted) == sorted(f"arn:aws:s3:::{bucket}" for bucket in buckets)
    role = json.loads(
        cli(
            "vmimport-role", "--account", ACCOUNT, *(a for b in buckets for a in ("--bucket", b))
        ).stdout
    )
    assert len(role["PolicyDocuments"]) > 1 and "PolicyDocument" not in role


def test_explain_kms_adds_the_key_statements() -> None:
    without = json.loads(cli("explain", "--format", "json").stdout)
    with_key = json.loads(cli("explain", "--kms", "--format", "json").stdout)
    added = {(r["action"], r["statement"]) for r in with_key} - {
        (r["action"], r["statement"]) for r in without
    }
    assert added == {
        ("kms:Decrypt", "BackupKeyViaS3"),
        ("kms:GenerateDataKey", "BackupKeyViaS3"),
        ("kms:Decrypt", "BackupKeyViaEbs"),
        ("kms:DescribeKey", "BackupKeyViaEbs"),
        ("kms:GenerateDataKeyWithoutPlaintext", "BackupKeyViaEbs"),
        ("kms:ReEncryptFrom", "BackupKeyViaEbs"),
        ("kms:ReEncryptTo", "BackupKeyViaEbs"),
        ("kms:CreateGrant", "BackupKeyGrants"),
    }
