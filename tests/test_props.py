"""Bad input raises ValueError at construction, naming the argument, the value and the rule."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
    VmImportMode,
)

from .conftest import new_app, synthesize

LEGACY_HINT = (
    " If this is a legacy bucket created in us-east-1 before 1 March 2018 (uppercase letters, "
    "underscores, up to 255 characters), pass legacy_bucket_name=True."
)
ACCOUNT = iam.AccountPrincipal("111122223333")


def new_stack() -> cdk.Stack:
    return cdk.Stack(new_app(), "Test")


def build(stack: cdk.Stack | None = None, **props: Any) -> RestorePermissions:
    props.setdefault("bucket", "my-backups")
    return RestorePermissions(stack or new_stack(), "Restore", **props)


def raises(message: str, **props: Any) -> None:
    stack = new_stack()
    with pytest.raises(RestorePermissionsError) as error:
        build(stack, **props)
    # The construct's path first: in an app of many customers, it names the wrong one.
    assert str(error.value) == f"Test/Restore: {message}"
    assert error.value.path == "Test/Restore" and error.value.reason == message
    # Nothing half-built is left in the tree.
    assert stack.node.try_find_child("Restore") is None


@pytest.mark.parametrize(
    ("bucket", "message"),
    [
        (
            "My_Bucket",
            "bucket='My_Bucket' is not a valid S3 bucket name: it contains 'B', 'M', '_'; "
            "only lowercase letters, digits, '.' and '-' are allowed." + LEGACY_HINT,
        ),
        (
            "a" * 64,
            f"bucket='{'a' * 64}' is not a valid S3 bucket name: it is 64 characters long; "
            "bucket names have 3 to 63." + LEGACY_HINT,
        ),
        (
            "ab",
            "bucket='ab' is not a valid S3 bucket name: it is 2 characters long; bucket names have 3 to 63.",
        ),
        (
            "my..backups",
            "bucket='my..backups' is not a valid S3 bucket name: it contains two adjacent periods ('..').",
        ),
        (
            "10.0.0.1",
            "bucket='10.0.0.1' is not a valid S3 bucket name: it is formatted as an IP address.",
        ),
        (
            "xn--abc",
            "bucket='xn--abc' is not a valid S3 bucket name: the prefix 'xn--' is reserved.",
        ),
        (
            "backups--x-s3",
            "bucket='backups--x-s3' is not a valid S3 bucket name: the suffix '--x-s3' is reserved.",
        ),
        (
            "arn:aws:s3:::my-backups",
            "bucket='arn:aws:s3:::my-backups' is not a valid S3 bucket name: it is an ARN; "
            "pass the bucket name alone (for example 'my-backups').",
        ),
        (
            "s3://my-backups",
            "bucket='s3://my-backups' is not a valid S3 bucket name: it is a URL; "
            "pass the bucket name alone (for example 'my-backups').",
        ),
    ],
)
def test_bad_bucket_names(bucket: str, message: str) -> None:
    raises(message, bucket=bucket)


def test_bad_name_of_an_imported_bucket_is_reported_as_bucket_name() -> None:
    # from_bucket_name lets xn--abc through; the construct does not.
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Imported", "xn--abc")
    with pytest.raises(ValueError) as error:
        build(stack, bucket=bucket)
    assert str(error.value) == (
        "Test/Restore: bucket.bucket_name='xn--abc' is not a valid S3 bucket name: the prefix "
        "'xn--' is reserved."
    )


def test_legacy_bucket_names_need_the_escape_hatch() -> None:
    legacy = "Legacy_Backups_" + "x" * 100
    raises(
        f"bucket='{legacy}' is not a valid S3 bucket name: it is 115 characters long; "
        "bucket names have 3 to 63." + LEGACY_HINT,
        bucket=legacy,
    )
    restore = build(bucket=legacy, legacy_bucket_name=True)
    stack = cdk.Stack.of(restore)
    statements = synthesize(cdk.App.of(stack), stack).policy_document()["Statement"]  # type: ignore[arg-type]
    (bucket_statement,) = [s for s in statements if s["Sid"] == "BackupBucket"]
    assert bucket_statement["Resource"] == {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{legacy}"}


def test_legacy_mode_still_rejects_names_no_bucket_can_have() -> None:
    raises(
        "bucket='Legacy..Backups' is not a valid S3 bucket name: it contains two adjacent periods ('..').",
        bucket="Legacy..Backups",
        legacy_bucket_name=True,
    )


def test_token_bucket_names_are_accepted() -> None:
    stack = new_stack()
    parameter = cdk.CfnParameter(stack, "BucketName")
    RestorePermissions(stack, "FromParameter", bucket=parameter.value_as_string)
    RestorePermissions(stack, "CreatedHere", bucket=s3.Bucket(stack, "Created"))
    imported = s3.Bucket.from_bucket_name(stack, "Imported", parameter.value_as_string)
    RestorePermissions(stack, "ImportedFromParameter", bucket=imported)
    assert [c.node.id for c in stack.node.children if isinstance(c, RestorePermissions)] == [
        "FromParameter",
        "CreatedHere",
        "ImportedFromParameter",
    ]


def test_bucket_of_the_wrong_type() -> None:
    raises("bucket=42 is invalid: pass an aws_s3.IBucket or a bucket name (str)", bucket=42)


def test_role_without_a_principal() -> None:
    raises(
        "assumed_by='111122223333' is invalid: pass an iam.IPrincipal, for example "
        "iam.AccountPrincipal('111122223333')",
        identity=RestoreIdentity.role(assumed_by="111122223333"),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("serial", "message"),
    [
        (-1, "access_key_serial=-1 is invalid: it must be an int >= 0"),
        (True, "access_key_serial=True is invalid: it must be an int >= 0"),
        ("2", "access_key_serial='2' is invalid: it must be an int >= 0"),
    ],
)
def test_bad_access_key_serial(serial: Any, message: str) -> None:
    raises(message, identity=RestoreIdentity.user(access_key_serial=serial))


@pytest.mark.parametrize("external_id", ["x", "has space", "a" * 1225])
def test_bad_external_id(external_id: str) -> None:
    raises(
        f"external_id={external_id!r} is invalid: it must be 2 to 1224 characters of "
        "letters, digits and +=,.@:/_-",
        identity=RestoreIdentity.role(assumed_by=ACCOUNT, external_id=external_id),
    )


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "caf\u00e9"])
@pytest.mark.parametrize("kind", ["user", "role"])
def test_bad_principal_name(name: str, kind: str) -> None:
    identity = (
        RestoreIdentity.user(name=name)
        if kind == "user"
        else RestoreIdentity.role(assumed_by=ACCOUNT, name=name)
    )
    raises(
        f"name={name!r} is invalid: IAM user and role names are "
        "1 to 64 characters of letters, digits and +=,.@_-",
        identity=identity,
    )


def test_the_factories_types_are_required() -> None:
    raises(
        "identity='user' is invalid: use RestoreIdentity.user(...) or "
        "RestoreIdentity.role(assumed_by=...)",
        identity="user",
    )
    raises(
        "profile='kb1025' is invalid: use PolicyProfile.least_privilege(...) or "
        "PolicyProfile.kb1025(...)",
        profile="kb1025",
    )
    raises(
        "vm_import='create' is invalid: use VmImportMode.CREATE, "
        "VmImportMode.USE_EXISTING, VmImportMode.NONE or a VmImportAccountRole",
        vm_import="create",
    )


def test_mixing_create_and_use_existing_in_one_stack() -> None:
    stack = new_stack()
    RestorePermissions(stack, "A", bucket="bucket-a", vm_import=VmImportMode.CREATE)
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "B", bucket="bucket-b", vm_import=VmImportMode.USE_EXISTING)
    assert str(error.value) == (
        "Test/B: vm_import=VmImportMode.USE_EXISTING conflicts with vm_import=VmImportMode.CREATE "
        "used by another RestorePermissions in stack 'Test': the stack has one 'vmimport' role, "
        "so all of its RestorePermissions must use the same mode"
    )


def test_none_mixes_with_either_mode() -> None:
    stack = new_stack()
    RestorePermissions(stack, "A", bucket="bucket-a", vm_import=VmImportMode.NONE)
    b = RestorePermissions(stack, "B", bucket="bucket-b", vm_import=VmImportMode.USE_EXISTING)
    c = RestorePermissions(stack, "C", bucket="bucket-c", vm_import=VmImportMode.NONE)
    # B attaches to the existing role; A and C leave it alone.
    assert b.vm_import_role is not None and c.vm_import_role is None
    (singleton,) = [
        child for child in stack.node.children if child.node.id == "VmImportServiceRole"
    ]
    assert singleton.mode is VmImportMode.USE_EXISTING  # type: ignore[attr-defined]


def test_a_role_name_reaches_the_template() -> None:
    stack = new_stack()
    RestorePermissions(
        stack,
        "Restore",
        bucket="my-backups",
        identity=RestoreIdentity.role(assumed_by=ACCOUNT, name="cloudberry-restore"),
    )
    template = cdk.assertions.Template.from_stack(stack)
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "cloudberry-restore"})
