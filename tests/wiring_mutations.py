"""``make mutate``: the construct's wiring (attachments and dependencies), judged on a synthesized app.

Each mutation patches one piece of the construct's wiring while an app is
built and synthesized; the judge then runs, on the templates:

* the workflow matrix on each identity's own documents (the policies
  attached to its group or role) in a stack of two customers with different
  options (tests/test_composition.py);
* the vmimport role's calls on the policies attached to the role;
* the update order of an upgrade (tests/test_update_order.py): no permission
  that both templates grant is dropped before another policy holds it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Node

from restore_permissions import PolicyProfile, RestoreIdentity, RestorePermissions
from restore_permissions.policy.workflows import WORKFLOWS, Actor
from restore_permissions.shared_policy import SharedRestorePolicy
from restore_permissions.vm_import import VmImportServiceRole

from .conftest import KMS_KEY_ARN, ROOT, new_app, synthesize_example
from .oracle import as_policy
from .test_composition import CUSTOMERS, ENV, documents
from .test_update_order import access_gaps, identity
from .workflow_matrix import Policies, failures, rows_for


def judge() -> list[str]:
    """What is wrong with the wiring of a freshly built app (the first thing found)."""
    app = new_app()
    stack = cdk.Stack(app, "Customers", env=ENV)
    holders = {}
    for name, option_set in CUSTOMERS.items():
        restore = RestorePermissions(
            stack,
            name,
            bucket="my-backups",
            identity=RestoreIdentity.role(assumed_by=iam.AccountPrincipal("111122223333"))
            if option_set.kms
            else None,
            profile=PolicyProfile.least_privilege(
                allowed_regions=option_set.options.allowed_regions or None,
                instance_tag=option_set.options.instance_tag,
            ),
            encryption_key=kms.Key.from_key_arn(stack, f"{name}Key", KMS_KEY_ARN)
            if option_set.kms
            else None,
        )
        holder = restore.group or restore.role
        holders[name] = stack.get_logical_id(holder.node.default_child)  # type: ignore[union-attr, arg-type]
    singleton = stack.node.find_child(VmImportServiceRole.CONSTRUCT_ID)
    vmimport = stack.get_logical_id(singleton.node.find_child("Role").node.default_child)  # type: ignore[arg-type]
    template = app.synth().get_stack_by_name("Customers").template
    role_policy = as_policy(documents(template, attached_to=vmimport), "vmimport")
    for name, option_set in CUSTOMERS.items():
        policies = Policies(as_policy(documents(template, attached_to=holders[name])), role_policy)
        for flow in WORKFLOWS:
            found = failures(option_set, flow, policies)
            if found:
                return found[:1]
        if not any(
            row.call.actor is Actor.VM_IMPORT_ROLE
            for flow in WORKFLOWS
            for row in rows_for(option_set, flow)[1]
        ):
            return [f"{name}: no vmimport role row was judged"]
    old = json.loads(
        (
            ROOT / "tests" / "fixtures" / "user_with_key.before-shared-policy.template.json"
        ).read_text()
    )
    return access_gaps(old, synthesize_example(bucket_name="my-backups").template_json, identity)[
        :1
    ]


@dataclass(frozen=True)
class WiringChange:
    """One piece of the construct's wiring, broken while the app is built."""

    name: str
    patch: Callable[[], contextlib.AbstractContextManager[Any]]
    kind = "wiring"

    def __str__(self) -> str:
        return f"wiring: {self.name}"

    def caught(self) -> list[str]:
        with self.patch():
            return judge()


def _unattached_own_policy(
    self: RestorePermissions, policy_id: str, document: iam.PolicyDocument | None = None
) -> iam.ManagedPolicy:
    return iam.ManagedPolicy(self, policy_id, document=document)


def _unattached_role_policy(
    self: VmImportServiceRole, policy_id: str, document: iam.PolicyDocument | None = None
) -> iam.ManagedPolicy:
    return iam.ManagedPolicy(self, policy_id, document=document)


def _one_shared_policy(cls: type[SharedRestorePolicy], scope: Any, options: Any) -> Any:
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child("RestorePermissionsShared")
    return existing or cls(stack, "RestorePermissionsShared", options=options)


WIRING: tuple[WiringChange, ...] = (
    WiringChange(
        "the shared policy is attached to no identity",
        lambda: mock.patch("restore_permissions.shared_policy._attach", lambda *_: None),
    ),
    WiringChange(
        "the identity's own policy is attached to no group or role",
        lambda: mock.patch.object(RestorePermissions, "_new_policy", _unattached_own_policy),
    ),
    WiringChange(
        "the vmimport role's policies are attached to no role",
        lambda: mock.patch.object(VmImportServiceRole, "_new_policy", _unattached_role_policy),
    ),
    WiringChange(
        "one shared policy per stack whatever the options",
        lambda: mock.patch.object(SharedRestorePolicy, "of", classmethod(_one_shared_policy)),
    ),
    WiringChange(
        "no dependency between the construct's resources (the own policy waits for nothing)",
        lambda: mock.patch.object(Node, "add_dependency", lambda *_: None),
    ),
)
