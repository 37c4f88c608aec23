"""The account's vmimport role: owned by no customer stack, retained, one per account.

Deleting, reordering or removing a customer stack must never delete, replace
or recreate the role, nor delete another customer's resources. Stack
dependencies (what `cdk destroy` includes) and the templates show it; moto
cannot judge DeletionPolicy, so the templates do.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
    VmImportAccountRole,
    VmImportMode,
)

from .conftest import new_app

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def account_app(customers: list[str]) -> tuple[cdk.App, dict[str, Any], dict[str, cdk.Stack]]:
    """An account stack that owns vmimport, and one stack per customer."""
    app = new_app()
    account = cdk.Stack(app, "Account", env=ENV)
    role = VmImportAccountRole(account, "VmImport")
    stacks = {"Account": account}
    for name in customers:
        stacks[name] = cdk.Stack(app, name, env=ENV)
        RestorePermissions(
            stacks[name], "Restore", bucket=f"{name.lower()}-backups", vm_import=role
        )
    assembly = app.synth()
    return app, {s.stack_name: s.template for s in assembly.stacks}, stacks


def vmimport_roles(template: dict[str, Any]) -> dict[str, Any]:
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == "vmimport"
    }


def test_customer_stacks_hold_nothing_on_the_role_and_depend_on_no_stack() -> None:
    _, templates, stacks = account_app(["CustomerA", "CustomerB"])
    for name in ("CustomerA", "CustomerB"):
        # `cdk destroy CustomerA` includes the stacks that depend on it: none.
        assert stacks[name].dependencies == []
        text = json.dumps(templates[name])
        assert vmimport_roles(templates[name]) == {}
        assert "Fn::ImportValue" not in text and '"vmimport"' not in text
    assert stacks["Account"].dependencies == []
    # The account stack lists both customers' buckets.
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in templates["Account"]["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    text = json.dumps(policies)
    assert "customera-backups" in text and "customerb-backups" in text


@pytest.mark.parametrize(
    "customers",
    [["CustomerB", "CustomerA"], ["CustomerB"], []],
    ids=["reordered", "first customer removed", "every customer removed"],
)
def test_reordering_or_removing_customers_never_touches_the_role(customers: list[str]) -> None:
    _, before, _ = account_app(["CustomerA", "CustomerB"])
    _, after, _ = account_app(customers)
    # Same logical id and properties: CloudFormation neither replaces nor recreates it.
    assert vmimport_roles(after["Account"]) == vmimport_roles(before["Account"])
    for name in customers:
        assert after[name] == before[name]


def test_the_created_role_is_retained() -> None:
    for template in (
        account_app(["CustomerA"])[1]["Account"],
        synth_one(lambda stack: RestorePermissions(stack, "Restore", bucket="a-backups")),
    ):
        (role,) = vmimport_roles(template).values()
        assert role["DeletionPolicy"] == "Retain"
        assert role["UpdateReplacePolicy"] == "Retain"


def synth_one(build: Any) -> dict[str, Any]:
    app = new_app()
    stack = cdk.Stack(app, "Only", env=ENV)
    build(stack)
    return app.synth().get_stack_by_name("Only").template


def test_two_customer_stacks_that_create_the_role_in_one_account_are_refused() -> None:
    app = new_app()
    RestorePermissions(cdk.Stack(app, "CustomerA", env=ENV), "Restore", bucket="a-backups")
    with pytest.raises(ValueError) as error:
        RestorePermissions(cdk.Stack(app, "CustomerB", env=ENV), "Restore", bucket="b-backups")
    assert str(error.value) == (
        "CustomerB/Restore: 'CustomerA/VmImportServiceRole' already creates the 'vmimport' role "
        "in account 111122223333, and IAM role names are unique per account. Create the role "
        "once, with a VmImportAccountRole in an account-level stack, and pass it as "
        "vm_import= to every RestorePermissions of that account, so that no customer "
        "stack owns it (or use VmImportMode.USE_EXISTING)"
    )


def test_a_second_account_role_in_one_account_is_refused() -> None:
    app = new_app()
    VmImportAccountRole(cdk.Stack(app, "Account", env=ENV), "VmImport")
    with pytest.raises(ValueError, match="'Account/VmImport' already creates the 'vmimport' role"):
        VmImportAccountRole(cdk.Stack(app, "Other", env=ENV), "VmImport")


@pytest.mark.parametrize("env", [ENV, None], ids=["explicit account", "env-agnostic"])
def test_nested_stacks_share_their_parents_role(env: cdk.Environment | None) -> None:
    app = new_app()
    parent = cdk.Stack(app, "Parent", env=env)
    for name in ("CustomersA", "CustomersB"):
        RestorePermissions(cdk.NestedStack(parent, name), "Restore", bucket=f"{name.lower()}-b")
    assembly = app.synth()  # no CannotDependOnParent
    directory = pathlib.Path(assembly.directory)
    templates = [a.template for a in assembly.stacks] + [
        json.loads(path.read_text()) for path in directory.glob("*.nested.template.json")
    ]
    assert sum(len(vmimport_roles(t)) for t in templates) == 1
    assert len(vmimport_roles(assembly.get_stack_by_name("Parent").template)) == 1


def test_the_role_quota_is_checked_across_the_app() -> None:
    app = new_app()
    for index in range(11):
        stack = cdk.Stack(app, f"Customer{index}", env=ENV)
        RestorePermissions(
            stack, "Restore", bucket=f"c{index}-backups", vm_import=VmImportMode.USE_EXISTING
        )
    with pytest.raises(RuntimeError) as error:
        app.synth()
    assert (
        "the 'vmimport' role of account 111122223333 would hold 11 managed policies from this "
        "app, more than its quota of 10 (IAM allows 10 per role by default, 20 at most): "
        "Customer0/VmImportServiceRole (1), Customer1/VmImportServiceRole (1)"
    ) in str(error.value)


def test_an_account_role_holds_hundreds_of_customers_within_the_quota() -> None:
    app = new_app()
    role = VmImportAccountRole(cdk.Stack(app, "Account", env=ENV), "VmImport")
    for index in range(300):
        stack = cdk.Stack(app, f"Customer{index}", env=ENV)
        # A role per customer: the fewest resources besides the bucket grants,
        # which are what fills the account role's policies.
        RestorePermissions(
            stack,
            "Restore",
            bucket=f"customer-{index:04d}-backups",
            identity=RestoreIdentity.role(assumed_by=iam.AccountPrincipal("444455556666")),
            vm_import=role,
            create_outputs=False,
        )
    app.synth()
    assert 1 < len(role.policies.policies) <= 10


def test_a_bucket_created_in_a_customer_stack_is_refused_by_the_account_role() -> None:
    app = new_app()
    role = VmImportAccountRole(cdk.Stack(app, "Account", env=ENV), "VmImport")
    customer = cdk.Stack(app, "CustomerA", env=ENV)
    bucket = s3.Bucket(customer, "Backups")
    with pytest.raises(ValueError) as error:
        RestorePermissions(customer, "Restore", bucket=bucket, vm_import=role)
    assert (
        "is created in stack 'CustomerA'; the VmImportAccountRole in stack 'Account' would "
        "depend on that stack and block its deletion" in str(error.value)
    )
    # An imported bucket and key are fine: nothing to reference.
    RestorePermissions(
        customer,
        "RestoreImported",
        bucket=s3.Bucket.from_bucket_name(customer, "ImportedBucket", "imported-backups"),
        encryption_key=kms.Key.from_key_arn(
            customer,
            "Key",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        vm_import=role,
    )
    app.synth()


def test_an_account_role_can_adopt_a_role_retained_from_a_customer_stack() -> None:
    # Moving from VmImportMode.CREATE in a customer stack: that stack's role is
    # retained, so the account stack attaches to it instead of creating it.
    app = new_app()
    role = VmImportAccountRole(cdk.Stack(app, "Account", env=ENV), "VmImport", role_exists=True)
    RestorePermissions(
        cdk.Stack(app, "CustomerA", env=ENV), "Restore", bucket="a-backups", vm_import=role
    )
    template = app.synth().get_stack_by_name("Account").template
    assert vmimport_roles(template) == {}
    (policy,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    assert policy["Properties"]["Roles"] == ["vmimport"]
    sids = [s["Sid"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert sids == ["Ec2Describe", "Ec2ImportSnapshots", "BackupBucket", "BackupObjects"]
