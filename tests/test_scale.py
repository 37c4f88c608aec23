"""Many buckets, many customers: splitting, limits, stable logical ids, a shared vmimport role."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    VmImportMode,
)
from restore_permissions.policy import iam_size

from .conftest import PSEUDO, Synthesized, new_app, resolve_cfn, synthesize, synthesize_stack

# The longest partition name: policies must fit wherever they are deployed.
GOV = {**PSEUDO, "AWS::Partition": "aws-us-gov"}


def names(count: int) -> list[str]:
    return [f"customer-{i:04d}-backups" for i in range(count)]


def documents(synth: Synthesized, prefix: str) -> dict[str, dict[str, Any]]:
    """Resolved policy documents of the policies whose logical id starts with ``prefix``."""
    return {
        logical_id: resolve_cfn(resource["Properties"]["PolicyDocument"], GOV)
        for logical_id, resource in synth.resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith(prefix)
    }


def shared_policies(synth: Synthesized) -> list[str]:
    """Logical ids of the stack's shared policies."""
    return [
        k
        for k in synth.resources("AWS::IAM::ManagedPolicy")
        if k.startswith("RestorePermissionsShared")
    ]


def resources_of(docs: dict[str, dict[str, Any]], sid_prefix: str) -> list[str]:
    return [
        resource
        for document in docs.values()
        for statement in document["Statement"]
        if re.fullmatch(sid_prefix + r"\d*", statement.get("Sid", ""))
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]


def test_bucket_buckets_and_add_bucket_all_reach_both_policies() -> None:
    def build(stack: cdk.Stack) -> None:
        restore = RestorePermissions(
            stack, "Restore", bucket="bucket-a", buckets=["bucket-b", "bucket-c"]
        )
        restore.add_bucket("bucket-d")

    synth = synthesize_stack(build)
    expected = [f"arn:aws-us-gov:s3:::bucket-{x}" for x in "abcd"]
    assert sorted(resources_of(documents(synth, "RestorePolicy"), "BackupBucket")) == expected
    assert sorted(resources_of(documents(synth, "VmImportServiceRole"), "BackupBucket")) == expected
    assert sorted(resources_of(documents(synth, "RestorePolicy"), "BackupObjects")) == [
        f"{a}/*" for a in expected
    ]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "bucket or buckets is required: pass the backup bucket (an s3.IBucket or its name)"),
        (
            {"buckets": "bucket-a"},
            "buckets='bucket-a' is invalid: pass a list of buckets, for example ['bucket-a']",
        ),
        (
            {"buckets": ["bucket-a", "Bucket_B"]},
            "buckets[1]='Bucket_B' is not a valid S3 bucket name: it contains 'B', '_'; only lowercase "
            "letters, digits, '.' and '-' are allowed. If this is a legacy bucket created in us-east-1 "
            "before 1 March 2018 (uppercase letters, underscores, up to 255 characters), pass "
            "legacy_bucket_name=True.",
        ),
        (
            {"bucket": "bucket-a", "max_managed_policies": 21},
            "max_managed_policies=21 is invalid: IAM allows 1 to 20 managed policies per user, group "
            "or role (10 by default)",
        ),
        (
            {"bucket": "bucket-a", "max_managed_policies": 0},
            "max_managed_policies=0 is invalid: IAM allows 1 to 20 managed policies per user, group "
            "or role (10 by default)",
        ),
    ],
)
def test_bad_bucket_lists_and_limits(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "Test")
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Restore", **props)
    assert str(error.value) == f"Test/Restore: {message}"
    assert stack.node.try_find_child("Restore") is None


def test_add_bucket_checks_the_name() -> None:
    restore = RestorePermissions(cdk.Stack(new_app(), "Test"), "Restore", bucket="bucket-a")
    with pytest.raises(ValueError) as error:
        restore.add_bucket("s3://bucket-b")
    assert str(error.value) == (
        "Test/Restore: bucket='s3://bucket-b' is not a valid S3 bucket name: it is a URL; pass "
        "the bucket name alone (for example 'bucket-b')."
    )


@pytest.fixture(scope="module")
def three_hundred_buckets() -> Synthesized:
    return synthesize_stack(lambda stack: RestorePermissions(stack, "Restore", buckets=names(300)))


def test_policies_split_to_fit_the_quota(three_hundred_buckets: Synthesized) -> None:
    synth = three_hundred_buckets
    identity = documents(synth, "RestorePolicy")
    vmimport = documents(synth, "VmImportServiceRole")
    assert len(identity) > 1 and len(vmimport) > 1
    for document in [*identity.values(), *vmimport.values()]:
        assert iam_size(document) <= 6144
    expected = sorted(f"arn:aws-us-gov:s3:::{n}" for n in names(300))
    for docs in (identity, vmimport):
        assert sorted(resources_of(docs, "BackupBucket")) == expected
        assert sorted(resources_of(docs, "BackupObjects")) == [f"{a}/*" for a in expected]
        sids = [s["Sid"] for d in docs.values() for s in d["Statement"]]
        assert len(sids) == len(set(sids))  # parts are numbered


def test_split_policies_are_all_attached_and_output(three_hundred_buckets: Synthesized) -> None:
    synth = three_hundred_buckets
    group = next(iter(synth.resources("AWS::IAM::Group")))
    identity = {
        k: v
        for k, v in synth.resources("AWS::IAM::ManagedPolicy").items()
        if k.startswith("RestorePolicy")
    }
    paths = sorted(p["Metadata"]["aws:cdk:path"] for p in identity.values())
    # The extras are named after their number and content (see test_update_order.py).
    assert paths[0] == "Test/Restore/Policy/Resource"
    assert [re.fullmatch(r"Test/Restore/Policy(\d+)v[0-9a-f]{8}/Resource", p) for p in paths[1:]]
    assert sorted(
        int(m.group(1))
        for p in paths[1:]
        if (m := re.fullmatch(r"Test/Restore/Policy(\d+)v[0-9a-f]{8}/Resource", p))
    ) == list(range(2, len(identity) + 1))
    first = next(k for k, v in identity.items() if v["Metadata"]["aws:cdk:path"] == paths[0])
    # The first policy waits for its extras and for the stack's shared policy.
    assert sorted(identity[first]["DependsOn"]) == sorted(
        [*(k for k in identity if k != first), *shared_policies(synth)]
    )
    for policy in identity.values():
        assert policy["Properties"]["Groups"] == [{"Ref": group}]
    (output,) = [
        o
        for o in synth.template_json["Outputs"].values()
        if o["Description"].startswith("Comma-separated")
    ]
    shared = shared_policies(synth)
    assert output["Value"] == {
        "Fn::Join": [",", [{"Ref": logical_id} for logical_id in [*identity, *shared]]]
    }


@pytest.mark.parametrize(
    "pack", [AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks]
)
def test_split_policies_pass_the_four_packs(three_hundred_buckets: Synthesized, pack: Any) -> None:
    assert [v.rule_name for v in pack().validate_scope(three_hundred_buckets.app).violations] == []


def test_too_many_buckets_for_the_policy_quota_fail_at_construction() -> None:
    stack = cdk.Stack(new_app(), "Test")
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Restore", buckets=names(1000))
    assert re.fullmatch(
        r"Test/Restore: 1000 buckets need about (1[1-9]) managed policies of 6,144 characters for the "
        r"restore identity \(with the stack's shared one\), more than max_managed_policies=10\. "
        r"Spread the buckets over several RestorePermissions \(one per customer\), or raise "
        r"max_managed_policies \(at most 20\) after raising the IAM quota 'Managed policies per "
        r"user, group or role'\.",
        str(error.value),
    ), str(error.value)


def test_a_thousand_buckets_fit_twenty_policies() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack, "Restore", buckets=names(1000), max_managed_policies=20
        )
    )
    for prefix in ("RestorePolicy", "VmImportServiceRole"):
        docs = documents(synth, prefix)
        assert 10 < len(docs) <= 20
        assert max(iam_size(d) for d in docs.values()) <= 6144
        assert len(resources_of(docs, "BackupObjects")) == 1000


def test_outputs_past_200_fail_before_the_construct_is_added() -> None:
    stack = cdk.Stack(new_app(), "Test")
    # 5 outputs each (user name and ARN, policy ARNs, key id, secret ARN), and
    # the stack's one vmimport role ARN: 1 + 5 * 39 = 196, and 201 with the 40th.
    for i in range(39):
        RestorePermissions(stack, f"Customer{i}", bucket=f"customer-{i}-backups")
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Customer39", bucket="customer-39-backups")
    assert str(error.value) == (
        "Test/Customer39: create_outputs=True would give stack 'Test' 201 outputs; CloudFormation "
        "allows 200 per stack. Pass create_outputs=False to this RestorePermissions and the ones "
        "after it, or spread them over more stacks."
    )
    assert stack.node.try_find_child("Customer39") is None
    RestorePermissions(stack, "Customer39", bucket="customer-39-backups", create_outputs=False)


def test_the_applications_own_outputs_count_too() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    for i in range(200):
        cdk.CfnOutput(stack, f"Mine{i}", value="x")
    RestorePermissions(stack, "Restore", bucket="my-backups")
    with pytest.raises(
        RuntimeError, match=r"stack 'Test' has 206 outputs; CloudFormation allows 200\."
    ):
        app.synth()


def test_past_500_resources_construction_fails_in_one_line() -> None:
    # About five resources per user-mode construct: the 100th customer passes the
    # limit, and fails as it is added, before CDK's own count at synth.
    app = new_app()
    stack = cdk.Stack(app, "Test")
    for i in range(99):
        RestorePermissions(
            stack, f"Customer{i}", bucket=f"customer-{i}-backups", create_outputs=False
        )
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Customer99", bucket="customer-99-backups", create_outputs=False)
    # 100 customers of five resources and five stack-level ones (as CDK counted
    # 510 for 101 before); no metadata resource in a test App.
    assert str(error.value) == (
        "Test/Customer99: stack 'Test' would have 505 resources; CloudFormation allows 500. "
        "Spread the customers over more stacks."
    )
    assert "\n" not in str(error.value)


def test_the_applications_own_resources_count_at_synth() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    RestorePermissions(stack, "Restore", bucket="my-backups", create_outputs=False)
    for i in range(500):
        cdk.CfnWaitConditionHandle(stack, f"Mine{i}")
    with pytest.raises(
        RuntimeError, match=r"stack 'Test' has 50\d resources; CloudFormation allows 500"
    ):
        app.synth()


def test_version_reporting_counts_cdks_metadata_resource() -> None:
    # What the CDK CLI passes with cdk.json's default "versionReporting".
    # One customer fewer than without it (test above): 98 * 5 + 5 + 1 = 496; 501 with the 99th.
    stack = cdk.Stack(new_app(**{"aws:cdk:version-reporting": True}), "Test")
    for i in range(98):
        RestorePermissions(
            stack, f"Customer{i}", bucket=f"customer-{i}-backups", create_outputs=False
        )
    with pytest.raises(ValueError) as error:
        RestorePermissions(stack, "Customer98", bucket="customer-98-backups", create_outputs=False)
    assert str(error.value).startswith(
        "Test/Customer98: stack 'Test' would have 501 resources, counting the AWS::CDK::Metadata "
        "resource that CDK adds while version reporting is on"
    )


def test_role_mode_fits_100_customers_in_one_stack() -> None:
    def build(stack: cdk.Stack) -> None:
        for i in range(100):
            RestorePermissions(
                stack,
                f"Customer{i}",
                bucket=f"customer-{i}-backups",
                create_outputs=False,
                identity=RestoreIdentity.role(
                    assumed_by=cdk.aws_iam.AccountPrincipal("111122223333"),
                    external_id=f"customer-{i}",
                ),
            )

    synth = synthesize_stack(build)
    roles = synth.resources("AWS::IAM::Role")
    policies = synth.resources("AWS::IAM::ManagedPolicy")
    assert len(roles) == 100 + 1  # one role per customer, one vmimport
    assert len([p for p in policies if p.startswith("Customer")]) == 100
    assert len(synth.template_json["Resources"]) == len(roles) + len(policies) < 500


def add_bucket_stacks() -> tuple[Synthesized, Synthesized]:
    def build(extra: bool) -> Synthesized:
        def fill(stack: cdk.Stack) -> None:
            restore = RestorePermissions(stack, "Restore", bucket="customer-a-backups")
            if extra:
                restore.add_bucket("customer-b-backups")

        return synthesize_stack(fill)

    return build(False), build(True)


def test_adding_a_bucket_keeps_every_logical_id(snapshot: SnapshotAssertion) -> None:
    before, after = add_bucket_stacks()
    kinds = {k: v["Type"] for k, v in before.template_json["Resources"].items()}
    assert {k: v["Type"] for k, v in after.template_json["Resources"].items()} == kinds
    # Only the two policies change, and only by the new bucket's ARNs.
    changed = [
        k
        for k in kinds
        if before.template_json["Resources"][k] != after.template_json["Resources"][k]
    ]
    # The shared policy (same options) does not change.
    assert sorted(changed) == sorted(
        k
        for k in before.resources("AWS::IAM::ManagedPolicy")
        if not k.startswith("RestorePermissionsShared")
    )
    json_snapshot = snapshot.use_extension(JSONSnapshotExtension)
    assert before.template_json == json_snapshot(name="before")
    assert after.template_json == json_snapshot(name="after")


def test_env_agnostic_stacks_that_both_create_vmimport_get_a_warning() -> None:
    app = new_app()
    first, second = cdk.Stack(app, "CustomersA"), cdk.Stack(app, "CustomersB")
    RestorePermissions(first, "Restore", bucket="a-backups")
    RestorePermissions(second, "Restore", bucket="b-backups", vm_import=VmImportMode.CREATE)
    synthesize(app, second)
    Annotations.from_stack(second).has_warning(
        "/CustomersB",
        Match.string_like_regexp(
            "Stacks 'CustomersA' and 'CustomersB' both create the 'vmimport' role"
        ),
    )
    Annotations.from_stack(first).has_no_warning("*", Match.any_value())


def test_role_mode_split_policies_are_all_attached_to_the_role() -> None:
    synth = synthesize_stack(
        lambda stack: RestorePermissions(
            stack,
            "Restore",
            buckets=names(300),
            identity=RestoreIdentity.role(assumed_by=cdk.aws_iam.AccountPrincipal("111122223333")),
        )
    )
    (role,) = [
        k
        for k, r in synth.resources("AWS::IAM::Role").items()
        if r["Properties"].get("RoleName") != "vmimport"
    ]
    identity = {
        k: v
        for k, v in synth.resources("AWS::IAM::ManagedPolicy").items()
        if k.startswith("RestorePolicy")
    }
    assert len(identity) > 1
    for policy in identity.values():
        assert policy["Properties"]["Roles"] == [{"Ref": role}]
        assert "Groups" not in policy["Properties"]
    assert sorted(resources_of(documents(synth, "RestorePolicy"), "BackupBucket")) == sorted(
        f"arn:aws-us-gov:s3:::{n}" for n in names(300)
    )
