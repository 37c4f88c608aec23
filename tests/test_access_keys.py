"""Access keys: rotation with overlap through two slots, serial semantics, encrypted secrets."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match

from restore_permissions import AccessKeySlot, RestorePermissions

from .conftest import Synthesized, new_app, synthesize_stack

A, B = AccessKeySlot.A, AccessKeySlot.B


def keys(**props: Any) -> Synthesized:
    return synthesize_stack(
        lambda stack: RestorePermissions(stack, "Restore", bucket="my-backups", **props)
    )


def of_type(synth: Synthesized, kind: str) -> dict[str, Any]:
    return synth.resources(kind)


def test_rotation_with_overlap_keeps_the_old_key_until_a_later_deploy() -> None:
    one, both, only_b = keys(), keys(access_key_slots=[A, B]), keys(access_key_slots=[B])
    key_ids = {
        name: set(of_type(s, "AWS::IAM::AccessKey"))
        for name, s in [("one", one), ("both", both), ("only_b", only_b)]
    }
    # Deploy 1 adds slot B: slot A's key and secret keep their logical ids, so they stay.
    assert key_ids["one"] < key_ids["both"]
    assert set(of_type(one, "AWS::SecretsManager::Secret")) < set(
        of_type(both, "AWS::SecretsManager::Secret")
    )
    # Deploy 2 removes slot A: only B's key is left, the one the tool now uses.
    assert key_ids["only_b"] == key_ids["both"] - key_ids["one"]
    outputs = both.template_json["Outputs"]
    assert {k for k in outputs if k.startswith("RestoreAccessKey")} == {
        "RestoreAccessKeyId41D71DC1",
        "RestoreAccessKeySecretArnF32AE871",
        *(k for k in outputs if k.startswith("RestoreAccessKeyB")),
    }
    assert len([k for k in outputs if k.startswith("RestoreAccessKeyB")]) == 2


def test_serial_zero_and_none_are_the_same_key() -> None:
    assert keys(access_key_serial=0).template_json == keys().template_json
    assert "Serial" not in next(iter(of_type(keys(), "AWS::IAM::AccessKey").values()))["Properties"]


def test_a_serial_warns_that_it_cuts_off_the_tool() -> None:
    synth = keys(access_key_serial=2)
    synth.template.has_resource_properties("AWS::IAM::AccessKey", {"Serial": 2})
    Annotations.from_stack(synth.stack).has_warning(
        "/Test/Restore",
        Match.string_like_regexp(
            "access_key_serial replaces the access key in the same deploy: .*a lower value "
            "than the deployed one replaces it too. Rotate with overlap through access_key_slots.*"
        ),
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"access_key_slots": [A, B], "access_key_serial": 2},
            "access_key_serial=2 is invalid with both access key slots: replacing a key creates "
            "the new one before deleting the old, and IAM allows two keys per user. Rotate by "
            "removing the old slot instead",
        ),
        (
            {"access_key_slots": []},
            "access_key_slots=[] is invalid: pass create_access_key=False for a user without keys",
        ),
        (
            {"access_key_slots": ["a"]},
            "access_key_slots=['a'] is invalid: pass a list of AccessKeySlot, for example "
            "[AccessKeySlot.A, AccessKeySlot.B]",
        ),
        (
            {"access_key_slots": [B], "create_access_key": False},
            "access_key_slots=[<AccessKeySlot.B: 'b'>] needs an access key: it is only valid with "
            "principal_type=PrincipalType.USER and create_access_key=True",
        ),
        (
            {"aws_managed_secret_key": True, "secret_encryption_key": "KEY"},
            "aws_managed_secret_key=True and secret_encryption_key exclude each other: pass one",
        ),
    ],
)
def test_bad_key_props(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "Test")
    if props.get("secret_encryption_key") == "KEY":
        props["secret_encryption_key"] = kms.Key(stack, "K", enable_key_rotation=True)
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Restore", bucket="my-backups", **props)
    assert str(error.value) == message


def test_secrets_use_one_customer_managed_key_per_stack() -> None:
    def build(stack: cdk.Stack) -> None:
        RestorePermissions(stack, "CustomerA", bucket="a-backups")
        RestorePermissions(stack, "CustomerB", bucket="b-backups", access_key_slots=[A, B])

    synth = synthesize_stack(build)
    (key_id,) = of_type(synth, "AWS::KMS::Key")
    key = synth.template_json["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Delete" and key["Properties"]["PendingWindowInDays"] == 30
    secrets = of_type(synth, "AWS::SecretsManager::Secret").values()
    assert len(secrets) == 3
    for secret in secrets:
        assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_the_aws_managed_key_is_a_documented_choice() -> None:
    synth = keys(aws_managed_secret_key=True)
    assert of_type(synth, "AWS::KMS::Key") == {}
    (secret,) = of_type(synth, "AWS::SecretsManager::Secret").values()
    assert "KmsKeyId" not in secret["Properties"]
