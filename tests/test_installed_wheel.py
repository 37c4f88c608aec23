"""The library as its users get it: a wheel, installed into a fresh venv outside the tree.

The wheel holds the library and its command, and nothing of the repository
besides; installed with its ``node`` extra, it brings Node.js 24; installed
alone with botocore, its command works without CDK and without boto3.
tests/test_consumer_app.py runs a consumer app on the same kind of install.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from .installed import Consumer, build_wheel, new_venv, run


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    root = tmp_path_factory.mktemp("consumer")
    wheel = build_wheel(root / "dist")
    venv = root / ".venv"
    installed = run([*new_venv(venv), f"{wheel}[node]"])
    assert installed.returncode == 0, installed.stderr
    return Consumer(venv, root, wheel)


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
    version = run([str(consumer.bin / "restore-permissions"), "--version"], env=consumer.env())
    assert version.returncode == 0
    assert version.stdout.startswith("restore-permissions ")
    policy = run(
        [str(consumer.bin / "restore-permissions"), "policy", "--bucket", "b-1"], env=consumer.env()
    )
    assert json.loads(policy.stdout)["Version"] == "2012-10-17"


def test_the_node_extra_brings_node_24(consumer: Consumer) -> None:
    node = run(["node", "--version"], env=consumer.env())
    assert node.stdout.startswith("v24."), node.stdout


def test_the_command_runs_without_cdk_and_without_boto3(
    consumer: Consumer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The wheel alone with botocore (Region names): policy and explain work, check says
    how to install its extra."""
    venv = tmp_path_factory.mktemp("bare") / ".venv"
    pip = new_venv(venv)
    assert run([*pip, "--no-deps", str(consumer.wheel)]).returncode == 0
    botocore = run([*pip, "botocore==1.44.8"])
    assert botocore.returncode == 0, botocore.stderr
    command = str(venv / "bin" / "restore-permissions")
    listed = run([*pip[:2], "list", "--format", "json", *pip[-2:]])
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not installed & {"aws-cdk-lib", "boto3", "jsii", "constructs", "cdk-nag"}
    policy = run([command, "policy", "--bucket", "b-1", "--region", "eu-west-1"])
    assert policy.returncode == 0, policy.stderr
    assert json.loads(policy.stdout)["Version"] == "2012-10-17"
    assert run([command, "explain", "--workflows"]).returncode == 0
    check = run(
        [command, "check", "--principal-arn", "arn:aws:iam::111122223333:user/u", "--bucket", "b-1"]
    )
    assert (check.returncode, check.stdout) == (2, "")
    assert check.stderr == (
        "restore-permissions: error: check needs boto3, which is not installed: "
        "pip install 'restore-permissions[check]'\n"
    )
