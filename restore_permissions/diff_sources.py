"""The two sides of ``restore-permissions diff``: the identities they hold and their policies.

A side is read from one of:

* a synthesized template (``cdk.out/*.template.json``, or a stored snapshot in
  ``tests/__snapshots__``, which the JSON extension of syrupy stores as the
  template itself);
* a policy file, in the shapes ``restore-permissions policy`` and
  ``vmimport-role`` print (one document, ``{"PolicyDocuments": [...]}``, or
  ``{"RoleName": ..., "PolicyDocument": ...}``);
* a deployed stack's template (CloudFormation ``GetTemplate``), or, with
  ``--deployed``, the managed policies IAM really attaches to the stack's
  identities now (:mod:`.diff_aws`).

Each identity is the restore user or role, or the vmimport role, with its
managed policies resolved to concrete values (:mod:`.template_values`).
Nothing here imports CDK or boto3.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .policy.trust import VM_IMPORT_ROLE_NAME, VM_IMPORT_SERVICE_PRINCIPAL
from .template_values import Pseudo, Resolver

#: How the stack's outputs describe the restore identity (RestorePermissions._create_outputs).
IDENTITY_OUTPUT_DESCRIPTIONS = ("Restore user ARN", "Restore role ARN")


class DiffError(Exception):
    """The diff cannot run: one line for stderr, exit code 2."""


class Role(enum.Enum):
    """What an identity is to the restore."""

    RESTORE = "restore identity"
    VM_IMPORT = "vmimport role"


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    #: The document with its intrinsics resolved (unresolved parts are ``Unknown``).
    document: Mapping[str, Any]
    #: False for an inline policy: it counts against another quota.
    managed: bool = True


@dataclass(frozen=True)
class Identity:
    #: What pairs it with the other side's: the logical id, or the role it plays.
    key: str
    role: Role
    #: ``user NAME``, ``role NAME``, ``policy file``...
    label: str
    policies: tuple[ManagedPolicy, ...]
    #: Why its policies here may be only part of what it has ("" when they are all of them).
    partial: str = ""
    #: The user's or role's logical id in the template ("" for a policy file or an existing role).
    logical_id: str = ""

    @property
    def documents(self) -> list[Mapping[str, Any]]:
        return [policy.document for policy in self.policies]


@dataclass
class Side:
    label: str
    identities: list[Identity]
    #: The intrinsics that could not be resolved.
    unresolved: list[str] = field(default_factory=list)

    def restore_identities(self) -> list[Identity]:
        return [i for i in self.identities if i.role is Role.RESTORE]

    def vm_import_role(self) -> Identity | None:
        return next((i for i in self.identities if i.role is Role.VM_IMPORT), None)


def read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise DiffError(f"cannot read {path!r}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        hint = (
            " (an amber .ambr snapshot: this project stores its snapshots as JSON)"
            if text.startswith("# serializer version")
            else ""
        )
        raise DiffError(f"{path!r} is not JSON{hint}: {error.msg} (line {error.lineno})") from None


def load_file(
    path: str, *, pseudo: Pseudo | None = None, parameters: Mapping[str, str] | None = None
) -> Side:
    """A side from a template or policy file."""
    return from_json(read_json(path), path, pseudo=pseudo, parameters=parameters)


def from_json(
    value: Any,
    label: str,
    *,
    pseudo: Pseudo | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Side:
    if isinstance(value, dict) and isinstance(value.get("Resources"), dict):
        return from_template(value, label, pseudo=pseudo, parameters=parameters)
    if isinstance(value, dict):
        return from_policy_file(value, label)
    raise DiffError(f"{label!r} is neither a CloudFormation template nor an IAM policy file")


def from_policy_file(value: Mapping[str, Any], label: str) -> Side:
    """A side from the output of ``policy``, ``policy --split`` or ``vmimport-role``."""
    if "Statement" in value:
        documents = [value]
    elif isinstance(value.get("PolicyDocuments"), list):
        documents = list(value["PolicyDocuments"])
    elif isinstance(value.get("PolicyDocument"), dict):
        documents = [value["PolicyDocument"]]
    else:
        raise DiffError(
            f"{label!r} is not a policy file: no Statement, PolicyDocuments or PolicyDocument"
        )
    for document in documents:
        if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
            raise DiffError(f"{label!r} holds a policy document without a Statement list")
    vm_import = "RoleName" in value or "AssumeRolePolicyDocument" in value
    policies = tuple(
        ManagedPolicy(f"document {number}" if len(documents) > 1 else "document", document)
        for number, document in enumerate(documents, 1)
    )
    if vm_import:
        existing = "AssumeRolePolicyDocument" not in value
        identity = Identity(
            "vmimport",
            Role.VM_IMPORT,
            f"role {value.get('RoleName', VM_IMPORT_ROLE_NAME)}",
            policies,
            partial="an existing role's other policies are not in the file" if existing else "",
        )
    else:
        identity = Identity("restore", Role.RESTORE, "policy file", policies)
    return Side(label, [identity])


def from_template(
    template: Mapping[str, Any],
    label: str,
    *,
    pseudo: Pseudo | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Side:
    """The template's restore identities and vmimport role, with their policies resolved."""
    resolver = Resolver(template, pseudo or Pseudo(), dict(parameters or {}))
    resources: Mapping[str, Any] = template["Resources"]
    chosen = _identity_ids(template)
    identities = []
    for logical_id in chosen:
        resource = resources[logical_id]
        properties = resource.get("Properties", {})
        kind = "user" if resource["Type"] == "AWS::IAM::User" else "role"
        groups = [_ref_id(g) for g in properties.get("Groups", [])]
        attached = [
            policy
            for policy_id, policy in resources.items()
            if policy.get("Type") in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
            and _attaches(policy, kind, logical_id, groups)
        ]
        policies = [
            ManagedPolicy(
                policy_id,
                resolver.resolve(policy["Properties"]["PolicyDocument"]),
                managed=policy["Type"] == "AWS::IAM::ManagedPolicy",
            )
            for policy_id, policy in resources.items()
            if any(policy is a for a in attached)
        ]
        policies += [
            ManagedPolicy(
                f"{logical_id} inline {inline.get('PolicyName', number)}",
                resolver.resolve(inline["PolicyDocument"]),
                managed=False,
            )
            for number, inline in enumerate(properties.get("Policies", []), 1)
        ]
        outside = [
            str(resolver.resolve(arn))
            for arn in properties.get("ManagedPolicyArns", [])
            if _ref_id(arn) not in resources
        ]
        vm_import = kind == "role" and _is_vm_import_role(properties)
        name = resolver.resolve(properties.get("RoleName" if kind == "role" else "UserName"))
        identities.append(
            Identity(
                "vmimport" if vm_import else logical_id,
                Role.VM_IMPORT if vm_import else Role.RESTORE,
                f"{kind} {name or logical_id}",
                tuple(policies),
                partial=f"managed policies from outside the template: {', '.join(outside)}"
                if outside
                else "",
                logical_id=logical_id,
            )
        )
    existing = [
        (policy_id, policy)
        for policy_id, policy in resources.items()
        if policy.get("Type") in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and VM_IMPORT_ROLE_NAME in policy.get("Properties", {}).get("Roles", [])
    ]
    if existing and not any(i.role is Role.VM_IMPORT for i in identities):
        identities.append(
            Identity(
                "vmimport",
                Role.VM_IMPORT,
                f"role {VM_IMPORT_ROLE_NAME} (existing)",
                tuple(
                    ManagedPolicy(
                        policy_id, resolver.resolve(policy["Properties"]["PolicyDocument"])
                    )
                    for policy_id, policy in existing
                ),
                partial="the role exists outside the template; only the policy the template "
                "attaches to it is here",
            )
        )
    return Side(label, identities, resolver.unresolved)


def _identity_ids(template: Mapping[str, Any]) -> list[str]:
    """The restore users and roles the outputs name (all users and roles without such outputs),
    and the vmimport role."""
    resources: Mapping[str, Any] = template["Resources"]
    named = [
        _ref_id(output.get("Value"))
        for output in template.get("Outputs", {}).values()
        if output.get("Description") in IDENTITY_OUTPUT_DESCRIPTIONS
    ]
    principals = [
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") in ("AWS::IAM::User", "AWS::IAM::Role")
    ]
    chosen = [p for p in principals if p in named] or [
        p for p in principals if not _is_vm_import_role(resources[p].get("Properties", {}))
    ]
    vm_import = [p for p in principals if _is_vm_import_role(resources[p].get("Properties", {}))]
    return list(dict.fromkeys(chosen + vm_import))


def _ref_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names (a plain name stays itself)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target.split(".")[0] if isinstance(target, str) else target[0])
    return None


def _attaches(policy: Mapping[str, Any], kind: str, logical_id: str, groups: Sequence[Any]) -> bool:
    properties = policy.get("Properties", {})
    own = {_ref_id(v) for v in properties.get("Users" if kind == "user" else "Roles", [])}
    groups_of_policy = {_ref_id(v) for v in properties.get("Groups", [])}
    return logical_id in own or bool(groups_of_policy & {g for g in groups if g})


def _is_vm_import_role(properties: Mapping[str, Any]) -> bool:
    if properties.get("RoleName") == VM_IMPORT_ROLE_NAME:
        return True
    trust = properties.get("AssumeRolePolicyDocument", {})
    return any(
        VM_IMPORT_SERVICE_PRINCIPAL in json.dumps(statement.get("Principal", {}))
        for statement in trust.get("Statement", [])
    )


__all__ = [
    "IDENTITY_OUTPUT_DESCRIPTIONS",
    "DiffError",
    "Identity",
    "ManagedPolicy",
    "Role",
    "Side",
    "from_json",
    "from_policy_file",
    "from_template",
    "load_file",
    "read_json",
]
