"""The construction-time resource count is counted in Python: it must equal the tree's.

RestorePermissions refuses, at construction, a customer that would take its
stack past CloudFormation's 500 resources (tests/test_scale.py,
tests/test_consumer_sizing.py). It does not walk the tree for that: each
library construct says how many CfnResources it created
(``created_resources``), and the stack's ResourceBudget adds them up, the
stack-level ones (vmimport role, shared policy, the secrets' key) once. These
tests build every option the construct has, one after another in the same
stacks, and compare the budget with the CfnResources that ``find_all`` sees
after each construct: a new child that the Python count misses fails here.
"""

from __future__ import annotations

import itertools
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from restore_permissions import (
    AccessKeySlot,
    PolicyProfile,
    RestoreIdentity,
    RestorePermissions,
    SecretEncryption,
    VmImportAccountRole,
    VmImportMode,
)
from restore_permissions.template_limits import ResourceBudget
from restore_permissions.vm_import import VmImportServiceRole

from .conftest import KMS_KEY_ARN, new_app, profile_of
from .test_options import every_combination


def resources_in(stack: cdk.Stack) -> int:
    """The stack's CfnResources, as its template will hold them (not a nested stack's).

    A RestorePermissions or vmimport role whose first policy nobody has read has
    no ``Policy`` child yet: synth creates it, with its statements
    (rendered_policy.PolicySet).
    """
    every = stack.node.find_all()
    # A nested stack's subtree is its own template (one walk each, rather than a
    # Stack.of per node: thousands of jsii round trips per check).
    nested = [
        c.node.find_all()
        for c in every
        if isinstance(c, cdk.Stack) and c is not stack and c.nested_stack_parent is stack
    ]

    def count(nodes: list[Any]) -> int:
        created = sum(1 for c in nodes if isinstance(c, cdk.CfnResource))
        deferred = sum(
            1
            for c in nodes
            if isinstance(c, (RestorePermissions, VmImportServiceRole))
            and c.node.try_find_child("Policy") is None
        )
        return created + deferred

    return count(every) - sum(count(subtree) for subtree in nested)


def identities(stack: cdk.Stack) -> dict[str, Any]:
    return {
        "user without key": RestoreIdentity.user(access_keys=[]),
        "user, slot A": RestoreIdentity.user(),
        "user, slots A and B": RestoreIdentity.user(access_keys=[AccessKeySlot.A, AccessKeySlot.B]),
        "user, serial": RestoreIdentity.user(access_key_serial=2),
        "user, AWS managed key": RestoreIdentity.user(
            secret_encryption=SecretEncryption.aws_managed_key()
        ),
        "user, customer key": RestoreIdentity.user(
            secret_encryption=SecretEncryption.customer_key(
                kms.Key.from_key_arn(stack, "SecretsKey", KMS_KEY_ARN)
            )
        ),
        "named user": RestoreIdentity.user(name="restore"),
        "role": RestoreIdentity.role(assumed_by=iam.AccountPrincipal("111122223333")),
        "role, external id": RestoreIdentity.role(
            assumed_by=iam.AccountPrincipal("111122223333"), external_id="restore-1"
        ),
        "role, instance profile": RestoreIdentity.role(
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"), instance_profile=True
        ),
    }


def check(stack: cdk.Stack, what: str, mismatches: list[str]) -> None:
    counted, found = ResourceBudget.of(stack).count, resources_in(stack)
    if counted != found:
        mismatches.append(
            f"{stack.node.path} after {what}: counted {counted}, the tree has {found}"
        )


def test_every_identity_vm_import_mode_output_and_bucket_kind_is_counted() -> None:
    """Two constructs per stack after the application's own resources, in every
    combination of identity, vmimport mode, outputs and bucket kind."""
    app = new_app()
    account_stack = cdk.Stack(app, "Account", env=cdk.Environment(account="111122223333"))
    account_role = VmImportAccountRole(account_stack, "VmImport")
    mismatches: list[str] = []
    modes: list[Any] = [VmImportMode.CREATE, VmImportMode.USE_EXISTING, VmImportMode.NONE]
    for index, (mode, outputs, bucket_kind) in enumerate(
        itertools.product([*modes, account_role], [True, False], ["name", "bucket", "key"])
    ):
        env = cdk.Environment(account="111122223333") if mode is account_role else None
        stack = cdk.Stack(app, f"Case{index}", env=env)
        # The application's own resources, before any RestorePermissions.
        own_key = kms.Key(stack, "AppKey", enable_key_rotation=True)
        bucket: Any = "my-backups"
        if bucket_kind != "name":
            bucket = s3.Bucket(
                stack,
                "Backups",
                encryption_key=own_key if bucket_kind == "key" else None,
                enforce_ssl=True,
            )
            if mode is account_role:
                bucket = s3.Bucket.from_bucket_name(stack, "Imported", "my-backups")
        for name, identity in identities(stack).items():
            RestorePermissions(
                stack,
                f"Restore{name.title().replace(' ', '').replace(',', '')}",
                bucket=bucket,
                identity=identity,
                vm_import=mode,
                create_outputs=outputs,
            )
            check(stack, name, mismatches)
    assert mismatches == []


def test_every_profile_option_is_counted() -> None:
    """The options matrix of tests/test_options.py, two of them per stack (two shared policies)."""
    app = new_app()
    mismatches: list[str] = []
    combinations = [
        *every_combination(),
        {"shared_subnet_owners": ["444455556666"], "key": True},
        {"object_lock": True, "key": False},
    ]
    for index, combination in enumerate(combinations):
        stack = cdk.Stack(app, f"Combination{index}")
        for number, options in enumerate((combination, {"key": False})):
            props = dict(options)
            key = (
                kms.Key.from_key_arn(stack, f"BackupKey{number}", KMS_KEY_ARN)
                if props.pop("key")
                else None
            )
            RestorePermissions(
                stack,
                f"Restore{number}",
                buckets=[f"customer-{i}-backups" for i in range(3)],
                encryption_key=key,
                ebs_encryption_key=KMS_KEY_ARN if index % 2 else None,
                vm_import=VmImportMode.CREATE if index % 3 else VmImportMode.USE_EXISTING,
                profile=profile_of(**props),
            )
            check(stack, f"Restore{number} {combination}", mismatches)
    assert mismatches == []


def test_nested_stacks_split_policies_and_added_buckets_are_counted() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Parent")
    nested = cdk.NestedStack(stack, "Customers")
    mismatches: list[str] = []
    # The vmimport role goes to the top-level stack: the nested stack does not count it.
    first = RestorePermissions(nested, "Restore0", bucket="my-backups")
    check(nested, "Restore0", mismatches)
    # Enough buckets for synth to split the policies: those are estimated, not created.
    many = RestorePermissions(
        nested,
        "Restore1",
        buckets=[f"customer-{i:04d}-" + "b" * 40 for i in range(150)],
        max_managed_policies=20,
        profile=PolicyProfile.kb1025(),
    )
    check(nested, "Restore1", mismatches)
    first.add_bucket("more-backups")
    many.add_bucket("more-backups")
    check(nested, "add_bucket", mismatches)
    RestorePermissions(stack, "Restore2", bucket="my-backups")
    check(stack, "Restore2", mismatches)
    assert mismatches == []
