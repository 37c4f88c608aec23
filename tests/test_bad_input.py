# mypy: disable-error-code="arg-type,list-item"
"""Every way a value enters, and what a wrong one gets: one table per entry point.

Each row is (argument, value, expected message fragment). The construct's props
and add_bucket raise RestorePermissionsError (a ValueError naming the path);
the factories and PolicyOptions raise ValueError; the example app's ``-c``
context and the CLI's flags exit with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

import app as example_app
from restore_permissions import (
    PolicyProfile,
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
)
from restore_permissions.policy import PolicyOptions

from .cli_runner import run_cli
from .conftest import CDK_JSON_CONTEXT, new_app

ACCOUNT = iam.AccountPrincipal("111122223333")
EC2 = iam.ServicePrincipal("ec2.amazonaws.com")
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def construct(**props: Any) -> None:
    props.setdefault("bucket", "my-backups")
    RestorePermissions(cdk.Stack(new_app(), "Test"), "Restore", **props)


PROPS: list[tuple[str, Callable[[], None], str]] = [
    ("bucket", lambda: construct(bucket=5), "bucket=5 is invalid"),
    ("bucket", lambda: construct(bucket=None), "bucket or buckets is required"),
    (
        "bucket",
        lambda: construct(bucket="My_Bucket"),
        "bucket='My_Bucket' is not a valid S3 bucket name",
    ),
    ("bucket", lambda: construct(bucket="ab"), "it is 2 characters long"),
    ("bucket", lambda: construct(bucket="a..b-x"), "two adjacent periods"),
    ("bucket", lambda: construct(bucket="192.168.0.1"), "formatted as an IP address"),
    ("bucket", lambda: construct(bucket="xn--backup"), "the prefix 'xn--' is reserved"),
    ("bucket", lambda: construct(bucket="backups-s3alias"), "the suffix '-s3alias' is reserved"),
    ("bucket", lambda: construct(bucket="arn:aws:s3:::b-1"), "bucket='arn:aws:s3:::b-1'"),
    ("buckets", lambda: construct(buckets="b-1"), "buckets='b-1' is invalid: pass a list"),
    ("buckets", lambda: construct(buckets=[5]), "buckets[0]=5 is invalid"),
    ("buckets", lambda: construct(buckets=["ok-1", "Bad_2"]), "buckets[1]='Bad_2'"),
    (
        "legacy_bucket_name",
        lambda: construct(legacy_bucket_name="no"),
        "legacy_bucket_name='no' is invalid: pass True or False",
    ),
    (
        "legacy_bucket_name",
        lambda: construct(legacy_bucket_name=1),
        "legacy_bucket_name=1 is invalid",
    ),
    (
        "create_outputs",
        lambda: construct(create_outputs="false"),
        "create_outputs='false' is invalid: pass True or False",
    ),
    ("create_outputs", lambda: construct(create_outputs=None), "create_outputs=None is invalid"),
    (
        "encryption_key",
        lambda: construct(encryption_key=KEY_ARN),
        f"encryption_key='{KEY_ARN}' is invalid: pass a kms.IKey",
    ),
    (
        "max_managed_policies",
        lambda: construct(max_managed_policies=0),
        "max_managed_policies=0 is invalid",
    ),
    (
        "max_managed_policies",
        lambda: construct(max_managed_policies=21),
        "max_managed_policies=21 is invalid",
    ),
    (
        "max_managed_policies",
        lambda: construct(max_managed_policies="10"),
        "max_managed_policies='10' is invalid",
    ),
    (
        "max_managed_policies",
        lambda: construct(max_managed_policies=True),
        "max_managed_policies=True is invalid",
    ),
    ("identity", lambda: construct(identity="user"), "identity='user' is invalid"),
    ("identity", lambda: construct(identity=ACCOUNT), "is invalid: use RestoreIdentity.user"),
    ("profile", lambda: construct(profile="kb1025"), "profile='kb1025' is invalid"),
    ("profile", lambda: construct(profile=PolicyProfile.KB1025), "profile=<PolicyProfile.KB1025"),
    ("vm_import", lambda: construct(vm_import="create"), "vm_import='create' is invalid"),
    ("vm_import", lambda: construct(vm_import=True), "vm_import=True is invalid"),
    ("name", lambda: construct(identity=RestoreIdentity.user(name=123)), "name=123 is invalid"),
    (
        "name",
        lambda: construct(identity=RestoreIdentity.user(name="has space")),
        "name='has space' is invalid",
    ),
    (
        "name",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, name="a" * 65)),
        "is invalid: IAM user and role names",
    ),
    (
        "name",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, name="vmimport")),
        "name='vmimport' is invalid: the account's VM Import/Export service role",
    ),
    (
        "name",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, name="VMImport")),
        "name='VMImport' is invalid",
    ),
    (
        "assumed_by",
        lambda: construct(identity=RestoreIdentity.role(assumed_by="111122223333")),
        "assumed_by='111122223333' is invalid: pass an iam.IPrincipal",
    ),
    (
        "external_id",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, external_id=12345)),
        "external_id=12345 is invalid",
    ),
    (
        "instance_profile",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, instance_profile=True)),
        "instance_profile=True needs assumed_by to trust ec2.amazonaws.com: an instance gets the "
        "role's credentials only if EC2 may assume it; pass "
        "assumed_by=iam.ServicePrincipal('ec2.amazonaws.com'), or an iam.CompositePrincipal that "
        "includes it",
    ),
    (
        "instance_profile",
        lambda: construct(
            identity=RestoreIdentity.role(
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"), instance_profile="yes"
            )
        ),
        "instance_profile='yes' is invalid: pass True or False (a bool)",
    ),
    (
        "external_id",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=ACCOUNT, external_id="x")),
        "external_id='x' is invalid",
    ),
    (
        "external_id",
        lambda: construct(identity=RestoreIdentity.role(assumed_by=EC2, external_id="restore-1")),
        "an AWS service never sends sts:ExternalId",
    ),
    (
        "access_keys",
        lambda: construct(identity=RestoreIdentity.user(access_keys=["a"])),
        "access_keys=['a'] is invalid",
    ),
    (
        "access_key_serial",
        lambda: construct(identity=RestoreIdentity.user(access_key_serial="2")),
        "access_key_serial='2' is invalid",
    ),
    (
        "access_key_serial",
        lambda: construct(identity=RestoreIdentity.user(access_key_serial=-1)),
        "access_key_serial=-1 is invalid",
    ),
    (
        "secret_encryption",
        lambda: construct(identity=RestoreIdentity.user(secret_encryption="aws")),
        "secret_encryption='aws' is invalid",
    ),
]


def add_bucket(bucket: Any, **kwargs: Any) -> None:
    restore = RestorePermissions(cdk.Stack(new_app(), "Test"), "Restore", bucket="my-backups")
    restore.add_bucket(bucket, **kwargs)


ADD_BUCKET: list[tuple[str, Callable[[], None], str]] = [
    (
        "add_bucket bucket",
        lambda: add_bucket("Bad_Name"),
        "bucket='Bad_Name' is not a valid S3 bucket name",
    ),
    ("add_bucket bucket", lambda: add_bucket(42), "bucket=42 is invalid"),
    (
        "add_bucket encryption_key",
        lambda: add_bucket("ok-2", encryption_key=KEY_ARN),
        "encryption_key='arn:aws:kms",
    ),
]

OPTIONS: list[tuple[str, Callable[[], object], str]] = [
    (
        "federation",
        lambda: PolicyProfile.least_privilege(federation="false"),
        "federation='false' is invalid: pass True or False",
    ),
    (
        "email_notifications",
        lambda: PolicyProfile.least_privilege(email_notifications="no"),
        "email_notifications='no' is invalid",
    ),
    (
        "email_notifications",
        lambda: PolicyProfile.least_privilege(email_notifications=1),
        "email_notifications=1 is invalid",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions="eu-west-1"),
        "allowed_regions='eu-west-1' is invalid: pass a list",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions=[]),
        "allowed_regions=[] is invalid",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions=["eu-west-1", None]),
        "allowed_regions contains None",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions=["EU-WEST-1"]),
        "'EU-WEST-1', which is not an AWS Region name",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions=["eu-wset-1"]),
        "'eu-wset-1', which is not a Region where EC2 runs",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.least_privilege(allowed_regions=["us-east-9"]),
        "'us-east-9', which is not a Region where EC2 runs",
    ),
    (
        "allowed_regions",
        lambda: PolicyProfile.kb1025(allowed_regions=["mars-1"]),
        "'mars-1', which is not an AWS Region name",
    ),
    (
        "instance_tag",
        lambda: PolicyProfile.least_privilege(instance_tag=("k", None)),
        "instance_tag=('k', None) is invalid",
    ),
    (
        "instance_tag",
        lambda: PolicyProfile.least_privilege(instance_tag=("k",)),
        "instance_tag=('k',) is invalid",
    ),
    (
        "instance_tag",
        lambda: PolicyProfile.least_privilege(instance_tag=("aws:x", "v")),
        "instance_tag key 'aws:x' is invalid",
    ),
    (
        "instance_tag",
        lambda: PolicyProfile.least_privilege(instance_tag=("k", "v" * 257)),
        "instance_tag value",
    ),
    (
        "instance_tag",
        lambda: PolicyProfile.least_privilege(instance_tag=("", "v")),
        "instance_tag key '' is invalid",
    ),
    ("profile", lambda: PolicyOptions(profile="kb1025"), "profile='kb1025' is invalid"),
    (
        "federation",
        lambda: PolicyOptions(profile=PolicyProfile.KB1025, federation=True),
        "federation is only valid with PolicyProfile.least_privilege(...)",
    ),
]


@pytest.mark.parametrize(
    ("argument", "call", "fragment"),
    PROPS + ADD_BUCKET,
    ids=[f"{r[0]}:{i}" for i, r in enumerate(PROPS + ADD_BUCKET)],
)
def test_construct_values(argument: str, call: Callable[[], None], fragment: str) -> None:
    with pytest.raises(RestorePermissionsError) as error:
        call()
    assert fragment in str(error.value)
    assert str(error.value).startswith("Test/Restore: ")


@pytest.mark.parametrize(
    ("argument", "call", "fragment"), OPTIONS, ids=[f"{r[0]}:{i}" for i, r in enumerate(OPTIONS)]
)
def test_option_values(argument: str, call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(ValueError) as error:
        call()
    assert fragment in str(error.value)
    assert argument in str(error.value)


CONTEXT: list[tuple[str, str, str]] = [
    ("federation", "maybe", "-c federation='maybe' is invalid: use true or false"),
    ("create_access_key", "no", "-c create_access_key='no' is invalid: use true or false"),
    ("legacy_bucket_name", "yes", "-c legacy_bucket_name='yes' is invalid"),
    ("access_key_serial", "two", "-c access_key_serial='two' is invalid"),
    ("principal_type", "admin", "-c principal_type='admin' is invalid"),
    ("vm_import_role", "always", "-c vm_import_role='always' is invalid"),
    ("profile", "kb2000", "-c profile='kb2000' is invalid"),
    ("instance_tag", "novalue", "-c instance_tag='novalue' is invalid: use KEY=VALUE"),
    ("trusted_account", "12345", "-c trusted_account='12345' is invalid"),
    ("access_key_slots", "c", "-c access_key_slots='c' is invalid: use a, b or a,b"),
]


@pytest.mark.parametrize(("key", "value", "fragment"), CONTEXT, ids=[r[0] for r in CONTEXT])
def test_example_app_context(key: str, value: str, fragment: str) -> None:
    extra = {"principal_type": "role"} if key == "trusted_account" else {}
    with pytest.raises(ValueError) as error:
        example_app.build_app(
            {**CDK_JSON_CONTEXT, "bucket_name": "my-backups", **extra, key: value}
        )
    assert fragment in str(error.value)


CLI: list[tuple[list[str], str]] = [
    (["policy"], "the following arguments are required: --bucket"),
    (
        ["policy", "--bucket", "Bad_Name"],
        "argument --bucket: 'Bad_Name' is not a valid S3 bucket name",
    ),
    (
        ["policy", "--bucket", "b-1", "--account", "12"],
        "argument --account: '12' is not a 12-digit AWS account id",
    ),
    (
        ["policy", "--bucket", "b-1", "--region", "moon-1"],
        "argument --region: 'moon-1' is not an AWS Region name",
    ),
    (
        ["policy", "--bucket", "b-1", "--region", "eu-wset-1"],
        "argument --region: 'eu-wset-1' is not a Region where EC2 runs",
    ),
    (
        ["policy", "--bucket", "b-1", "--partition", "aws-cn", "--region", "eu-west-1"],
        "--region eu-west-1 is in partition aws, not --partition aws-cn",
    ),
    (
        ["policy", "--bucket", "b-1", "--partition", "aws", "--region", "cn-north-1"],
        "--region cn-north-1 is in partition aws-cn",
    ),
    (
        ["policy", "--bucket", "b-1", "--partition", "aws-cn", "--kms-key", KEY_ARN],
        "is in partition aws, not --partition aws-cn",
    ),
    (
        ["policy", "--bucket", "b-1", "--kms-key", "alias/x"],
        "argument --kms-key: 'alias/x' is not a KMS key ARN",
    ),
    (
        ["policy", "--bucket", "b-1", "--instance-tag", "x"],
        "argument --instance-tag: 'x' is not KEY=VALUE",
    ),
    (
        ["policy", "--bucket", "b-1", "--profile", "kb1025", "--federation"],
        "--federation is only valid with --profile least-privilege",
    ),
    (
        ["policy", "--bucket", "b-1", "--profile", "best"],
        "argument --profile: invalid choice: 'best'",
    ),
    (["vmimport-role", "--bucket", "b-1"], "vmimport-role needs --account"),
    (
        [
            "policy",
            "--split",
            *(a for i in range(1500) for a in ("--bucket", f"customer-{i:04d}-backups-{'x' * 20}")),
        ],
        "managed policies would be needed, more than --max-managed-policies 10",
    ),
    (
        ["policy", *(a for i in range(200) for a in ("--bucket", f"customer-{i:03d}-backups"))],
        "does not fit one managed policy (6144): pass --split",
    ),
    (
        ["policy", "--bucket", "Legacy_Bucket"],
        "pass --legacy-bucket-name.",
    ),
]


@pytest.mark.parametrize(("args", "fragment"), CLI, ids=[f"cli:{i}" for i in range(len(CLI))])
def test_cli_flags(args: list[str], fragment: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert fragment in result.stderr and result.stderr.count("\n") == 1


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(PROPS) + len(ADD_BUCKET) + len(OPTIONS) + len(CONTEXT) + len(CLI) >= 60
