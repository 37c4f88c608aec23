"""The action catalogue and the policies it renders: pure Python, no CDK."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from restore_permissions.policy import (
    KB1025_CORRECTIONS,
    KB1025_PUBLISHED_ACTIONS,
    REASONS,
    VM_IMPORT_ROLE_REASONS,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    ResourceType,
    StatementSpec,
    iam_size,
    identity_policy,
    kb1025_corrected_actions,
    kb1025_correction_notes,
    plan_documents,
    policy_document,
    render_statements,
    vm_import_role_policy,
    vm_import_trust_policy,
)

from .conftest import actions_of
from .sources import (
    DEFAULT_PROFILE_ACTIONS,
    EBS_ENCRYPTION_CALLER_KMS_ACTIONS,
    KB1025_CORRECTED_ACTIONS,
    MSP360_BUCKET_ACTIONS,
    MSP360_OBJECT_ACL_WRITES,
    MSP360_OBJECT_ACTIONS,
    VM_IMPORT_GUIDE_ROLE_KMS_ACTIONS,
)

ACCOUNT = "111122223333"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def all_options() -> Iterator[PolicyOptions]:
    """Every profile and option combination (regions: none, one, several)."""
    for regions, tag, federation, email in itertools.product(
        [(), ("eu-west-1",), ("us-east-1", "eu-central-1")],
        [None, ("restore", "cloudberry")],
        [False, True],
        [False, True],
    ):
        yield PolicyOptions(
            allowed_regions=regions,
            instance_tag=tag,
            federation=federation,
            email_notifications=email,
        )
    for regions in [(), ("eu-west-1",), ("us-east-1", "eu-central-1")]:
        yield PolicyOptions(profile=PolicyProfile.KB1025, allowed_regions=regions)


def render(options: PolicyOptions, *, kms: bool = False, **arns: Any) -> dict[str, Any]:
    arns.setdefault("account", ACCOUNT)
    return identity_policy(
        options,
        PolicyTargets.for_buckets(
            ["my-backups"],
            kms_key_arns=[KEY] if kms else [],
            regions=options.allowed_regions,
            **arns,
        ),
    )


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in document["Statement"] if s["Sid"] == sid]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_catalogue_imports_without_cdk() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, restore_permissions.policy, restore_permissions.bucket_names; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_kb1025_corrections() -> None:
    assert set(kb1025_corrected_actions()) == KB1025_CORRECTED_ACTIONS
    assert dict(KB1025_CORRECTIONS) == {
        "ami:ListRoles": "iam:ListRoles",
        "ami:CancelImportTasks": "ec2:CancelImportTask",
        "ec2:CancelImportTasks": "ec2:CancelImportTask",
    }
    assert kb1025_correction_notes() == [
        "ami:ListRoles is not an IAM action; granted iam:ListRoles instead",
        "ami:CancelImportTasks is not an IAM action; granted ec2:CancelImportTask instead",
        "ec2:CancelImportTasks is not an IAM action; granted ec2:CancelImportTask instead",
        "listed twice, granted once: ec2:RunInstances, ec2:StartInstances",
    ]


@pytest.mark.parametrize("options", list(all_options()), ids=repr)
def test_no_invalid_kb1025_action_in_any_combination(options: PolicyOptions) -> None:
    granted = actions_of(render(options, kms=True))
    assert not granted & set(KB1025_CORRECTIONS)
    assert not any(action.startswith("ami:") for action in granted)


#: What a restore-only identity may not do to the backups (issue: blast radius).
BACKUP_WRITES = frozenset(
    {
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:ListBucketMultipartUploads",
        "s3:ListMultipartUploadParts",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutObject",
        "kms:GenerateDataKey",
    }
)


def test_least_privilege_grants_kb1025_corrected_plus_the_restore_paths_it_misses() -> None:
    granted = actions_of(render(PolicyOptions()))
    assert granted == DEFAULT_PROFILE_ACTIONS


def test_object_acl_writes_is_the_only_way_to_the_acl_writes() -> None:
    default = actions_of(render(PolicyOptions()))
    opted_in = actions_of(render(PolicyOptions(object_acl_writes=True)))
    assert opted_in - default == MSP360_OBJECT_ACL_WRITES


def test_restore_only_drops_every_backup_write_and_nothing_else() -> None:
    default = actions_of(render(PolicyOptions(), kms=True))
    restore_only = actions_of(render(PolicyOptions(restore_only=True), kms=True))
    assert default - restore_only == BACKUP_WRITES
    assert restore_only <= default


def test_least_privilege_has_no_broad_actions() -> None:
    document = render(PolicyOptions(), kms=True)
    for action in actions_of(document):
        service, name = action.split(":")
        assert "*" not in name, action
        assert service not in ("ses", "sts"), action
        if service == "iam":
            # The one write: the Spot service-linked role, conditioned on the service.
            assert name.startswith("List") or name == "CreateServiceLinkedRole", action


def test_s3_rights_are_msp360s_granular_list_without_its_acl_writes_by_default() -> None:
    document = render(PolicyOptions())
    assert set(statement(document, "BackupBucket")["Action"]) == MSP360_BUCKET_ACTIONS
    assert statement(document, "BackupBucket")["Resource"] == "arn:aws:s3:::my-backups"
    objects = set(statement(document, "BackupObjects")["Action"])
    assert objects == MSP360_OBJECT_ACTIONS - MSP360_OBJECT_ACL_WRITES
    assert statement(document, "BackupObjects")["Resource"] == "arn:aws:s3:::my-backups/*"
    opted_in = render(PolicyOptions(object_acl_writes=True))
    assert set(statement(opted_in, "BackupObjectAcls")["Action"]) == MSP360_OBJECT_ACL_WRITES
    assert statement(opted_in, "BackupObjectAcls")["Resource"] == "arn:aws:s3:::my-backups/*"


def test_only_actions_without_resource_types_are_on_any_resource() -> None:
    document = render(PolicyOptions(federation=True, email_notifications=True), kms=True)
    on_any = {
        action
        for s in document["Statement"]
        if s["Resource"] == "*"
        for action in as_list(s["Action"])
    }
    # Typed from the Service Authorization Reference; the dataset test checks it too.
    assert on_any == {
        "ec2:CancelConversionTask",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeConversionTasks",
        "ec2:DescribeImages",
        "ec2:DescribeImportImageTasks",
        "ec2:DescribeImportSnapshotTasks",
        "ec2:DescribeInstances",
        "ec2:DescribeKeyPairs",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSubnets",
        "ec2:DescribeVolumes",
        "iam:ListRoles",
        "s3:ListAllMyBuckets",
    }


def test_scoped_ec2_arns_carry_partition_account_and_region() -> None:
    document = render(PolicyOptions(allowed_regions=("eu-west-1",)), partition="aws-cn")
    launch = statement(document, "Ec2Launch")
    assert "arn:aws-cn:ec2:eu-west-1:111122223333:instance/*" in launch["Resource"]
    # Images and snapshots have no account: a launch may use a public AMI.
    assert "arn:aws-cn:ec2:eu-west-1::image/*" in launch["Resource"]
    assert "arn:aws-cn:ec2:eu-west-1::snapshot/*" in launch["Resource"]
    assert launch["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}


def test_several_regions_go_into_the_condition() -> None:
    document = render(PolicyOptions(allowed_regions=("us-east-1", "eu-central-1", "us-east-1")))
    for s in document["Statement"]:
        actions = as_list(s["Action"])
        if all(a.startswith("ec2:") for a in actions):
            assert s["Condition"]["StringEquals"]["aws:RequestedRegion"] == [
                "us-east-1",
                "eu-central-1",
            ]
            assert all(r == "*" or r.startswith("arn:aws:ec2:*:") for r in as_list(s["Resource"]))
        elif s["Sid"] == "SpotServiceLinkedRole":
            assert s["Condition"] == {"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}}
        else:
            assert "Condition" not in s, s["Sid"]


def test_without_account_the_policy_variable_is_used() -> None:
    document = identity_policy(PolicyOptions(), PolicyTargets.for_buckets(["my-backups"]))
    assert (
        "arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*"
        in statement(document, "Ec2Launch")["Resource"]
    )


def test_instance_tag_guard() -> None:
    document = render(PolicyOptions(instance_tag=("restore", "cloudberry")))
    create = statement(document, "Ec2CreateTagged")
    assert create["Action"] == [
        "ec2:CreateVolume",
        "ec2:ImportImage",
        "ec2:ImportSnapshot",
        "ec2:RunInstances",
    ]
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/restore": "cloudberry"}}
    assert "arn:aws:ec2:*:111122223333:instance/*" in create["Resource"]
    manage = statement(document, "Ec2ManageTagged")
    assert {
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:TerminateInstances",
        "ec2:MonitorInstances",
        "ec2:ModifyInstanceAttribute",
        "ec2:CreateTags",
        "ec2:CancelImportTask",
    } == set(manage["Action"])
    assert manage["Condition"] == {
        "StringEquals": {"aws:ResourceTag/restore": "cloudberry"},
        "Null": {"ec2:InstanceProfile": "true"},
    }
    tag_on_create = statement(document, "Ec2TagOnCreate")
    assert tag_on_create["Condition"] == {
        "StringEquals": {
            "ec2:CreateAction": ["CreateVolume", "ImportImage", "ImportSnapshot", "RunInstances"]
        }
    }
    # Naming an imported AMI: only a request that adds the tag.
    assert statement(document, "Ec2TagImports") == {
        "Sid": "Ec2TagImports",
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": "arn:aws:ec2:*::image/*",
        "Condition": {"StringEquals": {"aws:RequestTag/restore": "cloudberry"}},
    }
    # Nothing grants a launch or instance control on instances without the tag.
    for s in document["Statement"]:
        if s["Sid"] in ("Ec2CreateTagged", "Ec2ManageTagged", "Ec2TagOnCreate"):
            continue
        if "arn:aws:ec2:*:111122223333:instance/*" in as_list(s["Resource"]):
            pytest.fail(f"{s['Sid']} grants instances without the tag condition")
    # A launch's volumes need no tag: the instance's decides, as in Elastic
    # Disaster Recovery's policy; CreateVolume itself stays guarded.
    use = statement(document, "Ec2UseResources")
    assert "arn:aws:ec2:*:111122223333:volume/*" in use["Resource"]
    assert "ec2:CreateVolume" not in use["Action"] and "Condition" not in use
    # Cannot tag what they create, or what they launch: not granted.
    for action in ("ec2:ImportInstance", "ec2:ImportVolume", "ec2:RequestSpotInstances"):
        assert action not in actions_of(document), action


def test_kb1025_profile_is_the_vendor_policy_bucket_scoped() -> None:
    document = render(PolicyOptions(profile=PolicyProfile.KB1025))
    assert statement(document, "Kb1025Bucket") == {
        "Sid": "Kb1025Bucket",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::my-backups",
    }
    assert statement(document, "Kb1025Objects")["Resource"] == "arn:aws:s3:::my-backups/*"
    assert statement(document, "Kb1025Email")["Action"] == "ses:*"
    assert statement(document, "Kb1025Federation")["Action"] == "sts:GetFederationToken"
    ec2 = set(statement(document, "Kb1025Ec2")["Action"]) | set(
        statement(document, "Kb1025Lists")["Action"]
    )
    assert ec2 == KB1025_CORRECTED_ACTIONS


def test_opt_ins() -> None:
    document = render(PolicyOptions(federation=True, email_notifications=True))
    assert statement(document, "Federation") == {
        "Sid": "Federation",
        "Effect": "Allow",
        "Action": "sts:GetFederationToken",
        "Resource": "arn:aws:sts::111122223333:federated-user/*",
    }
    assert statement(document, "EmailNotifications")["Action"] == [
        "ses:SendEmail",
        "ses:SendRawEmail",
    ]
    assert (
        statement(document, "EmailNotifications")["Resource"]
        == "arn:aws:ses:*:111122223333:identity/*"
    )


@pytest.mark.parametrize("profile", list(PolicyProfile))
def test_kms_actions_on_the_key_only_through_s3_and_ebs(profile: PolicyProfile) -> None:
    document = render(PolicyOptions(profile=profile, allowed_regions=("eu-west-1",)), kms=True)
    assert statement(document, "BackupKeyViaS3") == {
        "Sid": "BackupKeyViaS3",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": KEY,
        # The bucket's Region is not the EC2 Regions' business.
        "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
    }
    ebs = statement(document, "BackupKeyViaEbs")
    assert ebs["Resource"] == KEY
    assert ebs["Condition"] == {"StringLike": {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}
    assert statement(document, "BackupKeyGrants") == {
        "Sid": "BackupKeyGrants",
        "Effect": "Allow",
        "Action": "kms:CreateGrant",
        "Resource": KEY,
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    identity_kms = {a for a in actions_of(document) if a.startswith("kms:")}
    assert identity_kms == EBS_ENCRYPTION_CALLER_KMS_ACTIONS | {"kms:GenerateDataKey"}
    assert "kms:Encrypt" not in identity_kms
    role = vm_import_role_policy(
        PolicyTargets.for_buckets(["my-backups"], account=ACCOUNT, kms_key_arns=[KEY])
    )
    assert statement(role, "BackupKey") == {
        "Sid": "BackupKey",
        "Effect": "Allow",
        "Action": sorted(VM_IMPORT_GUIDE_ROLE_KMS_ACTIONS),
        "Resource": KEY,
    }


def test_kms_via_service_follows_the_partition() -> None:
    document = identity_policy(
        PolicyOptions(),
        PolicyTargets.for_buckets(["b-1"], partition="aws-cn", account=ACCOUNT, kms_key_arns=[KEY]),
    )
    assert statement(document, "BackupKeyViaS3")["Condition"] == {
        "StringLike": {"kms:ViaService": "s3.*.amazonaws.com.cn"}
    }
    assert statement(document, "BackupKeyViaEbs")["Condition"] == {
        "StringLike": {"kms:ViaService": "ec2.*.amazonaws.com.cn"}
    }


def test_kb1025_keeps_allowed_regions_on_its_ec2_statement() -> None:
    document = render(PolicyOptions(profile=PolicyProfile.KB1025, allowed_regions=("eu-west-1",)))
    assert statement(document, "Kb1025Ec2")["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}
    }


def test_vm_import_role_policy_and_trust_follow_the_aws_guide() -> None:
    role = vm_import_role_policy(PolicyTargets.for_buckets(["my-backups"], account=ACCOUNT))
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in role["Statement"]] == [
        ("Ec2Describe", "ec2:Describe*", "*"),
        (
            "Ec2ImportSnapshots",
            ["ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:RegisterImage"],
            ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*::snapshot/*"],
        ),
        ("BackupBucket", ["s3:GetBucketLocation", "s3:ListBucket"], "arn:aws:s3:::my-backups"),
        ("BackupObjects", "s3:GetObject", "arn:aws:s3:::my-backups/*"),
    ]
    existing = vm_import_role_policy(
        PolicyTargets.for_buckets(["my-backups"], account=ACCOUNT), existing_role=True
    )
    assert [s["Sid"] for s in existing["Statement"]] == ["BackupBucket", "BackupObjects"]
    assert vm_import_trust_policy("aws", ACCOUNT)["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vmie.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:Externalid": "vmimport", "aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:vmie:*:{ACCOUNT}:*"},
            },
        }
    ]


@pytest.mark.parametrize("reasons", [REASONS, VM_IMPORT_ROLE_REASONS], ids=["identity", "vmimport"])
def test_every_reason_is_one_line(reasons: dict[str, Any]) -> None:
    for action, reason in reasons.items():
        assert reason.why.strip() and "\n" not in reason.why, action
        assert reason.why.endswith("."), action


def test_an_action_without_a_reason_cannot_be_rendered() -> None:
    with pytest.raises(KeyError, match="ec2:DeleteVpc"):
        render_statements(
            [StatementSpec("X", ("ec2:DeleteVpc",), (ResourceType.ANY,))],
            PolicyTargets.for_buckets(["b-1"]),
        )


ALL_COMMERCIAL_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
    "mx-central-1",
]


def largest(regions: list[str]) -> dict[str, Any]:
    """Every option, the longest partition, a 63-character bucket name and a KMS key."""
    options = PolicyOptions(
        allowed_regions=tuple(regions),
        instance_tag=("restore-permissions/restored-by", "cloudberry-backup"),
        federation=True,
        email_notifications=True,
    )
    return identity_policy(
        options,
        PolicyTargets.for_buckets(
            ["b" * 63], partition="aws-us-gov", account=ACCOUNT, kms_key_arns=[KEY], regions=regions
        ),
    )


def test_largest_combination_fits_one_managed_policy_with_ten_regions() -> None:
    # IAM counts characters without whitespace. Each allowed Region repeats in
    # the aws:RequestedRegion condition of each of the seven EC2 statements.
    size = iam_size(largest(ALL_COMMERCIAL_REGIONS[:10]))
    assert size <= 6144, size


def test_past_ten_regions_the_largest_combination_splits_into_policies_that_fit() -> None:
    document = largest(ALL_COMMERCIAL_REGIONS)
    assert iam_size(document) > 6144
    parts = plan_documents(document["Statement"])
    assert len(parts) == 2
    for part in parts:
        assert iam_size(policy_document(part)) <= 6144
    assert [s for part in parts for s in part] == document["Statement"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"allowed_regions": ("us-east-1", "US-EAST-1")},
            "allowed_regions contains 'US-EAST-1', which is not an AWS Region name "
            "(for example 'us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-west-1')",
        ),
        (
            {"profile": PolicyProfile.KB1025, "federation": True},
            "federation is only valid with PolicyProfile.least_privilege(...): "
            "PolicyProfile.kb1025(...) grants exactly what the vendor article grants",
        ),
        (
            {"profile": PolicyProfile.KB1025, "instance_tag": ("a", "b")},
            "instance_tag is only valid with PolicyProfile.least_privilege(...): "
            "PolicyProfile.kb1025(...) grants exactly what the vendor article grants",
        ),
        (
            {"instance_tag": ("aws:restore", "x")},
            "instance_tag key 'aws:restore' is invalid: tag keys are 1 to 128 characters of "
            "letters, digits, spaces and _.:/=+-@, and may not start with 'aws:'",
        ),
        (
            {"instance_tag": ("restore", "x" * 257)},
            f"instance_tag value '{'x' * 257}' is invalid: tag values are 0 to 256 "
            "characters of letters, digits, spaces and _.:/=+-@",
        ),
        (
            {"instance_tag": ("restore",)},
            "instance_tag=('restore',) is invalid: use a (key, value) tuple of str",
        ),
        (
            {"profile": "kb1025"},
            "profile='kb1025' is invalid: use PolicyProfile.LEAST_PRIVILEGE or PolicyProfile.KB1025 "
            "here; RestorePermissions(profile=...) takes PolicyProfile.least_privilege(...) or "
            "PolicyProfile.kb1025(...)",
        ),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        PolicyOptions(**options)
    assert str(error.value) == message


def test_published_actions_are_the_article_as_published() -> None:
    assert len(KB1025_PUBLISHED_ACTIONS) == 24
    assert KB1025_PUBLISHED_ACTIONS.count("ec2:RunInstances") == 2
