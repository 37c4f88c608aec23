"""Updates never cut access: read CloudFormation's update order from the templates.

moto cannot judge the order in which CloudFormation updates resources, so this
reads it from the two templates, as CloudFormation does:

* resources are created and updated in dependency order (DependsOn, Ref, GetAtt);
* resources missing from the new template are deleted last, in the clean-up phase;
* one policy document changes atomically (IAM keeps one default version).

A permission (action, resource, condition) that both templates grant is safe
when a policy holds it before and after the update, or when every policy that
loses it either is deleted at clean-up or, in the new template, depends on a
policy that holds it. Anything else is a window in which the identity lacks it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
)

from .conftest import PSEUDO, ROOT, new_app, profile_of, resolve_cfn

Template = dict[str, Any]
Permission = tuple[str, str, str]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_grants(template: Template, owner: Callable[[str], bool]) -> dict[str, set[Permission]]:
    """(action, resource, condition) triples of each managed policy whose logical id ``owner`` accepts."""
    found: dict[str, set[Permission]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy" or not owner(logical_id):
            continue
        document = resolve_cfn(resource["Properties"]["PolicyDocument"], PSEUDO)
        found[logical_id] = {
            (action, arn, json.dumps(statement.get("Condition"), sort_keys=True))
            for statement in document["Statement"]
            for action in _as_list(statement["Action"])
            for arn in _as_list(statement["Resource"])
        }
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield value["Ref"]
        elif set(value) == {"Fn::GetAtt"}:
            yield value["Fn::GetAtt"][0]
        else:
            for item in value.values():
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def depends_on(template: Template, logical_id: str) -> set[str]:
    """Every resource ``logical_id`` waits for in ``template``, transitively."""
    seen: set[str] = set()
    todo = [logical_id]
    while todo:
        resource = template["Resources"].get(todo.pop(), {})
        direct = set(_as_list(resource.get("DependsOn", []))) | set(
            _references(resource.get("Properties", {}))
        )
        for dependency in direct - seen:
            if dependency in template["Resources"]:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def access_gaps(old: Template, new: Template, owner: Callable[[str], bool]) -> list[str]:
    """The permissions both templates grant that the update removes before it re-adds them."""
    before, after = policy_grants(old, owner), policy_grants(new, owner)
    kept = set().union(*before.values()) & set().union(*after.values())
    gaps = []
    for grant in sorted(kept):
        holders_after = {p for p, grants in after.items() if grant in grants}
        for policy, grants in before.items():
            if grant not in grants or policy not in after or grant in after[policy]:
                continue  # not held, deleted at clean-up, or kept in place
            if not depends_on(new, policy) & holders_after:
                gaps.append(f"{policy} drops {grant} before {sorted(holders_after)} hold it")
    return gaps


def identity(logical_id: str) -> bool:
    # The identity's own policies and the stack's shared ones.
    return logical_id.startswith(("RestorePolicy", "RestorePermissionsShared"))


def vmimport(logical_id: str) -> bool:
    return logical_id.startswith("VmImportServiceRolePolicy")


def names(count: int, start: int = 0) -> list[str]:
    return [f"customer-{i:04d}-backups" for i in range(start, start + count)]


def synth(**props: Any) -> Template:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    buckets = props.pop("buckets")
    role = props.pop("role", False)
    if role:
        props["identity"] = RestoreIdentity.role(
            assumed_by=cdk.aws_iam.AccountPrincipal("111122223333")
        )
    if "instance_tag" in props:
        props["profile"] = profile_of(instance_tag=props.pop("instance_tag"))
    RestorePermissions(stack, "Restore", buckets=buckets, create_outputs=False, **props)
    return app.synth().get_stack_by_name("Test").template


#: Updates that move statements between policies, in both directions.
UPDATES = {
    "grow into a second policy": ({"buckets": names(40)}, {"buckets": names(90)}),
    "shrink back to one policy": ({"buckets": names(90)}, {"buckets": names(40)}),
    "remove a bucket in the middle": (
        {"buckets": names(250)},
        {"buckets": names(120) + names(129, 121)},
    ),
    "add a bucket at the front": (
        {"buckets": names(250)},
        {"buckets": ["aaa-new-backups", *names(250)]},
    ),
    "switch on the tag guard": (
        {"buckets": names(90)},
        {"buckets": names(90), "instance_tag": ("restore-permissions", "restored")},
    ),
    "role mode, grow": (
        {"buckets": names(40), "role": True},
        {"buckets": names(250), "role": True},
    ),
}


@pytest.mark.parametrize(("before", "after"), UPDATES.values(), ids=list(UPDATES))
@pytest.mark.parametrize("owner", [identity, vmimport], ids=["identity", "vmimport role"])
def test_no_update_cuts_a_permission_both_templates_grant(
    before: dict[str, Any], after: dict[str, Any], owner: Callable[[str], bool]
) -> None:
    old, new = synth(**dict(before)), synth(**dict(after))
    if owner is identity:  # the vmimport role's policies do not depend on the tag guard
        assert policy_grants(old, owner) != policy_grants(new, owner)
    assert access_gaps(old, new, owner) == []


def test_the_checker_finds_the_gap_of_fixed_ids_without_ordering() -> None:
    # Before this change the extras kept fixed ids (Policy2...) and nothing
    # ordered them: growing moved statements out of Policy while Policy2 was
    # still being created.
    old, new = synth(buckets=names(40)), synth(buckets=names(90))

    def fixed_ids_unordered(template: Template) -> Template:
        resources = {}
        for logical_id, resource in template["Resources"].items():
            fixed = (
                logical_id.split("v")[0] if logical_id.startswith("RestorePolicy2v") else logical_id
            )
            resources[fixed] = {k: v for k, v in resource.items() if k != "DependsOn"}
        return {**template, "Resources": resources}

    assert access_gaps(old, new, identity) == []
    gaps = access_gaps(fixed_ids_unordered(old), fixed_ids_unordered(new), identity)
    assert gaps and all(gap.startswith("RestorePolicy") for gap in gaps)


@pytest.mark.parametrize("variant", ["user_with_key", "all_options"])
def test_upgrading_to_the_shared_policy_cuts_no_permission(
    examples: dict[str, Any], variant: str
) -> None:
    # The template of the previous version (each identity held every statement
    # itself) against today's: the statements move into the shared policy,
    # which the identity's own policy waits for.
    old = json.loads(
        (ROOT / "tests" / "fixtures" / f"{variant}.before-shared-policy.template.json").read_text()
    )
    new = examples[variant].template_json
    assert policy_grants(old, identity) != policy_grants(new, identity)
    assert access_gaps(old, new, identity) == []
