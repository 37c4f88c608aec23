"""IAM's size rule for policies, and packing statements into managed policies that fit it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .rendering import policy_document

#: IAM's quota for one customer-managed policy, in characters without whitespace.
MANAGED_POLICY_LIMIT = 6144
#: IAM's default quota of managed policies per user, group or role (IAM quotas page).
DEFAULT_MAX_MANAGED_POLICIES = 10
#: IAM's highest quota of managed policies per user, group or role, after an increase.
MAX_MANAGED_POLICIES = 20


def iam_size(document: Mapping[str, Any]) -> int:
    """Characters IAM counts against a policy quota: the JSON without whitespace."""
    return len("".join(json.dumps(document, separators=(",", ":")).split()))


#: Room kept free in each planned policy, for estimates of deploy-time values.
PLANNING_MARGIN = 64
_DOCUMENT_OVERHEAD = len(json.dumps(policy_document([]), separators=(",", ":")))


def statement_size(statement: Mapping[str, Any], length: Callable[[str], int] = len) -> int:
    """Characters ``statement`` takes in a policy, with ``length`` giving each resource's."""
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    base = len(json.dumps({**statement, "Resource": []}, separators=(",", ":")))
    # Each resource adds its quotes, and all but the first a comma.
    return base + sum(length(r) + 2 for r in resources) + max(len(resources) - 1, 0)


def plan_documents(
    statements: Sequence[Mapping[str, Any]],
    *,
    length: Callable[[str], int] = len,
    limit: int = MANAGED_POLICY_LIMIT - PLANNING_MARGIN,
    reserved: int = 0,
) -> list[list[dict[str, Any]]]:
    """Pack statements into as few policy documents as fit ``limit`` characters each.

    Statements keep their order. One that does not fit whole is split by its
    resources, the parts numbered ``Sid``, ``Sid2``, ``Sid3``... ``reserved``
    characters of the first document are taken by statements added elsewhere.
    ``length`` measures a resource as deployed (CDK tokens are longer or
    shorter than the values they stand for).
    """
    packer = _Packer(limit, length, reserved)
    for statement in statements:
        packer.add(statement)
    # A first document left empty by ``reserved`` stays: the policy it stands for
    # is full with the statements added elsewhere, and the rest go to the next.
    return [
        document
        for number, document in enumerate(packer.documents)
        if document or (number == 0 and reserved)
    ]


class _Packer:
    def __init__(self, limit: int, length: Callable[[str], int], reserved: int) -> None:
        self.limit = limit
        self.length = length
        self.documents: list[list[dict[str, Any]]] = [[]]
        self.used = [_DOCUMENT_OVERHEAD + reserved]

    def room(self) -> int:
        return self.limit - self.used[-1] - (1 if self.documents[-1] else 0)

    def start_document(self) -> None:
        self.documents.append([])
        self.used.append(_DOCUMENT_OVERHEAD)

    def place(self, statement: dict[str, Any], size: int) -> None:
        self.used[-1] += size + (1 if self.documents[-1] else 0)
        self.documents[-1].append(statement)

    def add(self, statement: Mapping[str, Any]) -> None:
        size = statement_size(statement, self.length)
        if size > self.room() and size <= self.limit - _DOCUMENT_OVERHEAD:
            self.start_document()
        if size <= self.room():
            self.place(dict(statement), size)
            return
        # Too big for any one document: split it by its resources.
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        empty = statement_size({**statement, "Resource": []}, self.length)
        part, chunk, chunk_size = 1, list[str](), empty
        for resource in resources:
            cost = self.length(resource) + 2 + (1 if chunk else 0)
            if chunk_size + cost > self.room():
                if chunk:
                    self.place(self.part(statement, part, chunk), chunk_size)
                    part, chunk, chunk_size = part + 1, [], empty
                    cost = self.length(resource) + 2
                self.start_document()
            chunk.append(resource)
            chunk_size += cost
        self.place(self.part(statement, part, chunk), chunk_size)

    @staticmethod
    def part(statement: Mapping[str, Any], part: int, resources: list[str]) -> dict[str, Any]:
        sid = statement["Sid"] if part == 1 else f"{statement['Sid']}{part}"
        return {
            **statement,
            "Sid": sid,
            "Resource": resources if len(resources) > 1 else resources[0],
        }


#: Room per policy for :meth:`PolicySet.estimate_policies`: the planning limit,
#: less what packing may leave unused where a statement ends.
ESTIMATE_ROOM = MANAGED_POLICY_LIMIT - PLANNING_MARGIN - 64
#: The longest value each pseudo parameter takes ("aws-us-gov", an account id, a Region).
_PSEUDO_LENGTHS = {
    "AWS::Partition": 10,
    "AWS::AccountId": 12,
    "AWS::Region": 14,
    "AWS::URLSuffix": 16,
}
#: A value nothing is known about: the longest bucket ARN ("arn:aws-us-gov:s3:::" and 63).
_UNKNOWN_LENGTH = 83
#: The most characters one bucket adds to a policy set: two ARNs of the
#: longest unknown length, with their quotes and commas.
MAX_CHARS_PER_BUCKET = 2 * (_UNKNOWN_LENGTH + 3)


def deployed_length(value: Any) -> int:
    """How long a resolved CloudFormation value will be once deployed, at most."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            body = value["Fn::Sub"]
            for name, longest in _PSEUDO_LENGTHS.items():
                body = body.replace("${" + name + "}", "x" * longest)
            return len(body)
        if "Ref" in value:
            return _PSEUDO_LENGTHS.get(value["Ref"], _UNKNOWN_LENGTH)
        if "Fn::Join" in value:
            delimiter, parts = value["Fn::Join"]
            return sum(deployed_length(part) for part in parts) + len(delimiter) * max(
                len(parts) - 1, 0
            )
    return _UNKNOWN_LENGTH
