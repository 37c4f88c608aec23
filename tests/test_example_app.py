"""The example app: context options, the BucketName parameter, and parity with the real CLI."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from .conftest import EXAMPLE_VARIANTS, ROOT, Synthesized, synthesize_example

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"principal_type": "admin"},
            "context principal_type='admin' is invalid: use one of user, role",
        ),
        (
            {"vm_import_role": "maybe"},
            "context vm_import_role='maybe' is invalid: use one of create, use-existing, none",
        ),
        (
            {"create_access_key": "yes"},
            "context create_access_key='yes' is invalid: use true or false",
        ),
        (
            {"access_key_serial": "two"},
            "context access_key_serial='two' is invalid: use a whole number >= 0",
        ),
        (
            {"principal_type": "role", "trusted_account": "12345"},
            "context trusted_account='12345' is invalid: it must be a 12-digit AWS account id",
        ),
        (
            {"bucket_name": "My_Bucket"},
            "RestorePermissions/Restore: bucket='My_Bucket' is not a valid S3 bucket name: it "
            "contains 'B', 'M', '_'; only "
            "lowercase letters, digits, '.' and '-' are allowed. If this is a legacy bucket created "
            "in us-east-1 before 1 March 2018 (uppercase letters, underscores, up to 255 characters), "
            "pass legacy_bucket_name=True.",
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
    env = {
        **os.environ,
        "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
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
