"""What the construct puts in the template, variant by variant.

Expected action lists are typed here from the sources (KB 1025, the AWS VM
Import/Export guide, MSP360's granular S3 policy), not read from the catalogue.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    SecretEncryption,
    VmImportMode,
)
from restore_permissions.policy import iam_size

from .conftest import PSEUDO, Synthesized, actions_of, resolve_cfn, synthesize_stack
from .sources import (
    DEFAULT_PROFILE_ACTIONS,
    MSP360_BUCKET_ACTIONS,
    MSP360_OBJECT_ACL_WRITES,
    MSP360_OBJECT_ACTIONS,
)

PARTITION = {"Ref": "AWS::Partition"}
ACCOUNT = {"Ref": "AWS::AccountId"}

EXPECTED_BUCKET_ACTIONS = sorted(MSP360_BUCKET_ACTIONS)
EXPECTED_OBJECT_ACTIONS = sorted(MSP360_OBJECT_ACTIONS - MSP360_OBJECT_ACL_WRITES)
# The trust policy from the AWS VM Import/Export guide, with its confused-deputy hardening.
EXPECTED_VMIMPORT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vmie.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:Externalid": "vmimport", "aws:SourceAccount": ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": ["", ["arn:", PARTITION, ":vmie:*:", ACCOUNT, ":*"]]
                    }
                },
            },
        }
    ],
}


def restore_policy(synth: Synthesized) -> dict[str, Any]:
    """The restore identity's own managed policy, with the document of all its
    statements (its own and the stack's shared ones)."""
    (policy,) = [
        resource
        for logical_id, resource in synth.resources("AWS::IAM::ManagedPolicy").items()
        if not logical_id.startswith(("VmImportServiceRole", "RestorePermissionsShared"))
    ]
    document = synth.policy_document("identity")
    return {**policy, "Properties": {**policy["Properties"], "PolicyDocument": document}}


def shared_id(stack: cdk.Stack) -> str:
    """The id of the stack's (only) shared policy construct."""
    (shared,) = [
        c.node.id for c in stack.node.children if c.node.id.startswith("RestorePermissionsShared")
    ]
    return shared


def vmimport_policy(synth: Synthesized) -> dict[str, Any]:
    (policy,) = [
        resource
        for logical_id, resource in synth.resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("VmImportServiceRole")
    ]
    return policy


def logical_id(synth: Synthesized, resource_type: str) -> str:
    (only,) = synth.resources(resource_type)
    return only


def test_identity_policy_is_least_privilege(examples: dict[str, Synthesized]) -> None:
    document = restore_policy(examples["user_with_key"])["Properties"]["PolicyDocument"]
    assert actions_of(document) == DEFAULT_PROFILE_ACTIONS
    deployed = resolve_cfn(document, PSEUDO)
    by_sid = {statement["Sid"]: statement for statement in deployed["Statement"]}
    assert list(by_sid) == [
        "Ec2Describe",
        "Ec2LegacyImportCancel",
        "Ec2Import",
        "Ec2Launch",
        "Ec2CreateVolume",
        "Ec2ManageInstances",
        "Ec2TagOnCreate",
        "Ec2TagInstances",
        "Ec2NameImages",
        "AccountLists",
        "SpotServiceLinkedRole",
        "BackupBucket",
        "BackupObjects",
    ]
    assert by_sid["BackupBucket"]["Resource"] == "arn:aws:s3:::my-backups"
    assert by_sid["BackupObjects"]["Resource"] == "arn:aws:s3:::my-backups/*"
    assert sorted(by_sid["BackupBucket"]["Action"]) == EXPECTED_BUCKET_ACTIONS
    assert sorted(by_sid["BackupObjects"]["Action"]) == EXPECTED_OBJECT_ACTIONS
    assert "arn:aws:ec2:*:111122223333:instance/*" in by_sid["Ec2Launch"]["Resource"]
    assert by_sid["Ec2Describe"]["Resource"] == "*"
    assert by_sid["AccountLists"] == {
        "Sid": "AccountLists",
        "Effect": "Allow",
        "Action": ["iam:ListRoles", "s3:ListAllMyBuckets"],
        "Resource": "*",
    }


@pytest.mark.parametrize("variant", ["user_with_key", "role_with_external_id", "bucket_parameter"])
def test_no_literal_partition_and_no_broad_grants(
    examples: dict[str, Synthesized], variant: str
) -> None:
    text = json.dumps(examples[variant].template_json)
    assert "arn:aws:" not in text
    for broad in (
        '"s3:*"',
        '"ses:',
        '"sts:GetFederationToken"',
        '"ami:',
        '"iam:Put',
    ):
        assert broad not in text, broad
    # The one IAM write: the Spot service-linked role, conditioned on its service.
    assert set(re.findall(r'"iam:Create\w*"', text)) <= {'"iam:CreateServiceLinkedRole"'}


def test_user_mode_puts_the_policy_on_a_group(examples: dict[str, Synthesized]) -> None:
    synth = examples["user_with_key"]
    group = logical_id(synth, "AWS::IAM::Group")
    user = logical_id(synth, "AWS::IAM::User")
    assert synth.template_json["Resources"][user]["Properties"] == {"Groups": [{"Ref": group}]}
    assert restore_policy(synth)["Properties"]["Groups"] == [{"Ref": group}]
    assert "Roles" not in restore_policy(synth)["Properties"]
    synth.template.resource_count_is("AWS::IAM::Policy", 0)  # no inline policies at all


def test_access_key_secret_stays_in_secrets_manager(examples: dict[str, Synthesized]) -> None:
    synth = examples["user_with_key"]
    key = logical_id(synth, "AWS::IAM::AccessKey")
    user = logical_id(synth, "AWS::IAM::User")
    assert synth.template_json["Resources"][key]["Properties"] == {"UserName": {"Ref": user}}
    secret = synth.resources("AWS::SecretsManager::Secret")
    assert len(secret) == 1
    (secret_id,) = secret
    secret_string = json.dumps(secret[secret_id]["Properties"]["SecretString"])
    assert json.dumps({"Fn::GetAtt": [key, "SecretAccessKey"]}) in secret_string
    # The secret access key is referenced exactly once in the template: by the secret.
    assert json.dumps(synth.template_json).count('"SecretAccessKey"') == 1
    outputs = synth.template_json["Outputs"]
    assert "SecretAccessKey" not in json.dumps(outputs)
    key_id_output = [o for o in outputs.values() if o["Value"] == {"Ref": key}]
    secret_arn_output = [o for o in outputs.values() if o["Value"] == {"Ref": secret_id}]
    assert len(key_id_output) == 1 and len(secret_arn_output) == 1


def test_user_without_key(examples: dict[str, Synthesized]) -> None:
    synth = examples["user_without_key"]
    synth.template.resource_count_is("AWS::IAM::AccessKey", 0)
    synth.template.resource_count_is("AWS::SecretsManager::Secret", 0)
    synth.template.resource_count_is("AWS::IAM::User", 1)
    assert not [name for name in synth.template_json["Outputs"] if "AccessKey" in name]


def test_role_mode_trusts_the_account_with_an_external_id(examples: dict[str, Synthesized]) -> None:
    synth = examples["role_with_external_id"]
    synth.template.resource_count_is("AWS::IAM::User", 0)
    synth.template.resource_count_is("AWS::IAM::Group", 0)
    synth.template.resource_count_is("AWS::IAM::AccessKey", 0)
    roles = {
        logical_id: role
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if not logical_id.startswith("VmImportServiceRole")
    }
    ((role_id, role),) = roles.items()
    assert role["Properties"]["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": {"Fn::Join": ["", ["arn:", PARTITION, ":iam::111122223333:root"]]}
                },
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "restore-4f1c9a"}},
            }
        ],
    }
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    assert restore_policy(synth)["Properties"]["Roles"] == [{"Ref": role_id}]


def test_role_without_external_id_has_no_condition() -> None:
    def build(stack: cdk.Stack) -> None:
        RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            vm_import=VmImportMode.NONE,
            identity=RestoreIdentity.role(assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
        )

    synth = synthesize_stack(build)
    ((_, role),) = synth.resources("AWS::IAM::Role").items()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert "Condition" not in statement


def test_vmimport_role_is_created_as_documented(examples: dict[str, Synthesized]) -> None:
    synth = examples["user_with_key"]
    synth.template.has_resource_properties(
        "AWS::IAM::Role",
        {"RoleName": "vmimport", "AssumeRolePolicyDocument": EXPECTED_VMIMPORT_TRUST},
    )
    role_id = next(
        logical_id
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if role["Properties"].get("RoleName") == "vmimport"
    )
    policy = vmimport_policy(synth)["Properties"]
    assert policy["Roles"] == [{"Ref": role_id}]
    assert resolve_cfn(policy["PolicyDocument"]["Statement"], PSEUDO) == [
        {"Sid": "Ec2Describe", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
        {
            "Sid": "Ec2ImportSnapshots",
            "Effect": "Allow",
            "Action": ["ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:RegisterImage"],
            "Resource": ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*::snapshot/*"],
        },
        {
            "Sid": "BackupBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::my-backups",
        },
        {
            "Sid": "BackupObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-backups/*",
        },
    ]


def test_use_existing_attaches_a_bucket_policy_to_the_named_role(
    examples: dict[str, Synthesized],
) -> None:
    synth = examples["use_existing_vmimport"]
    assert not [
        role
        for role in synth.resources("AWS::IAM::Role").values()
        if role["Properties"].get("RoleName")
    ]
    policy = vmimport_policy(synth)["Properties"]
    assert policy["Roles"] == ["vmimport"]
    assert [s["Sid"] for s in policy["PolicyDocument"]["Statement"]] == [
        "BackupBucket",
        "BackupObjects",
    ]
    assert "ec2:" not in json.dumps(policy)
    (role_arn_output,) = [
        output
        for output in synth.template_json["Outputs"].values()
        if output["Description"] == "VM Import/Export service role ARN"
    ]
    assert role_arn_output["Value"] == {
        "Fn::Join": ["", ["arn:", PARTITION, ":iam::", ACCOUNT, ":role/vmimport"]]
    }


def test_none_leaves_vmimport_alone(examples: dict[str, Synthesized]) -> None:
    synth = examples["no_vmimport"]
    assert "vmimport" not in json.dumps(synth.template_json)
    # The identity's own policy and the stack's shared one.
    synth.template.resource_count_is("AWS::IAM::ManagedPolicy", 2)


def test_two_constructs_share_one_vmimport_role(two_in_one_stack: Synthesized) -> None:
    synth = two_in_one_stack
    vmimport_roles = [
        role
        for role in synth.resources("AWS::IAM::Role").values()
        if role["Properties"].get("RoleName") == "vmimport"
    ]
    assert len(vmimport_roles) == 1
    statements = vmimport_policy(synth)["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {statement["Sid"]: statement["Resource"] for statement in statements}
    assert by_sid["BackupBucket"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::customer-a-backups"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::customer-b-backups"},
    ]
    assert by_sid["BackupObjects"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::customer-a-backups/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::customer-b-backups/*"},
    ]
    synth.template.resource_count_is("AWS::IAM::User", 2)
    synth.template.resource_count_is("AWS::IAM::Group", 2)
    # One own policy each, one shared by both (same options), the vmimport role's.
    synth.template.resource_count_is("AWS::IAM::ManagedPolicy", 4)


def test_shared_vmimport_role_gets_one_output_per_stack(two_in_one_stack: Synthesized) -> None:
    outputs = two_in_one_stack.template_json["Outputs"]
    vm_import = [
        key
        for key, output in outputs.items()
        if output["Description"] == "VM Import/Export service role ARN"
    ]
    assert vm_import == ["RestorePermissionsVmImportRoleArn"]
    # ...while each construct keeps its own identity outputs.
    assert sum(o["Description"] == "Restore user ARN" for o in outputs.values()) == 2


def test_instance_profile_for_a_tool_on_ec2() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            identity=RestoreIdentity.role(
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"), instance_profile=True
            ),
        )
    )
    (role_id,) = [
        key
        for key, role in synth.resources("AWS::IAM::Role").items()
        if role["Properties"].get("RoleName") != "vmimport"
    ]
    role = synth.template_json["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    (profile,) = synth.resources("AWS::IAM::InstanceProfile").values()
    assert profile["Properties"] == {"Roles": [{"Ref": role_id}]}
    (profile_id,) = synth.resources("AWS::IAM::InstanceProfile")
    (output,) = [
        o
        for o in synth.template_json["Outputs"].values()
        if o["Description"].startswith("Instance profile")
    ]
    assert output["Value"] == {"Fn::GetAtt": [profile_id, "Arn"]}


def test_no_instance_profile_by_default(examples: dict[str, Synthesized]) -> None:
    examples["role_with_external_id"].template.resource_count_is("AWS::IAM::InstanceProfile", 0)


def test_outputs(examples: dict[str, Synthesized]) -> None:
    def described(variant: str) -> set[str]:
        return {o["Description"] for o in examples[variant].template_json["Outputs"].values()}

    common = {
        "Comma-separated ARNs of the restore managed policies",
        "VM Import/Export service role ARN",
    }
    assert described("user_with_key") == common | {
        "Restore user name",
        "Restore user ARN",
        "Access key id (the secret key is only in the Secrets Manager secret)",
        "Secrets Manager secret holding the access key",
    }
    assert described("user_without_key") == common | {"Restore user name", "Restore user ARN"}
    assert described("role_with_external_id") == common | {"Restore role name", "Restore role ARN"}
    assert described("no_vmimport") == {
        "Comma-separated ARNs of the restore managed policies",
        "Restore user name",
        "Restore user ARN",
        "Access key id (the secret key is only in the Secrets Manager secret)",
        "Secrets Manager secret holding the access key",
    }


def test_create_outputs_false_adds_none() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack, "Restore", bucket="my-backups", create_outputs=False
        )
    )
    assert "Outputs" not in synth.template_json


def test_bucket_created_in_the_stack_is_referenced_by_its_arn() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(stack, "Restore", bucket=s3.Bucket(stack, "Backups"))
    )
    bucket = logical_id(synth, "AWS::S3::Bucket")
    by_sid = {
        s["Sid"]: s for s in restore_policy(synth)["Properties"]["PolicyDocument"]["Statement"]
    }
    assert by_sid["BackupBucket"]["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    assert by_sid["BackupObjects"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]
    }


def test_grants_land_in_the_managed_policy_not_inline() -> None:
    def build(stack: cdk.Stack) -> None:
        restore = RestorePermissions(
            stack, "Restore", bucket="my-backups", vm_import=VmImportMode.NONE
        )
        s3.Bucket.from_bucket_name(stack, "Reports", "my-reports").grant_read(restore)

    synth = synthesize_stack(build)
    synth.template.resource_count_is("AWS::IAM::Policy", 0)
    statements = restore_policy(synth)["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 14  # the thirteen of the catalogue, and the grant
    (granted,) = [s for s in statements if "Sid" not in s]
    assert sorted(granted["Action"]) == ["s3:GetBucket*", "s3:GetObject*", "s3:List*"]
    assert "Policies" not in synth.resources("AWS::IAM::User")[
        logical_id(synth, "AWS::IAM::User")
    ].get("Properties", {})


def test_grants_that_fill_the_first_policy_leave_the_catalogue_to_an_extra_one() -> None:
    """Grants that take all the first policy's room: it holds only them, and every
    catalogue statement goes to the next policy, none over IAM's 6,144 characters."""
    grant = iam.PolicyStatement(actions=["s3:GetObject"], resources=[])
    while len(json.dumps(grant.to_statement_json(), separators=(",", ":"))) < 6_040:
        grant.add_resources(f"arn:aws:s3:::granted-{len(grant.resources):04d}-{'x' * 40}/*")

    def build(stack: cdk.Stack) -> None:
        restore = RestorePermissions(
            stack, "Restore", bucket="my-backups", vm_import=VmImportMode.NONE
        )
        restore.grant_principal.add_to_principal_policy(grant)

    synth = synthesize_stack(build)
    policies = {
        logical_id: resource["Properties"]["PolicyDocument"]
        for logical_id, resource in synth.resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("RestorePolicy")
    }
    first = next(document for logical_id, document in policies.items() if "2v" not in logical_id)
    assert [s.get("Sid") for s in first["Statement"]] == [None]
    placed = [s["Sid"] for d in policies.values() for s in d["Statement"] if "Sid" in s]
    assert len(placed) == len(set(placed)) > 1
    for document in policies.values():
        assert iam_size(resolve_cfn(document, PSEUDO)) <= 6_144


def test_access_key_serial_and_secret_key() -> None:
    def build(stack: cdk.Stack) -> None:
        key = kms.Key(stack, "SecretKey", enable_key_rotation=True)
        RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            identity=RestoreIdentity.user(
                access_key_serial=3, secret_encryption=SecretEncryption.customer_key(key)
            ),
        )

    synth = synthesize_stack(build)
    synth.template.has_resource_properties("AWS::IAM::AccessKey", {"Serial": 3})
    synth.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"KmsKeyId": {"Fn::GetAtt": [logical_id(synth, "AWS::KMS::Key"), "Arn"]}},
    )


def test_principal_name() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack,
            "Restore",
            bucket="my-backups",
            identity=RestoreIdentity.user(name="cloudberry-restore"),
        )
    )
    synth.template.has_resource_properties("AWS::IAM::User", {"UserName": "cloudberry-restore"})


def test_attributes() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Test")
    user_mode = RestorePermissions(stack, "User", bucket="my-backups")
    role_mode = RestorePermissions(
        stack,
        "Role",
        bucket="my-backups",
        identity=RestoreIdentity.role(assumed_by=iam.AccountRootPrincipal()),
    )
    assert isinstance(user_mode.user, iam.User) and user_mode.role is None
    assert isinstance(user_mode.group, iam.Group)
    assert user_mode.principal is user_mode.user
    assert isinstance(user_mode.access_key_secret, cdk.aws_secretsmanager.Secret)
    assert [p.node.path for p in user_mode.managed_policies] == [
        "Test/User/Policy",
        f"Test/{shared_id(stack)}/Policy",
    ]
    assert isinstance(role_mode.role, iam.Role) and role_mode.user is None
    assert role_mode.principal is role_mode.role and role_mode.access_key_secret is None
    assert user_mode.vm_import_role is role_mode.vm_import_role
    assert (
        user_mode.vm_import_role is not None
        and user_mode.vm_import_role.node.path == "Test/VmImportServiceRole/Role"
    )
    # IGrantable: the grant principal's policy fragment is the user's.
    assert stack.resolve(user_mode.grant_principal.policy_fragment.principal_json) == stack.resolve(
        user_mode.user.policy_fragment.principal_json
    )
    assert isinstance(
        iam.Grant.add_to_principal(
            grantee=role_mode, actions=["s3:GetObject"], resource_arns=["*"]
        ),
        iam.Grant,
    )


def test_logical_ids_of_l1_children_are_fixed(examples: dict[str, Synthesized]) -> None:
    paths = {
        resource["Metadata"]["aws:cdk:path"]
        for resource in examples["user_with_key"].template_json["Resources"].values()
    }
    assert paths == {
        "RestorePermissions/Restore/Policy/Resource",
        "RestorePermissions/Restore/Group/Resource",
        "RestorePermissions/Restore/User/Resource",
        "RestorePermissions/Restore/AccessKey/Resource",
        "RestorePermissions/Restore/AccessKeySecret/Resource",
        f"RestorePermissions/{shared_id(examples['user_with_key'].stack)}/Policy/Resource",
        "RestorePermissions/RestorePermissionsSecretKey/Resource",
        "RestorePermissions/VmImportServiceRole/Role/Resource",
        "RestorePermissions/VmImportServiceRole/Policy/Resource",
    }


def test_bucket_parameter_variant_references_the_parameter(
    examples: dict[str, Synthesized],
) -> None:
    synth = examples["bucket_parameter"]
    by_sid = {
        s["Sid"]: s for s in restore_policy(synth)["Properties"]["PolicyDocument"]["Statement"]
    }
    assert by_sid["BackupBucket"]["Resource"] == {
        "Fn::Join": ["", ["arn:", PARTITION, ":s3:::", {"Ref": "BucketName"}]]
    }
    synth.template.has_parameter(
        "BucketName",
        {"Type": "String", "MinLength": 3, "MaxLength": 63, "AllowedPattern": Match.any_value()},
    )


def deployed_size(document: object) -> int:
    """IAM's count for a template policy, with pseudo parameters as deployed."""
    deployed = resolve_cfn(document, PSEUDO)
    assert "Fn::" not in json.dumps(deployed) and "Ref" not in json.dumps(deployed), deployed
    return iam_size(deployed)


def test_managed_policies_fit_the_iam_quota(
    examples: dict[str, Synthesized], two_in_one_stack: Synthesized
) -> None:
    for synth in [*examples.values(), two_in_one_stack]:
        if synth is examples["bucket_parameter"]:
            continue  # the bucket name is a parameter; see the literal variants
        for policy in synth.resources("AWS::IAM::ManagedPolicy").values():
            assert deployed_size(policy["Properties"]["PolicyDocument"]) < 6144
