"""A customer-managed policy rendered from the catalogue, that can grow."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam

from . import nag
from .policy import (
    WILDCARD_ACTION_REASONS,
    Arns,
    PolicyOptions,
    PolicyProfile,
    StatementSpec,
    render_statements,
    wildcard_resource_reason,
)


class RenderedPolicy:
    """Keeps an ``iam.ManagedPolicy`` in step with catalogue statements.

    :meth:`sync` renders statement specs and merges them by Sid: a new Sid adds
    a statement, a known one gains the resources it lacks. Statements only
    grow, so buckets and keys can be added after construction. The cdk-nag
    acknowledgments follow what was rendered.
    """

    def __init__(self, policy: iam.ManagedPolicy, *, profile: PolicyProfile) -> None:
        self.policy = policy
        self._profile = profile
        self._statements: dict[str, iam.PolicyStatement] = {}
        self._resources: dict[str, list[str]] = {}
        self._wildcard_resources: dict[str, str] = {}
        self._wildcard_actions: set[str] = set()
        policy.node.add_validation(
            nag.WildcardAcknowledgments(policy, self._justified_resources, self._justified_actions)
        )

    def sync(
        self,
        specs: list[StatementSpec],
        arns: Arns,
        options: PolicyOptions | None = None,
        *,
        vm_import_role: bool = False,
    ) -> None:
        rendered = render_statements(specs, arns, options, vm_import_role=vm_import_role)
        for spec, statement in zip(specs, rendered, strict=True):
            resources = _as_list(statement["Resource"])
            for scope in spec.scopes:
                for resource in arns.resources(scope):
                    self._wildcard_resources.setdefault(
                        resource, wildcard_resource_reason(scope, profile=self._profile)
                    )
            self._wildcard_actions.update(a for a in _as_list(statement["Action"]) if "*" in a)
            existing = self._statements.get(spec.sid)
            if existing is None:
                self._statements[spec.sid] = iam.PolicyStatement.from_json(statement)
                self._resources[spec.sid] = list(resources)
                self.policy.add_statements(self._statements[spec.sid])
                continue
            new = [r for r in resources if r not in self._resources[spec.sid]]
            if new:
                existing.add_resources(*new)
                self._resources[spec.sid].extend(new)

    def _justified_resources(self) -> list[tuple[str, str]]:
        return list(self._wildcard_resources.items())

    def _justified_actions(self) -> list[tuple[str, str]]:
        return [
            (action, WILDCARD_ACTION_REASONS[action]) for action in sorted(self._wildcard_actions)
        ]


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]
