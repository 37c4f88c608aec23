"""A consumer app on the installed wheel, through the CDK CLI: synth, then cdk diff.

The consumer app below is not part of this project. It imports the installed
wheel (not the source tree), runs on the Node.js 24 that the wheel's ``node``
extra brings, and is synthesized by the pinned CDK CLI across two stacks with
the cdk-nag AwsSolutions pack, as the README's "Using the library in your own
CDK app" says. Then `cdk diff` shows a user an update and a destroy.
"""

from __future__ import annotations

import json
import pathlib
import textwrap

import pytest

from .installed import CDK_CLI, Consumer, install_consumer, run

CONSUMER_APP = textwrap.dedent(
    """
    import os

    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from cdk_nag import AwsSolutionsChecks

    import restore_permissions
    from restore_permissions import (
        PolicyProfile,
        RestoreIdentity,
        RestorePermissions,
        VmImportMode,
    )

    # The lifecycle the tests walk through with cdk diff: the first version,
    # then customer-b made restore-only, then the customers removed.
    STAGE = os.environ.get("CONSUMER_STAGE", "first")

    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # The account's stack creates the vmimport role; the customers' stack reuses it.
    account = cdk.Stack(app, "AccountRestore")
    RestorePermissions(account, "Restore", bucket="account-backups")
    customers = cdk.Stack(app, "CustomerRestore")
    for name in ("customer-a", "customer-b") if STAGE != "destroyed" else ():
        RestorePermissions(
            customers,
            name,
            bucket=f"{name}-backups",
            identity=RestoreIdentity.role(
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"), instance_profile=True
            ),
            vm_import=VmImportMode.USE_EXISTING,
            profile=PolicyProfile.least_privilege(
                restore_only=STAGE == "restore-only" and name == "customer-b"
            ),
        )
    print("restore_permissions from", restore_permissions.__file__)
    app.synth()
    """
)


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return install_consumer(tmp_path_factory.mktemp("consumer"), CONSUMER_APP)


@pytest.fixture(scope="module")
def first_synth(consumer: Consumer) -> pathlib.Path:
    """The first version of the consumer app, synthesized by the CDK CLI: its cloud assembly."""
    out = consumer.app / "cdk.out.first"
    result = run(
        [str(CDK_CLI), "synth", "--output", str(out)], cwd=consumer.app, env=consumer.env()
    )
    assert result.returncode == 0, result.stderr
    # The app imported the installed wheel, on a supported Node: no banner.
    assert f"restore_permissions from {consumer.venv}" in result.stdout + result.stderr
    assert "end-of-life" not in result.stderr and "end of life" not in result.stderr.lower()
    return out


def test_a_consumer_app_synthesizes_two_stacks_with_the_cdk_cli(first_synth: pathlib.Path) -> None:
    out = first_synth
    account = json.loads((out / "AccountRestore.template.json").read_text())
    customers = json.loads((out / "CustomerRestore.template.json").read_text())
    assert [r["Type"] for r in customers["Resources"].values()].count(
        "AWS::IAM::InstanceProfile"
    ) == 2
    for template in (account, customers):
        vm_import_outputs = [
            key
            for key, output in template["Outputs"].items()
            if output["Description"] == "VM Import/Export service role ARN"
        ]
        assert vm_import_outputs == ["RestorePermissionsVmImportRoleArn"]


def test_cdk_diff_of_an_update_to_restore_only_and_of_a_destroy(
    consumer: Consumer, first_synth: pathlib.Path
) -> None:
    """What a user sees before deploying: cdk diff against the first version's template."""
    template = str(first_synth / "CustomerRestore.template.json")

    def diff(stage: str) -> str:
        result = run(
            [str(CDK_CLI), "diff", "--template", template, "CustomerRestore"],
            cwd=consumer.app,
            env={**consumer.env(), "CONSUMER_STAGE": stage},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    update = diff("restore-only")
    changed = [line for line in update.splitlines() if line.startswith("[~] ")]
    # Only customer-b's own policy changes: it loses every backup write.
    assert len(changed) == 1 and "customer-b/Policy" in changed[0], changed
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"):
        assert f'[-]     "{action}",' in update or f'[-]     "{action}"' in update, action
    assert "[-] AWS::" not in update and "[+] AWS::" not in update

    destroyed = diff("destroyed")
    removed = [line for line in destroyed.splitlines() if line.startswith("[-] AWS::")]
    assert any("customer-a" in line and "AWS::IAM::Role" in line for line in removed)
    assert any("customer-b" in line and "AWS::IAM::ManagedPolicy" in line for line in removed)
    assert "[+] AWS::" not in destroyed
