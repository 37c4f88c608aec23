"""The restore-permissions command line: output, errors, parity with the templates, no CDK."""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import subprocess
import sys
from typing import Any

import botocore
import pytest

from restore_permissions.policy import iam_size
from restore_permissions.policy.statements import known_regions

from .cli_runner import run_cli
from .conftest import KMS_KEY_ARN, PSEUDO, Synthesized, resolve_cfn

ACCOUNT = PSEUDO["AWS::AccountId"]
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restore_permissions", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["policy", "--bucket", "b-1", "--account", "111122223333"],
        ["policy", "--bucket", "b-1", "--region", "mars-1"],
        ["explain", "--format", "json"],
    ],
)
def test_python_m_prints_what_main_prints(args: list[str]) -> None:
    """The tests run ``main`` in their own process; the real process prints the same."""
    real, here = python_m(*args), cli(*args)
    assert (real.returncode, real.stdout, real.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
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
            "it contains 'B', 'M', '_'; only lowercase letters, digits, '.' and '-' are allowed. "
            "If this is a legacy bucket created in us-east-1 before 1 March 2018 (uppercase "
            "letters, underscores, up to 255 characters), pass --legacy-bucket-name.",
        ),
        (
            ["policy", "--bucket", "b-1", "--account", "12345"],
            "restore-permissions: error: argument --account: '12345' is not a 12-digit AWS account id",
        ),
        (
            ["policy", "--bucket", "b-1", "--region", "Mars-1"],
            "restore-permissions: error: argument --region: 'Mars-1' is not an AWS Region "
            "name (for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')",
        ),
        (
            ["policy", "--bucket", "b-1", "--instance-tag", "restore"],
            "restore-permissions: error: argument --instance-tag: 'restore' is not KEY=VALUE",
        ),
        (
            ["policy", "--bucket", "b-1", "--profile", "kb1025", "--email-notifications"],
            "restore-permissions: error: --email-notifications is only valid with "
            "--profile least-privilege: --profile kb1025 grants exactly what the vendor article grants",
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
            "restore-permissions: error: argument --kms-key: 'alias/backups' is not a KMS key ARN "
            "(arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)",
        ),
        (
            ["explain", "--region", "eu-wset-1"],
            "restore-permissions: error: argument --region: 'eu-wset-1' is not a Region where EC2 "
            f"runs (botocore {botocore.__version__} knows {len(known_regions())}; a typo such as "
            "'eu-wset-1' would deny every EC2 call)",
        ),
        (
            ["explain", "--instance-tag", "aws:owner=me"],
            "restore-permissions: error: argument --instance-tag: 'aws:owner=me' is not a valid "
            "tag: tag keys are 1 to 128 characters of letters, digits, spaces and _.:/=+-@, and "
            "may not start with 'aws:'",
        ),
        (
            ["policy", "--bucket", "b-1", *("--bucket", "B_2")],
            "restore-permissions: error: argument --bucket: 'B_2' is not a valid S3 bucket name: "
            "it contains 'B', '_'; only lowercase letters, digits, '.' and '-' are allowed. If "
            "this is a legacy bucket created in us-east-1 before 1 March 2018 (uppercase letters, "
            "underscores, up to 255 characters), pass --legacy-bucket-name.",
        ),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(args: list[str], error: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == error + "\n"


def test_explain_formats() -> None:
    table = cli("explain").stdout
    run_block = table[table.index("ec2:RunInstances  [") :].split("\n\n")[0].splitlines()
    assert run_block[1].split(":", 1)[0].strip() == "on" and "ec2:instance" in run_block[1]
    assert any(line.strip().startswith("why:") for line in run_block)
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
    assert run["condition"] == (
        "StringEquals aws:RequestedRegion = eu-west-1; StringEquals aws:RequestTag/k = v"
    )
    assert run["condition_block"] == {
        "StringEquals": {"aws:RequestedRegion": ["eu-west-1"], "aws:RequestTag/k": "v"}
    }
    text = cli(
        "explain", "--instance-tag", "k=v", "--region", "eu-west-1", "--region", "us-east-1"
    ).stdout
    assert (
        "    if:     StringEquals aws:RequestedRegion = eu-west-1 or us-east-1; StringEquals"
        in text
    )
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


def test_many_buckets_print_one_document_per_managed_policy_with_split() -> None:
    buckets = [f"customer-{i:03d}-backups" for i in range(200)]
    bucket_args = [arg for bucket in buckets for arg in ("--bucket", bucket)]
    whole = cli("policy", *bucket_args, "--account", ACCOUNT)
    assert whole.returncode == 2 and whole.stdout == ""
    assert whole.stderr.startswith(
        "restore-permissions: error: the policy is "
    ) and whole.stderr.endswith(
        "characters and does not fit one managed policy (6144): pass --split to print "
        '{"PolicyDocuments": [...]}, one document per managed policy\n'
    )
    result = cli("policy", "--split", *bucket_args, "--account", ACCOUNT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = json.loads(result.stdout)
    assert list(printed) == ["PolicyDocuments"]
    documents = printed["PolicyDocuments"]
    assert len(documents) > 1
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
    role = json.loads(cli("vmimport-role", "--split", "--account", ACCOUNT, *bucket_args).stdout)
    assert len(role["PolicyDocuments"]) > 1 and "PolicyDocument" not in role


@pytest.mark.parametrize("command", ["policy", "vmimport-role"])
def test_split_stops_at_the_managed_policy_quota_as_the_construct_does(command: str) -> None:
    """700 buckets need 11 managed policies: past IAM's default quota of 10, where
    RestorePermissions(max_managed_policies=10) refuses too."""
    buckets = [a for i in range(700) for a in ("--bucket", f"customer-bucket-number-{i}")]
    refused = cli(command, "--split", "--account", ACCOUNT, *buckets)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("restore-permissions: error: ")
    assert "managed policies would be needed, more than --max-managed-policies 10" in (
        refused.stderr
    )
    raised = cli(command, "--split", "--max-managed-policies", "20", "--account", ACCOUNT, *buckets)
    assert raised.returncode == 0, raised.stderr
    assert 10 < len(json.loads(raised.stdout)["PolicyDocuments"]) <= 20
    too_high = cli(command, "--split", "--max-managed-policies", "21", "--bucket", "b-1")
    assert too_high.returncode == 2
    assert "argument --max-managed-policies: '21' is invalid: IAM allows 1 to 20" in (
        too_high.stderr
    )


def test_regions_may_be_given_with_commas() -> None:
    """The example app's -c allowed_regions form, and the repeated flag, mean the same."""
    commas = cli("policy", "--bucket", "b-1", "--region", "eu-west-1,us-east-1")
    repeated = cli("policy", "--bucket", "b-1", "--region", "eu-west-1", "--region", "us-east-1")
    assert commas.returncode == 0, commas.stderr
    assert commas.stdout == repeated.stdout and "us-east-1" in commas.stdout
    typo = cli("explain", "--region", "eu-west-1,us-est-1")
    assert typo.returncode == 2
    assert typo.stderr.startswith(
        "restore-permissions: error: argument --region: 'us-est-1' (in 'eu-west-1,us-est-1') "
        "is not a Region where EC2 runs"
    )
    check = cli("check", "--stack", "S", "--bucket", "b-1", "--region", "eu-west-1,us-east-1")
    assert (check.returncode, check.stderr) == (
        2,
        "restore-permissions: error: argument --region: 'eu-west-1,us-east-1' names several "
        "Regions; check simulates the calls in one Region: run it once per Region\n",
    )


def test_check_help_says_where_the_account_comes_from() -> None:
    """check never uses ${aws:PrincipalAccount}: the account comes from the principal, the
    stack, or STS (tests/test_check.py shows each)."""
    text = " ".join(cli("check", "--help").stdout.split())
    assert (
        "--account ACCOUNT the account the calls are simulated in (default: the account of " in text
    )
    assert "from STS GetCallerIdentity" in text
    assert "aws:PrincipalAccount" not in text
    policy = " ".join(cli("policy", "--help").stdout.split())
    assert "(default: the policy variable ${aws:PrincipalAccount})" in policy


@pytest.mark.parametrize("command", ["policy", "vmimport-role"])
def test_json_shape_does_not_depend_on_size(command: str) -> None:
    """Without --split: one policy document; with --split: a list, even of one."""
    small = ["--bucket", "b-1", "--account", ACCOUNT]
    large = [
        *(a for i in range(120) for a in ("--bucket", f"customer-{i:03d}-backups")),
        "--account",
        ACCOUNT,
    ]
    shapes = set()
    for buckets in (small, large):
        printed = json.loads(cli(command, "--split", *buckets).stdout)
        document_list = printed["PolicyDocuments"]
        assert isinstance(document_list, list) and all(d["Version"] for d in document_list)
        shapes.add(tuple(sorted(printed)))
    assert len(shapes) == 1
    whole = json.loads(cli(command, *small).stdout)
    document = whole if command == "policy" else whole["PolicyDocument"]
    assert document["Version"] == "2012-10-17"
    assert json.loads(cli(command, "--split", *small).stdout)["PolicyDocuments"] == [document]


def test_explain_kms_adds_the_key_statements() -> None:
    without = json.loads(cli("explain", "--format", "json").stdout)
    with_key = json.loads(cli("explain", "--kms-key", KEY_ARN, "--format", "json").stdout)
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


def test_version_names_the_installed_distribution() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert (
        result.stdout
        == f"restore-permissions {importlib.metadata.version('restore-permissions')}\n"
    )


def test_help_reads_as_plain_text() -> None:
    result = cli("--help")
    assert result.returncode == 0
    assert "``" not in result.stdout
    assert "restore-permissions: print, explain and check" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "args",
    [
        ["explain"],
        ["explain", "--workflows"],
        ["explain", "--profile", "kb1025"],
        ["explain", "--bucket", "my-backups", "--account", ACCOUNT, "--kms-key", KEY_ARN],
        ["explain", "--workflows", "--instance-tag", "k=v", "--kms-key", KEY_ARN],
    ],
)
def test_explain_text_fits_a_100_column_terminal(args: list[str]) -> None:
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 20
    assert max(len(line) for line in lines) <= 100


def test_explain_width_wraps_narrower() -> None:
    lines = cli("explain", "--width", "60").stdout.splitlines()
    assert max(len(line) for line in lines if "arn:" not in line) <= 60


def test_explain_takes_the_policy_commands_target_flags() -> None:
    records = json.loads(
        cli(
            "explain",
            "--format",
            "json",
            "--bucket",
            "my-backups",
            "--account",
            ACCOUNT,
            "--kms-key",
            KEY_ARN,
        ).stdout
    )
    (objects,) = [r for r in records if r["action"] == "s3:GetObject"]
    assert objects["resource_arns"] == ["arn:aws:s3:::my-backups/*"]
    assert any(r["resource_arns"] == [KEY_ARN] for r in records if r["action"] == "kms:Decrypt")


def test_legacy_bucket_name_is_accepted_with_its_flag() -> None:
    refused = cli("policy", "--bucket", "Legacy_Backups")
    assert refused.returncode == 2 and "pass --legacy-bucket-name." in refused.stderr
    accepted = cli("policy", "--bucket", "Legacy_Backups", "--legacy-bucket-name")
    assert accepted.returncode == 0, accepted.stderr
    resources = json.dumps(json.loads(accepted.stdout))
    assert "arn:aws:s3:::Legacy_Backups/*" in resources
    still_bad = cli("policy", "--bucket", "Legacy..Backups", "--legacy-bucket-name")
    assert still_bad.returncode == 2 and "two adjacent periods" in still_bad.stderr
