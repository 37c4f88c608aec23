"""Compositions that hurt a user when they go wrong, proven on the synthesized templates.

* Two option sets in one stack: each identity gets the shared policy of its
  own options, so the workflow matrix and its denied twins hold on each
  identity's own documents.
* An existing vmimport role (VmImportMode.USE_EXISTING, or a
  VmImportAccountRole with role_exists=True) with a KMS key: the role's
  policy holds the key, so imports from an encrypted bucket work.
* A key created in a customer stack, with the account-level role: refused,
  because the account stack would depend on the customer stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms

from restore_permissions import (
    PolicyProfile,
    RestoreIdentity,
    RestorePermissions,
    RestorePermissionsError,
    VmImportAccountRole,
    VmImportMode,
)
from restore_permissions.policy import PolicyOptions
from restore_permissions.policy.workflows import WORKFLOWS, Actor, workflow

from .conftest import KMS_KEY_ARN, PSEUDO, new_app, resolve_cfn
from .oracle import as_policy
from .workflow_matrix import TAG, OptionSet, Policies, evaluate, failures, rows_for

ENV = cdk.Environment(account="111122223333", region="us-east-1")
REFS = {**PSEUDO}
#: Two customers of one stack with different options: the second has the tag
#: guard, two Regions and a KMS key.
CUSTOMERS = {
    "Plain": OptionSet("Plain (least-privilege)", PolicyOptions()),
    "Guarded": OptionSet(
        "Guarded (tag, two Regions, KMS)",
        PolicyOptions(allowed_regions=("us-east-1", "eu-central-1"), instance_tag=TAG),
        kms=True,
    ),
}


def documents(template: Mapping[str, Any], *, attached_to: str) -> dict[str, Any]:
    """Every managed policy document attached to the group or role ``attached_to`` (a logical
    id or a role name), merged."""
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        and attached_to
        in [
            ref.get("Ref", ref) if isinstance(ref, dict) else ref
            for ref in resource["Properties"].get("Groups", [])
            + resource["Properties"].get("Roles", [])
        ]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    return resolve_cfn({"Version": "2012-10-17", "Statement": statements}, REFS)


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    """One app: the two customers' stack, a USE_EXISTING stack, and an adopted account role."""
    app = new_app()
    shared = cdk.Stack(app, "Customers", env=ENV)
    key = kms.Key.from_key_arn(shared, "Key", KMS_KEY_ARN)
    built = {
        name: RestorePermissions(
            shared,
            name,
            bucket="my-backups",
            profile=PolicyProfile.least_privilege(
                allowed_regions=option_set.options.allowed_regions or None,
                instance_tag=option_set.options.instance_tag,
            ),
            encryption_key=key if option_set.kms else None,
        )
        for name, option_set in CUSTOMERS.items()
    }
    existing = cdk.Stack(app, "ExistingRole", env=cdk.Environment(account="444455556666"))
    RestorePermissions(
        existing,
        "Restore",
        bucket="my-backups",
        encryption_key=kms.Key.from_key_arn(existing, "Key", KMS_KEY_ARN),
        vm_import=VmImportMode.USE_EXISTING,
    )
    account = cdk.Stack(app, "Account", env=cdk.Environment(account="777788889999"))
    role = VmImportAccountRole(account, "VmImport", role_exists=True)
    customer = cdk.Stack(app, "Customer", env=cdk.Environment(account="777788889999"))
    RestorePermissions(
        customer,
        "Restore",
        bucket="my-backups",
        identity=RestoreIdentity.role(assumed_by=cdk.aws_iam.AccountPrincipal("777788889999")),
        encryption_key=kms.Key.from_key_arn(customer, "Key", KMS_KEY_ARN),
        vm_import=role,
    )
    assembly = app.synth()
    return {
        "templates": {s.stack_name: s.template for s in assembly.stacks},
        "groups": {
            name: shared.get_logical_id(restore.group.node.default_child)  # type: ignore[union-attr, arg-type]
            for name, restore in built.items()
        },
        "vmimport": shared.get_logical_id(
            built["Plain"].vm_import_role.node.default_child  # type: ignore[union-attr, arg-type]
        ),
        "account_stack": account,
        "customer_stack": customer,
    }


@pytest.mark.parametrize("customer", list(CUSTOMERS))
def test_each_option_set_of_one_stack_serves_its_own_workflows(
    apps: dict[str, Any], customer: str
) -> None:
    template = apps["templates"]["Customers"]
    option_set = CUSTOMERS[customer]
    policies = Policies(
        as_policy(documents(template, attached_to=apps["groups"][customer])),
        as_policy(documents(template, attached_to=apps["vmimport"]), "vmimport"),
    )
    found = [line for flow in WORKFLOWS for line in failures(option_set, flow, policies)]
    assert found == []
    # Not vacuous: the guarded customer's twins include untagged calls, each denied.
    rows = [row for flow in WORKFLOWS for row in rows_for(option_set, flow)[1]]
    if option_set.options.instance_tag:
        assert sum(row.twin == "without the tag" for row in rows) > 5


def role_rows(option_set: OptionSet, *, actions: tuple[str, ...]) -> list[Any]:
    _, rows = rows_for(option_set, workflow("encrypted-bucket"))
    return [
        row
        for row in rows
        if row.call.actor is Actor.VM_IMPORT_ROLE and row.call.action.startswith(actions)
    ]


KMS = OptionSet("kms", PolicyOptions(), kms=True)


def judge(document: dict[str, Any], rows: list[Any]) -> list[str]:
    policies = Policies(as_policy({"Statement": []}), as_policy(document, "vmimport"))
    return [row.describe() for row in rows if evaluate(row, policies) is not row.expected]


def test_an_existing_vmimport_role_gets_the_key_for_encrypted_imports(
    apps: dict[str, Any],
) -> None:
    # USE_EXISTING: the role's EC2 statements are the account's own; the stack
    # attaches the bucket and the key, which the role's S3 and KMS calls need.
    document = documents(apps["templates"]["ExistingRole"], attached_to="vmimport")
    rows = role_rows(KMS, actions=("s3:", "kms:"))
    assert {row.call.action for row in rows} >= {"kms:Decrypt", "kms:CreateGrant", "s3:GetObject"}
    assert judge(document, rows) == []


def test_an_adopted_account_role_gets_the_key_for_encrypted_imports(
    apps: dict[str, Any],
) -> None:
    # role_exists=True: the account stack holds every statement of the role, key included.
    document = documents(apps["templates"]["Account"], attached_to="vmimport")
    rows = role_rows(KMS, actions=("s3:", "kms:", "ec2:"))
    assert any(row.call.action.startswith("kms:") for row in rows)
    assert judge(document, rows) == []
    assert apps["account_stack"].dependencies == []


def test_a_key_created_in_a_customer_stack_is_refused_by_the_account_role() -> None:
    app = new_app()
    role = VmImportAccountRole(cdk.Stack(app, "Account", env=ENV), "VmImport")
    customer = cdk.Stack(app, "CustomerA", env=ENV)
    key = kms.Key(customer, "BackupKey")
    with pytest.raises(RestorePermissionsError) as error:
        # The bucket is a name: only the key would tie the account stack to this one.
        RestorePermissions(
            customer, "Restore", bucket="a-backups", encryption_key=key, vm_import=role
        )
    assert str(error.value) == (
        "CustomerA/Restore: the bucket's KMS key (encryption_key) 'CustomerA/BackupKey' is "
        "created in stack 'CustomerA'; the VmImportAccountRole in stack 'Account' would "
        "depend on that stack and block its deletion. Pass the bucket's name as a string (and "
        "the key with kms.Key.from_key_arn), or create the bucket in the account stack"
    )


def test_an_imported_key_leaves_the_account_stack_independent() -> None:
    app = new_app()
    account = cdk.Stack(app, "Account", env=ENV)
    role = VmImportAccountRole(account, "VmImport")
    customer = cdk.Stack(app, "CustomerA", env=ENV)
    RestorePermissions(
        customer,
        "Restore",
        bucket="a-backups",
        encryption_key=kms.Key.from_key_arn(customer, "Key", KMS_KEY_ARN),
        vm_import=role,
    )
    template = app.synth().get_stack_by_name("Account").template
    assert account.dependencies == [] and customer.dependencies == []
    assert KMS_KEY_ARN in str(template)
