"""The example app: context options, the BucketName parameter, and parity with the real CLI."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import botocore
import pytest

from restore_permissions.policy.statements import known_regions

from .conftest import EXAMPLE_VARIANTS, ROOT, Synthesized, synthesize_example

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"principal_type": "admin"},
            "-c principal_type='admin' is invalid: use one of user, role",
        ),
        (
            {"vm_import_role": "maybe"},
            "-c vm_import_role='maybe' is invalid: use one of create, use-existing, none",
        ),
        (
            {"create_access_key": "yes"},
            "-c create_access_key='yes' is invalid: use true or false",
        ),
        (
            {"access_key_serial": "two"},
            "-c access_key_serial='two' is invalid: use a whole number >= 0",
        ),
        (
            {"principal_type": "role", "trusted_account": "12345"},
            "-c trusted_account='12345' is invalid: it must be a 12-digit AWS account id",
        ),
        (
            {"bucket_name": "My_Bucket"},
            "-c bucket_name='My_Bucket' is invalid: it contains 'B', 'M', '_'; only "
            "lowercase letters, digits, '.' and '-' are allowed. If this is a legacy bucket created "
            "in us-east-1 before 1 March 2018 (uppercase letters, underscores, up to 255 characters), "
            "pass -c legacy_bucket_name=true.",
        ),
        (
            {"allowed_regions": "us-east-1,eu-wset-1"},
            "-c allowed_regions='us-east-1,eu-wset-1' is invalid: 'eu-wset-1' is not a Region where "
            f"EC2 runs (botocore {botocore.__version__} knows {len(known_regions())}; a typo such as "
            "'eu-wset-1' would deny every EC2 call)",
        ),
        (
            {"instance_tag": "aws:owner=me"},
            "-c instance_tag='aws:owner=me' is invalid: tag keys are 1 to 128 characters of "
            "letters, digits, spaces and _.:/=+-@, and may not start with 'aws:'",
        ),
        (
            {"kms_key_arn": "alias/backups"},
            "-c kms_key_arn='alias/backups' is not a KMS key ARN "
            "(arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)",
        ),
    ],
)
def test_bad_context_is_a_clear_error(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as error:
        synthesize_example(**options)
    assert str(error.value) == message


def test_context_options_reach_the_construct() -> None:
    synth = synthesize_example(
        bucket_name="Legacy_Backups",
        legacy_bucket_name="true",
        access_key_serial="2",
        stack_name="Restore",
    )
    assert synth.stack.stack_name == "Restore"
    synth.template.has_resource_properties("AWS::IAM::AccessKey", {"Serial": 2})
    assert ":s3:::Legacy_Backups" in json.dumps(synth.template_json)


def test_bucket_parameter_enforces_s3_naming_rules(examples: dict[str, Synthesized]) -> None:
    parameter = examples["bucket_parameter"].template_json["Parameters"]["BucketName"]
    assert parameter["Type"] == "String"
    assert (parameter["MinLength"], parameter["MaxLength"]) == (3, 63)
    assert parameter["AllowedPattern"].startswith("^(?!xn--|sthree-|amzn-s3-demo-)")
    assert "ConstraintDescription" in parameter
    # A literal bucket name needs no parameter.
    assert "BucketName" not in examples["user_with_key"].template_json.get("Parameters", {})


def test_cdk_synth_writes_the_template_the_tests_check(
    examples: dict[str, Synthesized], tmp_path: pathlib.Path
) -> None:
    """The real CLI, through cdk.json, produces what the session apps produce."""
    assert CDK_CLI.exists(), (
        "run `make install` (npm ci) first: the CDK CLI is a project dependency"
    )
    variant = "role_with_external_id"
    context_args = [
        arg for key, value in EXAMPLE_VARIANTS[variant].items() for arg in ("-c", f"{key}={value}")
    ]
    # As users run it: with CDK's CloudFormation validation, which the tests' own
    # processes leave off (tests/conftest.py). cdk.json makes its findings
    # errors, so check=True fails on one.
    env = {
        **{key: value for key, value in os.environ.items() if key != "CDK_VALIDATION"},
        "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--output", str(tmp_path), *context_args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    written = json.loads((tmp_path / "RestorePermissions.template.json").read_text())
    assert written == examples[variant].template_json
