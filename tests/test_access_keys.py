"""Access keys: rotation with overlap through two slots, serial semantics, encrypted secrets."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from restore_permissions import (
    AccessKeySlot,
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
    SecretEncryption,
)

from .conftest import Synthesized, new_app, synthesize_stack

A, B = AccessKeySlot.A, AccessKeySlot.B


def keys(**user: Any) -> Synthesized:
    """A stack with one RestorePermissions whose user has ``user``'s options."""
    return synthesize_stack(
        lambda stack: RestorePermissions(
            stack, "Restore", bucket="my-backups", identity=RestoreIdentity.user(**user)
        )
    )


def of_type(synth: Synthesized, kind: str) -> dict[str, Any]:
    return synth.resources(kind)


def test_rotation_with_overlap_keeps_the_old_key_until_a_later_deploy() -> None:
    one, both, only_b = keys(), keys(access_keys=[A, B]), keys(access_keys=[B])
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
    ("user", "message"),
    [
        (
            {"access_keys": [A, B], "access_key_serial": 2},
            "Test/Restore: access_key_serial=2 is invalid with both access key slots: replacing a "
            "key creates the new one before deleting the old, and IAM allows two keys per user. "
            "Rotate by removing the old slot instead",
        ),
        (
            {"access_keys": [B], "access_key_serial": 2},
            "Test/Restore: access_key_serial=2 needs slot A's access key: it replaces that key; "
            "pass access_keys=[AccessKeySlot.A]",
        ),
        (
            {"access_keys": ["a"]},
            "Test/Restore: access_keys=['a'] is invalid: pass a list of AccessKeySlot, for example "
            "[AccessKeySlot.A, AccessKeySlot.B], or [] for none",
        ),
        (
            {"access_key_serial": -1},
            "Test/Restore: access_key_serial=-1 is invalid: it must be an int >= 0",
        ),
    ],
)
def test_bad_key_values(user: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "Test")
    with pytest.raises(RestorePermissionsError) as error:
        RestorePermissions(
            stack, "Restore", bucket="my-backups", identity=RestoreIdentity.user(**user)
        )
    assert str(error.value) == message
    assert error.value.path == "Test/Restore"
    assert isinstance(error.value, ValueError)


def test_no_access_key() -> None:
    synth = keys(access_keys=[])
    assert of_type(synth, "AWS::IAM::AccessKey") == {}
    assert of_type(synth, "AWS::KMS::Key") == {}


def test_secrets_use_one_customer_managed_key_per_stack() -> None:
    def build(stack: cdk.Stack) -> None:
        RestorePermissions(stack, "CustomerA", bucket="a-backups")
        RestorePermissions(
            stack,
            "CustomerB",
            bucket="b-backups",
            identity=RestoreIdentity.user(access_keys=[A, B]),
        )

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
    synth = keys(secret_encryption=SecretEncryption.aws_managed_key())
    assert of_type(synth, "AWS::KMS::Key") == {}
    (secret,) = of_type(synth, "AWS::SecretsManager::Secret").values()
    assert "KmsKeyId" not in secret["Properties"]
