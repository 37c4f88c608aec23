"""Errors name constructs and stacks, never a token placeholder, and carry their path as
RestorePermissionsError."""

from __future__ import annotations

import ast
import pathlib

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from restore_permissions import RestorePermissions, RestorePermissionsError, VmImportAccountRole

from .conftest import ROOT, new_app

SOURCES = sorted((ROOT / "restore_permissions").rglob("*.py"))


def _path_prefixed_value_errors(path: pathlib.Path) -> list[int]:
    """``raise ValueError(f"{...path...}: ...")``: a message that starts with a construct path."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name)
            and node.exc.func.id == "ValueError"
            and node.exc.args
            and isinstance(node.exc.args[0], ast.JoinedStr)
        ):
            continue
        first = node.exc.args[0].values[0]
        if isinstance(first, ast.FormattedValue) and "path" in ast.unparse(first.value):
            found.append(node.lineno)
    return found


def test_an_error_that_starts_with_a_construct_path_is_a_restore_permissions_error() -> None:
    assert len(SOURCES) > 10
    found = {
        str(source.relative_to(ROOT)): lines
        for source in SOURCES
        if (lines := _path_prefixed_value_errors(source))
    }
    assert found == {}


def test_the_scan_finds_a_path_prefixed_value_error(tmp_path: pathlib.Path) -> None:
    """A control for the scan above."""
    sample = tmp_path / "sample.py"
    sample.write_text('def f(owner):\n    raise ValueError(f"{owner.node.path}: bad")\n')
    assert _path_prefixed_value_errors(sample) == [2]


@pytest.mark.parametrize("kind", ["bucket", "key"])
def test_a_bucket_or_key_of_another_stack_is_named_by_its_path(kind: str) -> None:
    """With a VmImportAccountRole, a bucket or key of another stack is refused: the message
    names the construct, not its ARN (a token such as '${Token[TOKEN.35]}')."""
    app = new_app()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    vmimport = VmImportAccountRole(cdk.Stack(app, "RestoreAccount", env=env), "VmImport")
    storage = cdk.Stack(app, "Storage", env=env)
    restore = RestorePermissions(
        cdk.Stack(app, "Restore-acme", env=env),
        "Restore",
        bucket="acme-backups",
        vm_import=vmimport,
    )
    with pytest.raises(RestorePermissionsError) as error:
        if kind == "bucket":
            restore.add_bucket(s3.Bucket(storage, "Archive"))
        else:
            restore.add_bucket("other-backups", encryption_key=kms.Key(storage, "Key"))
    owner = (
        "the bucket 'Storage/Archive'"
        if kind == "bucket"
        else "the bucket's KMS key (encryption_key) 'Storage/Key'"
    )
    assert str(error.value) == (
        f"Restore-acme/Restore: {owner} is created in stack 'Storage'; the "
        "VmImportAccountRole in stack 'RestoreAccount' would depend on that stack and block its "
        "deletion. Pass the bucket's name as a string (and the key with kms.Key.from_key_arn), "
        "or create the bucket in the account stack"
    )
    assert "${Token[" not in str(error.value)
