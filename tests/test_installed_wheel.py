"""The library as its users get it: a wheel, installed into a fresh venv outside the tree.

The consumer app below is not part of this project. It imports the installed
wheel (not the source tree), runs on the Node.js 24 that the wheel's ``node``
extra brings, and is synthesized by the pinned CDK CLI across two stacks with
the cdk-nag AwsSolutions pack, as the README's "Using the library in your own
CDK app" says.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"

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


@dataclass(frozen=True)
class Consumer:
    venv: pathlib.Path
    app: pathlib.Path
    wheel: pathlib.Path

    @property
    def bin(self) -> pathlib.Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        # What `source .venv/bin/activate` does, without inheriting the project's venv.
        path = [p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(ROOT))]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JSII_", "PYTHON"))}
        return {
            **env,
            "VIRTUAL_ENV": str(self.venv),
            "PATH": os.pathsep.join([str(self.bin), *path]),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=900, **kwargs)  # type: ignore[call-overload]


def _new_venv(venv: pathlib.Path) -> list[str]:
    """Create an empty venv at ``venv``; return the command that installs into it."""
    created = _run([sys.executable, "-m", "venv", str(venv)])
    assert created.returncode == 0, created.stderr
    return [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # No ahead-of-time bytecode for the whole of aws-cdk-lib and botocore
        # (most of the install's time): Python compiles what an import needs.
        "--no-compile",
    ]


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    before = sorted(p.name for p in ROOT.iterdir())
    dist = tmp_path_factory.mktemp("dist")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)]
    )
    assert built.returncode == 0, built.stderr
    # Building left the source tree as it was: no build/, dist/ or egg-info.
    assert sorted(p.name for p in ROOT.iterdir()) == before
    (wheel,) = dist.glob("restore_permissions-*.whl")
    venv = tmp_path_factory.mktemp("consumer") / ".venv"
    installed = _run([*_new_venv(venv), f"{wheel}[node]"])
    assert installed.returncode == 0, installed.stderr
    app = venv.parent / "app"
    app.mkdir()
    (app / "app.py").write_text(CONSUMER_APP)
    (app / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    return Consumer(venv, app, wheel)


def test_the_wheel_holds_the_library_and_its_command(consumer: Consumer) -> None:
    names = zipfile.ZipFile(consumer.wheel).namelist()
    assert "restore_permissions/py.typed" in names
    assert "restore_permissions/policy/workflows.py" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "app.py"))]
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "restore-permissions = restore_permissions.cli:main" in (
        zipfile.ZipFile(consumer.wheel).read(entry_points).decode()
    )


def test_the_installed_command_answers(consumer: Consumer) -> None:
    version = _run([str(consumer.bin / "restore-permissions"), "--version"], env=consumer.env())
    assert version.returncode == 0
    assert version.stdout.startswith("restore-permissions ")
    policy = _run(
        [str(consumer.bin / "restore-permissions"), "policy", "--bucket", "b-1"], env=consumer.env()
    )
    assert json.loads(policy.stdout)["Version"] == "2012-10-17"


def test_the_node_extra_brings_node_24(consumer: Consumer) -> None:
    node = _run(["node", "--version"], env=consumer.env())
    assert node.stdout.startswith("v24."), node.stdout


def test_a_consumer_app_synthesizes_two_stacks_with_the_cdk_cli(consumer: Consumer) -> None:
    out = consumer.app / "cdk.out"
    result = _run(
        [str(CDK_CLI), "synth", "--output", str(out)], cwd=consumer.app, env=consumer.env()
    )
    assert result.returncode == 0, result.stderr
    # The app imported the installed wheel, on a supported Node: no banner.
    assert f"restore_permissions from {consumer.venv}" in result.stdout + result.stderr
    assert "end-of-life" not in result.stderr and "end of life" not in result.stderr.lower()
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


def test_the_command_runs_without_cdk_and_without_boto3(
    consumer: Consumer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The wheel alone with botocore (Region names): policy and explain work, check says
    how to install its extra."""
    venv = tmp_path_factory.mktemp("bare") / ".venv"
    pip = _new_venv(venv)
    assert _run([*pip, "--no-deps", str(consumer.wheel)]).returncode == 0
    botocore = _run([*pip, "botocore==1.44.8"])
    assert botocore.returncode == 0, botocore.stderr
    command = str(venv / "bin" / "restore-permissions")
    listed = _run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"])
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not installed & {"aws-cdk-lib", "boto3", "jsii", "constructs", "cdk-nag"}
    policy = _run([command, "policy", "--bucket", "b-1", "--region", "eu-west-1"])
    assert policy.returncode == 0, policy.stderr
    assert json.loads(policy.stdout)["Version"] == "2012-10-17"
    assert _run([command, "explain", "--workflows"]).returncode == 0
    check = _run(
        [command, "check", "--principal-arn", "arn:aws:iam::111122223333:user/u", "--bucket", "b-1"]
    )
    assert (check.returncode, check.stdout) == (2, "")
    assert check.stderr == (
        "restore-permissions: error: check needs boto3, which is not installed: "
        "pip install 'restore-permissions[check]'\n"
    )


def test_cdk_diff_of_an_update_to_restore_only_and_of_a_destroy(consumer: Consumer) -> None:
    """What a user sees before deploying: cdk diff against the first version's template."""
    base = consumer.app / "cdk.out.first"
    first = _run(
        [str(CDK_CLI), "synth", "--output", str(base)], cwd=consumer.app, env=consumer.env()
    )
    assert first.returncode == 0, first.stderr
    template = str(base / "CustomerRestore.template.json")

    def diff(stage: str) -> str:
        result = _run(
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
