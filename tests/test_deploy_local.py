"""`make deploy-local`, end to end: the real CDK CLI against moto_server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

from .conftest import ROOT


def test_deploy_local_writes_the_stack_outputs(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "cdk.out.local"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DEPLOY_LOCAL_OUT"] = str(out)
    result = subprocess.run(
        # A context option for the synth, and an argument for the deploy.
        ["bash", str(ROOT / "scripts" / "deploy-local.sh"), "-c", "external_id=from-args", "--ci"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "moto_server listening on 127.0.0.1:" in result.stdout
    outputs = json.loads((out / "outputs.json").read_text())["RestorePermissions"]
    by_prefix = {key.rstrip("0123456789ABCDEF"): value for key, value in outputs.items()}
    # Role mode: exactly these outputs, so no access key or secret can be among them.
    assert sorted(by_prefix) == [
        "RestoreManagedPolicyArns",
        "RestorePermissionsVmImportRoleArn",
        "RestoreRoleArn",
        "RestoreRoleName",
    ]
    assert by_prefix["RestoreRoleArn"].startswith(
        "arn:aws:iam::123456789012:role/RestorePermissions-RestoreRole"
    )
    assert by_prefix["RestoreManagedPolicyArns"].startswith(
        "arn:aws:iam::123456789012:policy/RestorePermissions-"
    )
    assert (
        by_prefix["RestorePermissionsVmImportRoleArn"] == "arn:aws:iam::123456789012:role/vmimport"
    )
    # The context option reached the synth that was deployed.
    template = json.loads((out / "assembly" / "RestorePermissions.template.json").read_text())
    (role,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
        and "Restore" in json.dumps(r.get("Metadata", {}))
        and "ExternalId" in json.dumps(r)
    ]
    assert "from-args" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    # The script printed the outputs file, as written.
    printed = result.stdout.split("Stack outputs (", 1)[1].split("):\n", 1)[1]
    assert json.loads(printed) == json.loads((out / "outputs.json").read_text())
    # ...and stopped the very server it started (not just any moto_server).
    pid = int((out / "moto_server.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
