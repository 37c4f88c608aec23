"""Grants to the construct behave like grants to CDK's own iam.User and iam.Role.

Same account: the statement lands in the construct's managed policy only, never
in a bucket or key policy, and a bucket or key in another stack causes no
dependency cycle. Another account: the identity's policy gets the statement and
the resource policy names the identity, as CDK does for its own principals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from restore_permissions import (
    PrincipalType,
    RestoreIdentity,
    RestorePermissions,
    VmImportMode,
)

from .conftest import new_app

HOME = cdk.Environment(account="111122223333", region="eu-west-1")
OTHER = cdk.Environment(account="444455556666", region="eu-west-1")


#: Names known at synth, which grants to another account need (for CDK's own principals too).
NAME = "restore-agent"


def restore(stack: cdk.Stack, mode: PrincipalType) -> RestorePermissions:
    return RestorePermissions(
        stack,
        "R",
        bucket="my-backups",
        vm_import=VmImportMode.NONE,
        identity=RestoreIdentity.role(assumed_by=iam.AccountPrincipal("111122223333"), name=NAME)
        if mode is PrincipalType.ROLE
        # No key: its secret's KMS key would add a key policy iam.User does not have.
        else RestoreIdentity.user(name=NAME, access_keys=[]),
    )


def plain(stack: cdk.Stack, mode: PrincipalType) -> iam.IGrantable:
    if mode is PrincipalType.ROLE:
        return iam.Role(stack, "R", role_name=NAME, assumed_by=iam.AccountPrincipal("111122223333"))
    return iam.User(stack, "R", user_name=NAME)


Build = Callable[[cdk.Stack, PrincipalType], iam.IGrantable]


def grant_app(
    build: Build, mode: PrincipalType, *, storage_env: cdk.Environment | None, same_stack: bool
) -> dict[str, Any]:
    """Synthesize a bucket and key with read grants to ``build``'s principal; templates by stack."""
    app = new_app()
    restore_stack = cdk.Stack(app, "Restore", env=HOME)
    storage = restore_stack if same_stack else cdk.Stack(app, "Storage", env=storage_env)
    key = kms.Key(storage, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(
        storage, "Bucket", encryption_key=key, bucket_name=cdk.PhysicalName.GENERATE_IF_NEEDED
    )
    grantee = build(restore_stack, mode)
    bucket.grant_read(grantee)
    key.grant_decrypt(grantee)
    assembly = app.synth()
    return {stack.stack_name: stack.template for stack in assembly.stacks}


def resource_policies(templates: dict[str, Any]) -> list[Any]:
    """Every bucket policy and key policy statement in the app."""
    found = []
    for template in templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                found += resource["Properties"]["PolicyDocument"]["Statement"]
            if resource["Type"] == "AWS::KMS::Key":
                found += resource["Properties"]["KeyPolicy"]["Statement"]
    return found


def naming_the_identity(templates: dict[str, Any]) -> list[Any]:
    """Resource-policy statements whose principal is the user or role (not the account root)."""
    return [
        s
        for s in resource_policies(templates)
        if "Restore" in json.dumps(s.get("Principal")) or "GetAtt" in json.dumps(s.get("Principal"))
    ]


def restore_policy_actions(templates: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for logical_id, resource in templates["Restore"]["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and logical_id.startswith("RPolicy"):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if "Sid" not in statement:  # the grants, not the catalogue
                    action = statement["Action"]
                    actions |= set(action if isinstance(action, list) else [action])
    return actions


MODES = [PrincipalType.USER, PrincipalType.ROLE]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("same_stack", [True, False], ids=["same stack", "cross stack"])
def test_same_account_grants_land_only_in_the_managed_policy(
    mode: PrincipalType, same_stack: bool
) -> None:
    templates = grant_app(restore, mode, storage_env=HOME, same_stack=same_stack)
    assert naming_the_identity(templates) == []
    assert {"s3:GetObject*", "s3:List*", "kms:Decrypt"} <= restore_policy_actions(templates)
    # No inline policy on the user or role.
    assert not [
        r for r in templates["Restore"]["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
    ]
    if not same_stack:
        # The storage stack knows nothing of the restore stack: no cycle, no export to it.
        assert "Restore" not in json.dumps(templates["Storage"])


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("same_stack", [True, False], ids=["same stack", "cross stack"])
def test_resource_policies_match_what_cdk_writes_for_its_own_principals(
    mode: PrincipalType, same_stack: bool
) -> None:
    ours = grant_app(restore, mode, storage_env=HOME, same_stack=same_stack)
    theirs = grant_app(plain, mode, storage_env=HOME, same_stack=same_stack)
    assert len(resource_policies(ours)) == len(resource_policies(theirs))


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_cross_account_grants_trust_the_identity_in_the_resource_policy_like_cdk(
    mode: PrincipalType,
) -> None:
    ours = grant_app(restore, mode, storage_env=OTHER, same_stack=False)
    theirs = grant_app(plain, mode, storage_env=OTHER, same_stack=False)
    # The identity's own policy has the grant, and the resources trust it, as for iam.User/Role.
    assert {"s3:GetObject*", "kms:Decrypt"} <= restore_policy_actions(ours)
    assert [s for s in resource_policies(ours) if "111122223333" in json.dumps(s.get("Principal"))]
    assert len(resource_policies(ours)) == len(resource_policies(theirs))
    assert len(resource_policies(ours)) > len(
        resource_policies(grant_app(restore, mode, storage_env=HOME, same_stack=False))
    )
