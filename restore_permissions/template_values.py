"""CloudFormation intrinsics in a template, resolved to the values a deploy would give them.

``restore-permissions diff`` evaluates the policies of a synthesized template
offline, so ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``,
``Fn::Select`` and ``Fn::Split`` must become strings first. This resolver is
small and explicit about what it knows:

* pseudo parameters from :class:`Pseudo` (a placeholder account and Region by
  default; the stack's own with ``--stack``);
* template parameters from ``--parameter NAME=VALUE``, else their ``Default``;
* resources of the same template, by the names a deploy gives them: the name
  property when the template sets one (``BucketName``, ``RoleName``...),
  otherwise the logical id, which stands for the one physical resource the
  stack creates. ``Fn::GetAtt [X, Arn]`` is built from it for buckets, keys,
  roles, users, groups and managed policies.

Anything else (a parameter without a value, ``Fn::ImportValue``, ``Fn::If``,
an attribute it does not know) becomes :class:`~.policy.evaluator.Unknown`,
whose text names what was not resolved; the evaluator answers "unknown" for
what depends on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .policy.evaluator import Unknown


@dataclass(frozen=True)
class Pseudo:
    """The pseudo parameters' values."""

    partition: str = "aws"
    account: str = "111122223333"
    region: str = "us-east-1"
    url_suffix: str = "amazonaws.com"
    stack_name: str = "Stack"

    def values(self) -> dict[str, str]:
        return {
            "AWS::Partition": self.partition,
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
        }


#: Each resource type's name property, and how its ARN is built from the name.
_NAMED = {
    "AWS::S3::Bucket": ("BucketName", "arn:{p}:s3:::{name}"),
    "AWS::KMS::Key": (None, "arn:{p}:kms:{r}:{a}:key/{name}"),
    "AWS::IAM::Role": ("RoleName", "arn:{p}:iam::{a}:role{path}{name}"),
    "AWS::IAM::User": ("UserName", "arn:{p}:iam::{a}:user{path}{name}"),
    "AWS::IAM::Group": ("GroupName", "arn:{p}:iam::{a}:group{path}{name}"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "arn:{p}:iam::{a}:policy{path}{name}"),
}
#: Resource types whose Ref is their ARN rather than their name.
_REF_IS_ARN = {"AWS::IAM::ManagedPolicy"}
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Resolver:
    """Resolves the intrinsics of one template; remembers what it could not resolve."""

    template: Mapping[str, Any]
    pseudo: Pseudo = field(default_factory=Pseudo)
    parameters: Mapping[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), *_ = value.items()
            if name == "Ref":
                return self.ref(str(argument))
            if name == "Fn::GetAtt":
                logical_id, attribute = (
                    argument.split(".", 1) if isinstance(argument, str) else argument
                )
                return self.get_att(str(logical_id), str(attribute))
            if name == "Fn::Join":
                delimiter, parts = argument
                return _join(str(delimiter), [self.resolve(part) for part in self.resolve(parts)])
            if name == "Fn::Sub":
                return self.sub(argument)
            if name == "Fn::Select":
                index, items = argument
                items = self.resolve(items)
                if isinstance(items, list) and str(index).isdigit() and int(index) < len(items):
                    return items[int(index)]
                return self.unknown(f"Fn::Select {index}")
            if name == "Fn::Split":
                delimiter, source = argument
                source = self.resolve(source)
                if isinstance(source, Unknown):
                    return self.unknown(f"Fn::Split of {source}")
                return str(source).split(str(delimiter))
            if name.startswith("Fn::") or name == "Condition":
                return self.unknown(f"{name} {argument!r}"[:80])
        return {key: self.resolve(item) for key, item in value.items()}

    def unknown(self, text: str) -> Unknown:
        if text not in self.unresolved:
            self.unresolved.append(text)
        return Unknown("${" + text + "}")

    def ref(self, name: str) -> Any:
        pseudo = self.pseudo.values()
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if "Default" in parameter and not str(parameter.get("Type", "")).startswith("AWS::SSM"):
                return str(parameter["Default"])
            return self.unknown(name)
        resource = self.template.get("Resources", {}).get(name)
        if resource is not None and resource.get("Type") in _NAMED:
            if resource["Type"] in _REF_IS_ARN:
                return self.get_att(name, "Arn")
            return self._name(name, resource)
        return self.unknown(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.template.get("Resources", {}).get(logical_id)
        if resource is None or resource.get("Type") not in _NAMED or attribute != "Arn":
            return self.unknown(f"{logical_id}.{attribute}")
        name = self._name(logical_id, resource)
        if isinstance(name, Unknown):
            return self.unknown(f"{logical_id}.{attribute}")
        path = self.resolve(resource.get("Properties", {}).get("Path", "/"))
        return _NAMED[resource["Type"]][1].format(
            p=self.pseudo.partition,
            a=self.pseudo.account,
            r=self.pseudo.region,
            name=name,
            path=path if isinstance(path, str) else "/",
        )

    def _name(self, logical_id: str, resource: Mapping[str, Any]) -> Any:
        prop = _NAMED[resource["Type"]][0]
        given = resource.get("Properties", {}).get(prop) if prop else None
        if given is None:
            # The one resource the stack creates, named by its logical id.
            return logical_id.lower() if resource["Type"] == "AWS::S3::Bucket" else logical_id
        return self.resolve(given)

    def sub(self, argument: Any) -> Any:
        body, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(item) for key, item in dict(variables).items()}

        def value_of(name: str) -> Any:
            if name in values:
                return values[name]
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        parts: list[Any] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(str(body)):
            parts.append(str(body)[position : match.start()])
            parts.append(value_of(match.group(1)))
            position = match.end()
        parts.append(str(body)[position:])
        return (
            _join("", parts).replace("${!", "${") if not _has_unknown(parts) else _join("", parts)
        )


def _has_unknown(parts: list[Any]) -> bool:
    return any(isinstance(part, Unknown) for part in parts)


def _join(delimiter: str, parts: list[Any]) -> Any:
    if not _has_unknown(parts):
        return delimiter.join(str(part) for part in parts)
    return Unknown(
        delimiter.join(str(part) for part in parts),
        delimiter.join(part.wildcard if isinstance(part, Unknown) else str(part) for part in parts),
    )


def resolve(
    value: Any,
    template: Mapping[str, Any],
    *,
    pseudo: Pseudo | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Any:
    """``value`` (a fragment of ``template``) with its intrinsics resolved."""
    return Resolver(template, pseudo or Pseudo(), dict(parameters or {})).resolve(value)


__all__ = ["Pseudo", "Resolver", "resolve"]
