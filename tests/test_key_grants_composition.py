"""Composing the construct into a larger stack must not silently weaken its KMS scoping.

The construct lets only S3 and EBS use a key for the identity (kms:ViaService).
``key.grant_decrypt(restore)`` adds an unconditioned kms:Decrypt beside that:
synth warns, naming the fix (``encryption_key=``).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from restore_permissions import RestorePermissions, VmImportMode
from restore_permissions.construct import UNSCOPED_KEY_GRANT_WARNING

from .conftest import ROOT, new_app
from .oracle import allows, as_policy

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
EBS_KEY = "arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab"


def composed(*, grant: bool) -> cdk.Stack:
    app = new_app()
    stack = cdk.Stack(app, "Backup")
    key = kms.Key(stack, "BackupKey", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Backups", encryption_key=key, enforce_ssl=True)
    restore = RestorePermissions(
        stack, "Restore", bucket=bucket, vm_import=VmImportMode.NONE, create_outputs=False
    )
    if grant:
        key.grant_decrypt(restore)
    app.synth()
    return stack


def test_grant_decrypt_on_the_scoped_key_warns() -> None:
    Annotations.from_stack(composed(grant=True)).has_warning(
        "/Backup/Restore",
        Match.string_like_regexp(
            r"A grant added kms:Decrypt on .*BackupKey.* without a condition: the key can now be "
            r"used directly.*Pass the key as encryption_key=.*"
            rf"\[ack: {UNSCOPED_KEY_GRANT_WARNING}\]"
        ),
    )


def test_the_construct_alone_does_not_warn() -> None:
    Annotations.from_stack(composed(grant=False)).has_no_warning(
        "/Backup/Restore", Match.string_like_regexp("A grant added")
    )


def test_a_grant_on_an_unrelated_key_does_not_warn() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Backup")
    restore = RestorePermissions(
        stack, "Restore", bucket="my-backups", vm_import=VmImportMode.NONE, create_outputs=False
    )
    kms.Key(stack, "ReportsKey").grant_decrypt(restore)
    app.synth()
    Annotations.from_stack(stack).has_no_warning(
        "/Backup/Restore", Match.string_like_regexp("A grant added")
    )


def test_a_grant_on_the_ebs_key_warns_too() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Backup")
    restore = RestorePermissions(
        stack,
        "Restore",
        bucket="my-backups",
        ebs_encryption_key=EBS_KEY,
        vm_import=VmImportMode.NONE,
        create_outputs=False,
    )
    kms.Key.from_key_arn(stack, "Ebs", EBS_KEY).grant_encrypt_decrypt(restore)
    app.synth()
    Annotations.from_stack(stack).has_warning(
        "/Backup/Restore", Match.string_like_regexp(f"A grant added .* on {EBS_KEY} .*")
    )


#: A consumer's app, as the README's composed example had it.
CONSUMER_APP = """
import aws_cdk as cdk
from aws_cdk import aws_kms as kms, aws_s3 as s3
from restore_permissions import RestorePermissions, VmImportMode

app = cdk.App()
stack = cdk.Stack(app, "Backup")
key = kms.Key(stack, "BackupKey", enable_key_rotation=True)
bucket = s3.Bucket(stack, "Backups", encryption_key=key, enforce_ssl=True)
restore = RestorePermissions(stack, "Restore", bucket=bucket, vm_import=VmImportMode.NONE)
GRANT
app.synth()
"""


def consumer_synth(tmp_path: pathlib.Path, grant: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(CONSUMER_APP.replace("GRANT", grant))
    (tmp_path / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    return subprocess.run(
        [str(CDK_CLI), "synth", "--quiet"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(ROOT),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def test_a_consumer_app_sees_the_warning_and_the_key_is_then_usable_directly(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "grant").mkdir()
    result = consumer_synth(tmp_path / "grant", "key.grant_decrypt(restore)")
    output = result.stdout + result.stderr
    assert "A grant added kms:Decrypt on" in output and UNSCOPED_KEY_GRANT_WARNING in output
    template = json.loads((tmp_path / "grant" / "cdk.out" / "Backup.template.json").read_text())
    (own,) = [
        r["Properties"]["PolicyDocument"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("RestorePolicy")
    ]
    key_arn = {
        "Fn::GetAtt": [next(k for k in template["Resources"] if k.startswith("BackupKey")), "Arn"]
    }
    unconditioned = [
        s for s in own["Statement"] if "Condition" not in s and s.get("Resource") == key_arn
    ]
    # The warning is right: with the grant, Decrypt without kms:ViaService is allowed.
    document = {"Version": "2012-10-17", "Statement": unconditioned}
    document = json.loads(json.dumps(document).replace(json.dumps(key_arn), '"KEY"'))
    assert allows(as_policy(document), "kms:Decrypt", "KEY", {})
    (tmp_path / "scoped").mkdir()
    scoped = consumer_synth(tmp_path / "scoped", "")
    assert "A grant added" not in scoped.stdout + scoped.stderr
