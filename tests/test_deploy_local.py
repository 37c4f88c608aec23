"""`make deploy-local`, end to end: the real CDK CLI against moto_server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess

from .conftest import ROOT


def test_deploy_local_writes_the_stack_outputs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "deploy-local.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "moto_server listening on 127.0.0.1:" in result.stdout
    outputs = json.loads((ROOT / "cdk.out.local" / "outputs.json").read_text())[
        "RestorePermissions"
    ]
    by_prefix = {key.rstrip("0123456789ABCDEF"): value for key, value in outputs.items()}
    assert by_prefix["RestoreRoleArn"].startswith(
        "arn:aws:iam::123456789012:role/RestorePermissions-RestoreRole"
    )
    assert by_prefix["RestoreManagedPolicyArns"].startswith(
        "arn:aws:iam::123456789012:policy/RestorePermissions-"
    )
    assert by_prefix["RestoreVmImportRoleArn"] == "arn:aws:iam::123456789012:role/vmimport"
    assert "ecret" not in json.dumps(outputs)
    # The script printed the outputs and stopped its server.
    assert (
        json.dumps(outputs["RestoreVmImportRoleArnB539CD87"]) in result.stdout
        or "vmimport" in result.stdout
    )
    server = subprocess.run(
        ["pgrep", "-f", "moto_server -H 127.0.0.1"], capture_output=True, check=False
    )
    assert server.returncode == 1, "moto_server is still running"
