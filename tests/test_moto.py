"""The synthesized templates on an AWS emulator (moto, in-process): deploy, then enforce.

moto runs CloudFormation, IAM, S3, EC2 and STS here, with no account and no
network. Where it falls short of CloudFormation, the test does the missing
step through the API, exactly as CloudFormation would, and says so:

- moto skips ``AWS::IAM::Group``: the test creates each group, adds the user to
  it, and substitutes the group's name for its ``Ref``.
- moto skips ``AWS::SecretsManager::Secret``: the test creates the secret with
  the ``SecretString`` the template gives it, evaluated as CloudFormation would
  (``Ref`` to the access key is its id; ``Fn::GetAtt [AccessKey,
  SecretAccessKey]`` is read through a test-only output). The test-only outputs
  are removed before the stack's outputs are compared with anything.

moto checks non-S3 calls against ``Resource: "*"`` and ignores request
context, so the EC2 rows that depend on ARNs, Regions or tags are judged by the
offline evaluator in test_evaluation.py instead (see ENGINE in the table).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from moto.core.models import DEFAULT_ACCOUNT_ID

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    VmImportAccountRole,
    VmImportMode,
)

from .conftest import BUCKET, PSEUDO, Synthesized, new_app, resolve_cfn, synthesize_stack
from .oracle import condition_matches

REGION = "us-east-1"
OTHER_BUCKET = "someone-elses-bucket"
AGENT = "backup-agent"
EXTERNAL_ID = "restore-4f1c9a"
ALLOWED, DENIED = "allowed", "denied"
# Error codes with which moto refuses a call that IAM does not allow.
DENIAL_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


@dataclass
class Deployed:
    """A stack created on the emulator: its outputs, resources and the template sent."""

    name: str
    template: dict[str, Any]
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id -> physical id
    groups: dict[str, str]  # group logical id -> name the test created
    #: Access key logical id -> its secret key, as CloudFormation handed it to the secret.
    secret_keys: dict[str, str]

    def output(self, description: str) -> str:
        (value,) = [
            self.outputs[key]
            for key, output in self.template.get("Outputs", {}).items()
            if output.get("Description") == description
        ]
        return value


@contextlib.contextmanager
def fresh_emulator() -> Iterator[None]:
    """A new, empty emulated account: IAM names such as vmimport are unique per account."""
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION
    )
    try:
        with mock_aws():
            # What `cdk bootstrap` leaves for the template's BootstrapVersion parameter.
            boto3.client("ssm").put_parameter(
                Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
            )
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def emulator() -> Iterator[None]:
    with fresh_emulator():
        yield


def _replace_refs(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [_replace_refs(item, names) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in names:
            return names[value["Ref"]]
        return {key: _replace_refs(item, names) for key, item in value.items()}
    return value


def deploy(
    template: dict[str, Any],
    stack_name: str,
    parameters: Mapping[str, str] | None = None,
    *,
    update: bool = False,
) -> Deployed:
    """create_stack (or update_stack) on the emulator, doing by API what moto skips
    (see the module docstring)."""
    iam_client = boto3.client("iam")
    sent = copy.deepcopy(template)
    groups: dict[str, str] = {}
    for logical_id, resource in list(sent["Resources"].items()):
        if resource["Type"] == "AWS::IAM::Group":
            groups[logical_id] = f"{stack_name}-{logical_id}"
            if not update:
                iam_client.create_group(GroupName=groups[logical_id])
            del sent["Resources"][logical_id]
    secrets = {
        k: r for k, r in sent["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"
    }
    for logical_id in secrets:
        del sent["Resources"][logical_id]
    outputs = sent.setdefault("Outputs", {})
    secret_outputs = {
        key: output["Value"]["Ref"]
        for key, output in outputs.items()
        if isinstance(output["Value"], dict) and output["Value"].get("Ref") in secrets
    }
    for key in secret_outputs:
        del outputs[key]
    keys = [k for k, r in sent["Resources"].items() if r["Type"] == "AWS::IAM::AccessKey"]
    for logical_id in keys:  # test-only: the value CloudFormation hands to the secret
        outputs[f"TestOnly{logical_id}Secret"] = {
            "Value": {"Fn::GetAtt": [logical_id, "SecretAccessKey"]}
        }
    sent = _replace_refs(sent, groups)

    cloudformation = boto3.client("cloudformation")
    (cloudformation.update_stack if update else cloudformation.create_stack)(
        StackName=stack_name,
        TemplateBody=json.dumps(sent),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
        ],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    expected_status = "UPDATE_COMPLETE" if update else "CREATE_COMPLETE"
    assert stack["StackStatus"] == expected_status, stack.get("StackStatusReason")
    stack_outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    }
    for logical_id, resource in sent["Resources"].items():
        if resource["Type"] == "AWS::IAM::User":
            for group in resource["Properties"].get("Groups", []):
                iam_client.add_user_to_group(GroupName=group, UserName=resources[logical_id])
    secret_keys = {k: stack_outputs.pop(f"TestOnly{k}Secret") for k in keys}
    secretsmanager = boto3.client("secretsmanager")
    for logical_id, secret in secrets.items():
        name = f"{stack_name}-{logical_id}"
        value = _evaluate(secret["Properties"]["SecretString"], resources, secret_keys)
        if update:
            arn = secretsmanager.put_secret_value(SecretId=name, SecretString=value)["ARN"]
        else:
            arn = secretsmanager.create_secret(
                Name=name, Description=secret["Properties"]["Description"], SecretString=value
            )["ARN"]
        resources[logical_id] = arn
        stack_outputs.update({key: arn for key, ref in secret_outputs.items() if ref == logical_id})
    return Deployed(stack_name, template, stack_outputs, resources, groups, secret_keys)


def deployed_document(policy_arn: str) -> dict[str, Any]:
    """A deployed managed policy's default version, as IAM returns it."""
    iam_client = boto3.client("iam")
    version = iam_client.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document: dict[str, Any] = iam_client.get_policy_version(
        PolicyArn=policy_arn, VersionId=version
    )["PolicyVersion"]["Document"]
    return document


def _evaluate(value: Any, resources: Mapping[str, str], secret_keys: Mapping[str, str]) -> Any:
    """A template value as CloudFormation resolves it: Fn::Join, Ref and the keys' GetAtt."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Join"}:
            delimiter, parts = value["Fn::Join"]
            return delimiter.join(str(_evaluate(p, resources, secret_keys)) for p in parts)
        if set(value) == {"Ref"}:
            return resources[value["Ref"]]
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][1] == "SecretAccessKey":
            return secret_keys[value["Fn::GetAtt"][0]]
        raise AssertionError(f"not evaluated by the test: {value}")
    return value


# ---------------------------------------------------------------------------
# Deploy
# ---------------------------------------------------------------------------


def bucket_in_stack(stack: cdk.Stack) -> None:
    bucket = s3.Bucket(stack, "Backups", enforce_ssl=True)
    RestorePermissions(stack, "Restore", bucket=bucket)


@pytest.fixture(scope="module")
def bucket_in_stack_template() -> Synthesized:
    return synthesize_stack(bucket_in_stack)


@pytest.mark.parametrize(
    "variant",
    [
        "user_with_key",
        "user_without_key",
        "role_with_external_id",
        "no_vmimport",
        "kb1025",
        "all_options",
    ],
)
def test_example_variant_deploys(
    emulator: None, examples: dict[str, Synthesized], variant: str
) -> None:
    synth = examples[variant]
    deployed = deploy(synth.template_json, f"Deploy-{variant.replace('_', '-')}")
    iam_client = boto3.client("iam")
    # The identity's own policy and the stack's shared one.
    policy_arns = deployed.output("Comma-separated ARNs of the restore managed policies").split(",")
    assert len(policy_arns) == 2
    deployed_statements = [
        statement for arn in policy_arns for statement in deployed_document(arn)["Statement"]
    ]
    expected = resolve_cfn(
        synth.policy_document(), {**PSEUDO, "AWS::AccountId": DEFAULT_ACCOUNT_ID}
    )
    assert sorted(deployed_statements, key=lambda s: s["Sid"]) == sorted(
        expected["Statement"], key=lambda s: s["Sid"]
    )
    policy_arn = policy_arns[0]
    attached_to = iam_client.list_entities_for_policy(PolicyArn=policy_arn)
    # The mode from the template, not the variant's name: kb1025 and all_options are user mode.
    if synth.resources("AWS::IAM::User"):
        user = deployed.output("Restore user name")
        (group,) = deployed.groups.values()
        assert [u["UserName"] for u in iam_client.get_group(GroupName=group)["Users"]] == [user]
        assert [g["GroupName"] for g in attached_to["PolicyGroups"]] == [group]
        assert attached_to["PolicyUsers"] == []
        assert iam_client.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    else:
        role = deployed.output("Restore role name")
        assert [r["RoleName"] for r in attached_to["PolicyRoles"]] == [role]
    # No output, of any variant, carries a secret key.
    for secret_key in deployed.secret_keys.values():
        assert secret_key not in deployed.outputs.values()
    if variant == "user_with_key":
        secret = boto3.client("secretsmanager").get_secret_value(
            SecretId=deployed.resources[
                next(
                    k
                    for k, v in synth.template_json["Resources"].items()
                    if v["Type"] == "AWS::SecretsManager::Secret"
                )
            ]
        )
        assert json.loads(secret["SecretString"])["accessKeyId"] == deployed.output(
            "Access key id (the secret key is only in the Secrets Manager secret)"
        )


def test_vmimport_role_deploys_with_its_trust_policy(
    emulator: None, examples: dict[str, Synthesized]
) -> None:
    deploy(examples["user_with_key"].template_json, "Deploy-vmimport")
    iam_client = boto3.client("iam")
    role = iam_client.get_role(RoleName="vmimport")["Role"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "vmie.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"sts:Externalid": "vmimport", "aws:SourceAccount": DEFAULT_ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:vmie:*:{DEFAULT_ACCOUNT_ID}:*"},
    }
    (attached,) = iam_client.list_attached_role_policies(RoleName="vmimport")["AttachedPolicies"]
    assert attached["PolicyName"].startswith("Deploy-vmimport-VmImportServiceRolePolicy")


def test_use_existing_attaches_to_the_accounts_role(
    emulator: None, examples: dict[str, Synthesized]
) -> None:
    iam_client = boto3.client("iam")
    # The account already has the role (that is what USE_EXISTING is for).
    iam_client.create_role(
        RoleName="vmimport",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    deploy(examples["use_existing_vmimport"].template_json, "Deploy-use-existing")
    (attached,) = iam_client.list_attached_role_policies(RoleName="vmimport")["AttachedPolicies"]
    assert attached["PolicyName"].startswith("Deploy-use-existing-VmImportServiceRolePolicy")


# The bucket's SSL-only policy is the bucket's concern, not the restore
# identity's; moto skips AWS::S3::BucketPolicy, which changes nothing asserted here.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS.+S3.+BucketPolicy:UserWarning")
def test_bucket_created_by_the_stack_deploys(
    emulator: None, bucket_in_stack_template: Synthesized
) -> None:
    deployed = deploy(bucket_in_stack_template.template_json, "Deploy-bucket-in-stack")
    bucket_name = deployed.resources[
        next(iter(bucket_in_stack_template.resources("AWS::S3::Bucket")))
    ]
    boto3.client("s3").head_bucket(Bucket=bucket_name)
    policy_arns = deployed.output("Comma-separated ARNs of the restore managed policies")
    by_sid = {
        s["Sid"]: s
        for arn in policy_arns.split(",")
        for s in deployed_document(arn)["Statement"]
        if "Sid" in s
    }
    assert by_sid["BackupBucket"]["Resource"] == f"arn:aws:s3:::{bucket_name}"


# ---------------------------------------------------------------------------
# Enforce
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One row of the table: a real call and the outcome IAM should give it."""

    what: str
    call: Callable[[boto3.Session, Mapping[str, str]], Any]
    expected: str


def _multipart(session: boto3.Session, bucket: str) -> None:
    client = session.client("s3")
    upload = client.create_multipart_upload(Bucket=bucket, Key="image/disk.vhdx")
    part = client.upload_part(
        Bucket=bucket,
        Key="image/disk.vhdx",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"x" * 1024,
    )
    client.complete_multipart_upload(
        Bucket=bucket,
        Key="image/disk.vhdx",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )


def _s3_calls(bucket: str, expected: str) -> list[Call]:
    return [
        Call(
            f"s3:ListBucket on {bucket}",
            lambda s, _: s.client("s3").list_objects_v2(Bucket=bucket),
            expected,
        ),
        Call(
            f"s3:PutObject on {bucket}",
            lambda s, _: s.client("s3").put_object(
                Bucket=bucket, Key="backup/plan.cbb", Body=b"backup"
            ),
            expected,
        ),
        Call(
            f"s3:GetObject on {bucket}",
            lambda s, _: s.client("s3").get_object(Bucket=bucket, Key="seed/existing.cbb"),
            expected,
        ),
        Call(f"multipart upload to {bucket}", lambda s, _: _multipart(s, bucket), expected),
    ]


#: The calls made with the restore identity's credentials, and their expected outcome.
IDENTITY_CALLS: list[Call] = [
    *_s3_calls(BUCKET, ALLOWED),
    Call("ec2:DescribeInstances", lambda s, _: s.client("ec2").describe_instances(), ALLOWED),
    Call(
        "ec2:DescribeImages", lambda s, _: s.client("ec2").describe_images(Owners=["self"]), ALLOWED
    ),
    Call("ec2:DescribeSubnets", lambda s, _: s.client("ec2").describe_subnets(), ALLOWED),
    Call("iam:ListRoles", lambda s, _: s.client("iam").list_roles(), ALLOWED),
    *_s3_calls(OTHER_BUCKET, DENIED),
    Call(
        "s3:DeleteBucket on the backup bucket",
        lambda s, _: s.client("s3").delete_bucket(Bucket=BUCKET),
        DENIED,
    ),
    Call(
        "s3:PutBucketPolicy on the backup bucket",
        lambda s, _: s.client("s3").put_bucket_policy(
            Bucket=BUCKET,
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{BUCKET}/*",
                        }
                    ],
                }
            ),
        ),
        DENIED,
    ),
    Call("iam:CreateUser", lambda s, _: s.client("iam").create_user(UserName="intruder"), DENIED),
    Call(
        "iam:AttachUserPolicy (AdministratorAccess to itself)",
        lambda s, ids: s.client("iam").attach_user_policy(
            UserName=ids["user"], PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        DENIED,
    ),
    Call("ec2:DeleteVpc", lambda s, ids: s.client("ec2").delete_vpc(VpcId=ids["vpc"]), DENIED),
    Call(
        "ec2:CreateVpc", lambda s, _: s.client("ec2").create_vpc(CidrBlock="10.99.0.0/16"), DENIED
    ),
]


def outcome(call: Call, session: boto3.Session, ids: Mapping[str, str]) -> str:
    try:
        call.call(session, ids)
    except ClientError as error:
        if error.response["Error"]["Code"] in DENIAL_CODES:
            return DENIED
        raise
    return ALLOWED


def role_stack(stack: cdk.Stack) -> None:
    # Trusts a user, not an account: moto matches user ARNs in trust policies
    # but not an account's ":root" principal.
    RestorePermissions(
        stack,
        "Restore",
        bucket=BUCKET,
        vm_import=VmImportMode.NONE,
        identity=RestoreIdentity.role(
            assumed_by=iam.ArnPrincipal(f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/{AGENT}"),
            external_id=EXTERNAL_ID,
        ),
    )


@pytest.fixture(scope="module")
def enforced(examples: dict[str, Synthesized]) -> dict[str, dict[str, str]]:
    """Deploy the user and role stacks, then make every call with IAM enforced."""
    with fresh_emulator():
        return _run_enforced(examples)


def _run_enforced(examples: dict[str, Synthesized]) -> dict[str, dict[str, str]]:
    admin_s3, admin_iam = boto3.client("s3"), boto3.client("iam")
    for bucket in (BUCKET, OTHER_BUCKET):
        admin_s3.create_bucket(Bucket=bucket)
        admin_s3.put_object(Bucket=bucket, Key="seed/existing.cbb", Body=b"backup")
    vpc = boto3.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    # The user: the default example, whose access key lives in its secret.
    user_stack = deploy(examples["user_with_key"].template_json, "Enforce-user")
    secret_id = user_stack.output("Secrets Manager secret holding the access key")
    credentials = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    )
    user_session = boto3.Session(
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        region_name=REGION,
    )

    # The role: assumed by a backup agent user with the right external id.
    deploy(synthesize_stack(role_stack).template_json, "Enforce-role")
    role_arn = next(
        r["Arn"]
        for r in admin_iam.list_roles()["Roles"]
        if r["RoleName"].startswith("Enforce-role")
    )
    admin_iam.create_user(UserName=AGENT)
    admin_iam.put_user_policy(
        UserName=AGENT,
        PolicyName="assume-restore-role",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
                ],
            }
        ),
    )
    agent_key = admin_iam.create_access_key(UserName=AGENT)["AccessKey"]
    agent = boto3.Session(
        aws_access_key_id=agent_key["AccessKeyId"],
        aws_secret_access_key=agent_key["SecretAccessKey"],
        region_name=REGION,
    )
    ids = {"user": user_stack.output("Restore user name"), "vpc": vpc}

    results: dict[str, dict[str, str]] = {"user": {}, "role": {}, "assume": {}}

    @set_initial_no_auth_action_count(0)
    def run_enforced() -> None:
        sts = agent.client("sts")

        def assume(**external: str) -> str:
            try:
                sts.assume_role(RoleArn=role_arn, RoleSessionName="restore", **external)
            except ClientError as error:
                assert error.response["Error"]["Code"] in DENIAL_CODES
                return DENIED
            return ALLOWED

        results["assume"]["right external id"] = assume(ExternalId=EXTERNAL_ID)
        results["assume"]["wrong external id"] = assume(ExternalId="guessed")
        results["assume"]["no external id"] = assume()
        creds = sts.assume_role(
            RoleArn=role_arn, RoleSessionName="restore", ExternalId=EXTERNAL_ID
        )["Credentials"]
        role_session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )
        for call in IDENTITY_CALLS:
            results["user"][call.what] = outcome(call, user_session, ids)
        for call in IDENTITY_CALLS:
            if "AttachUserPolicy" not in call.what:  # the role has no user to attach to
                results["role"][call.what] = outcome(call, role_session, ids)

    run_enforced()
    return results


@pytest.mark.parametrize("call", IDENTITY_CALLS, ids=[c.what for c in IDENTITY_CALLS])
def test_user_credentials(enforced: dict[str, dict[str, str]], call: Call) -> None:
    assert enforced["user"][call.what] == call.expected


@pytest.mark.parametrize(
    "call", [c for c in IDENTITY_CALLS if "AttachUserPolicy" not in c.what], ids=lambda c: c.what
)
def test_role_session(enforced: dict[str, dict[str, str]], call: Call) -> None:
    assert enforced["role"][call.what] == call.expected


#: Assuming the restore role: (what, expected, engine). moto allows a missing
#: external id that AWS denies, so that row is judged by the offline evaluator
#: on the deployed trust policy's condition instead (a test-only oracle).
ASSUME_ROWS = [
    ("right external id", ALLOWED, "moto"),
    ("wrong external id", DENIED, "moto"),
    ("no external id", DENIED, "principalmapper"),
]


def trust_condition_allows(context: dict[str, str]) -> str:
    (statement,) = (
        synthesize_stack(role_stack)
        .resources("AWS::IAM::Role")
        .popitem()[1]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    )
    match = condition_matches(statement["Condition"], context)
    return ALLOWED if match else DENIED


@pytest.mark.parametrize(
    ("what", "expected", "engine"), ASSUME_ROWS, ids=[row[0] for row in ASSUME_ROWS]
)
def test_assuming_the_role(
    enforced: dict[str, dict[str, str]], what: str, expected: str, engine: str
) -> None:
    if engine == "moto":
        assert enforced["assume"][what] == expected
    else:
        assert trust_condition_allows({}) == expected
        # The evaluator agrees with moto where moto is right.
        assert trust_condition_allows({"sts:ExternalId": EXTERNAL_ID}) == ALLOWED
        assert trust_condition_allows({"sts:ExternalId": "guessed"}) == DENIED


# ---------------------------------------------------------------------------
# Lifecycle: two customers in one account, update and delete one
# ---------------------------------------------------------------------------


def customer_app(customers: Mapping[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Templates of an account stack owning vmimport and one user-mode stack per customer."""
    app = new_app()
    env = cdk.Environment(account=DEFAULT_ACCOUNT_ID, region=REGION)
    role = VmImportAccountRole(cdk.Stack(app, "Account", env=env), "VmImport")
    for name, buckets in customers.items():
        RestorePermissions(
            cdk.Stack(app, name, env=env), "Restore", buckets=buckets, vm_import=role
        )
    return {s.stack_name: s.template for s in app.synth().stacks}


def test_updating_and_deleting_one_customer_leaves_the_other_working(emulator: None) -> None:
    """Deploy -> update -> delete over two customer stacks in one account.

    moto runs the stacks; what it cannot judge (update order, DeletionPolicy)
    is proven from the templates in test_update_order.py and test_vm_import.py.
    """
    admin_s3, admin_iam = boto3.client("s3"), boto3.client("iam")
    for bucket in ("a-backups", "a2-backups", "b-backups"):
        admin_s3.create_bucket(Bucket=bucket)
    v1 = customer_app({"CustomerA": ["a-backups"], "CustomerB": ["b-backups"]})
    v2 = customer_app({"CustomerA": ["a-backups", "a2-backups"], "CustomerB": ["b-backups"]})
    v3 = customer_app({"CustomerB": ["b-backups"]})
    # Customer B's template never changes: its stack is never touched.
    assert v1["CustomerB"] == v2["CustomerB"] == v3["CustomerB"]

    for name in ("Account", "CustomerA", "CustomerB"):
        deploy(v1[name], name)
    customer_b = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in boto3.client("cloudformation").list_stack_resources(StackName="CustomerB")[
            "StackResourceSummaries"
        ]
    }
    b_user = next(
        customer_b[k]
        for k, r in v1["CustomerB"]["Resources"].items()
        if r["Type"] == "AWS::IAM::User"
    )

    role_id = admin_iam.get_role(RoleName="vmimport")["Role"]["RoleId"]
    a_user = next(
        r["PhysicalResourceId"]
        for r in boto3.client("cloudformation").list_stack_resources(StackName="CustomerA")[
            "StackResourceSummaries"
        ]
        if r["ResourceType"] == "AWS::IAM::User"
    )
    deploy(v2["CustomerA"], "CustomerA", update=True)
    deploy(v2["Account"], "Account", update=True)
    boto3.client("cloudformation").delete_stack(StackName="CustomerA")
    deploy(v3["Account"], "Account", update=True)

    stacks = {
        s["StackName"]: s["StackStatus"]
        for s in boto3.client("cloudformation").list_stacks()["StackSummaries"]
    }
    assert stacks["CustomerA"] == "DELETE_COMPLETE"
    assert stacks["CustomerB"] == "CREATE_COMPLETE"  # never updated
    with pytest.raises(ClientError, match="NoSuchEntity"):
        admin_iam.get_user(UserName=a_user)
    # B's user, key and secret are there, and the key still works on B's bucket.
    admin_iam.get_user(UserName=b_user)
    (key,) = admin_iam.list_access_keys(UserName=b_user)["AccessKeyMetadata"]
    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(
            SecretId="CustomerB-RestoreAccessKeySecretF262D1CB"
        )["SecretString"]
    )
    assert secret["accessKeyId"] == key["AccessKeyId"]
    session = boto3.Session(
        aws_access_key_id=secret["accessKeyId"],
        aws_secret_access_key=secret["secretAccessKey"],
        region_name=REGION,
    )

    @set_initial_no_auth_action_count(0)
    def list_b() -> None:
        session.client("s3").list_objects_v2(Bucket="b-backups")

    list_b()
    # The account's role is the one created first: never deleted or recreated.
    assert admin_iam.get_role(RoleName="vmimport")["Role"]["RoleId"] == role_id
    # moto does not apply ManagedPolicy updates (its ManagedPolicy has no
    # update_from_cloudformation_json), so the role's new documents are judged
    # from the template that CloudFormation would apply: only B's bucket is left.
    text = json.dumps(
        [
            r["Properties"]["PolicyDocument"]
            for r in v3["Account"]["Resources"].values()
            if r["Type"] == "AWS::IAM::ManagedPolicy"
        ]
    )
    assert "b-backups" in text and "a-backups" not in text and "a2-backups" not in text
