"""CloudFormation's template limits, checked at synth on the templates CDK writes.

CDK only warns about a template's size, so a stack of many customers used to
fail at deploy time. RestorePermissions adds :class:`TemplateLimits` to the
app's validation plugins (once per app); with a violation, ``cdk synth``
fails and names the stack, what it measured and what to do.

Limits (CloudFormation quotas page):

* template body: 1,000,000 bytes when CloudFormation reads it from S3 (what
  ``cdk deploy`` does through the bootstrap bucket); 51,200 bytes when it is
  passed inline. Set the context key :data:`INLINE_CONTEXT` to ``true`` when
  your templates are passed inline (``cdk deploy --method=direct`` without a
  bootstrap bucket); StackSet members are checked by OrganizationRollout;
* 500 resources and 200 outputs per stack.
"""

from __future__ import annotations

import json
import pathlib
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import jsii
from aws_cdk import (
    CfnResource,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Stack,
    Validations,
)
from constructs import IConstruct

from .rendered_policy import policies_to_create
from .scopes import app_root, node_of
from .stack_checks import StackChecks

#: CloudFormation's limit for a template read from S3, in bytes.
S3_TEMPLATE_LIMIT = 1_000_000
#: CloudFormation's limit for a template passed in the request, in bytes.
INLINE_TEMPLATE_LIMIT = 51_200
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
#: Context key: ``true`` when templates are passed inline (51,200 bytes).
INLINE_CONTEXT = "restore-permissions:inline-templates"


@jsii.implements(IPolicyValidationPlugin)
class TemplateLimits:
    """A CDK validation plugin that refuses templates CloudFormation would refuse."""

    def __init__(self, *, inline: bool = False) -> None:
        self._inline = inline

    @property
    def name(self) -> str:
        return "restore-permissions-template-limits"

    @property
    def rule_ids(self) -> list[str]:
        return ["TemplateSize", "ResourceCount", "OutputCount"]

    @property
    def version(self) -> str:
        return "1"

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        violations = []
        for path in context.template_paths:
            for rule, description, fix in self.problems(pathlib.Path(path)):
                violations.append(
                    PolicyViolation(
                        rule_name=rule,
                        description=description,
                        fix=fix,
                        violating_resources=[
                            PolicyViolatingResource(
                                resource_logical_id="Template", template_path=path, locations=["/"]
                            )
                        ],
                    )
                )
        return PolicyValidationPluginReport(success=not violations, violations=violations)

    def problems(self, path: pathlib.Path) -> list[tuple[str, str, str]]:
        """(rule, what is wrong, what to do) for one template file."""
        size = path.stat().st_size
        template: dict[str, Any] = json.loads(path.read_text())
        stack = path.name.removesuffix(".template.json")
        found = []
        limit = INLINE_TEMPLATE_LIMIT if self._inline else S3_TEMPLATE_LIMIT
        how = "passed inline" if self._inline else "read from S3"
        if size > limit:
            found.append(
                (
                    "TemplateSize",
                    f"stack {stack!r}: the template is {size:,} bytes; CloudFormation accepts "
                    f"{limit:,} for a template {how}",
                    "spread the customers over more stacks, or use create_outputs=False",
                )
            )
        resources = len(template.get("Resources", {}))
        if resources > MAX_RESOURCES:
            found.append(
                (
                    "ResourceCount",
                    f"stack {stack!r}: {resources} resources; CloudFormation allows {MAX_RESOURCES}",
                    "spread the customers over more stacks",
                )
            )
        outputs = len(template.get("Outputs", {}))
        if outputs > MAX_OUTPUTS:
            found.append(
                (
                    "OutputCount",
                    f"stack {stack!r}: {outputs} outputs; CloudFormation allows {MAX_OUTPUTS}",
                    "pass create_outputs=False to some RestorePermissions",
                )
            )
        return found


#: The apps whose validation plugins hold TemplateLimits (by the App's Python object).
_APPS_WITH_LIMITS: weakref.WeakSet[IConstruct] = weakref.WeakSet()


#: The context key through which the CDK CLI turns version reporting on
#: (cdk.json's ``versionReporting``, true unless set to false).
VERSION_REPORTING_CONTEXT = "aws:cdk:version-reporting"


class _ResourceLimit:
    """Counts a stack's resources at synth, before CDK writes the template.

    Validations run after CDK adds its ``AWS::CDK::Metadata`` resource (with
    version reporting on, the default of a consumer app) and after the policies
    are split, and before CDK's own count, which fails with a long trace.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        resources = [c for c in StackChecks.nodes(self._stack) if isinstance(c, CfnResource)]
        if len(resources) <= MAX_RESOURCES:
            return []
        metadata = [r for r in resources if r.cfn_resource_type == "AWS::CDK::Metadata"]
        counting = (
            ", counting the AWS::CDK::Metadata resource that CDK adds while version reporting "
            'is on (cdk.json\'s "versionReporting", on by default)'
            if metadata
            else ""
        )
        return [
            f"stack {self._stack.node.path!r} has {len(resources)} resources{counting}; "
            f"CloudFormation allows {MAX_RESOURCES}. Spread the customers over more stacks."
        ]


_STACKS_WITH_LIMIT: weakref.WeakSet[Stack] = weakref.WeakSet()


def add_resource_limit(stack: Stack) -> None:
    """Count ``stack``'s resources at synth (once per stack)."""
    if stack not in _STACKS_WITH_LIMIT:
        _STACKS_WITH_LIMIT.add(stack)
        StackChecks.add(stack, _ResourceLimit(stack).validate)


def version_reporting(scope: IConstruct) -> bool:
    """Whether CDK will add its ``AWS::CDK::Metadata`` resource to the stacks of ``scope``'s app."""
    return str(node_of(scope).try_get_context(VERSION_REPORTING_CONTEXT)).lower() == "true"


_VERSION_REPORTING: weakref.WeakKeyDictionary[Stack, bool] = weakref.WeakKeyDictionary()


def _stack_version_reporting(stack: Stack) -> bool:
    """:func:`version_reporting` of a stack, asked once: a node's context is fixed once it
    has children, and the stack has the construct that asks."""
    if stack not in _VERSION_REPORTING:
        _VERSION_REPORTING[stack] = version_reporting(stack)
    return _VERSION_REPORTING[stack]


#: Within this many resources of the limit, the construction-time count also
#: estimates the managed policies that synth will split off (it renders them).
_ESTIMATE_WITHIN = 50


class ResourceBudget:
    """The resources a stack holds so far, counted as RestorePermissions are added.

    The first count walks the stack once (the application's own resources);
    later ones add what each construct says it created, and the stack-level
    resources (the vmimport role, the shared policy, the secrets' key) the first
    time they are seen, without walking the tree: a walk per customer was most
    of the jsii round trips of a stack of 100 customers. Each library construct
    counts its own resources in Python (``created_resources``), and
    tests/test_resource_count.py checks that count against the stack's
    CfnResources for every option.
    """

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, ResourceBudget]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, stack: Stack) -> ResourceBudget:
        if stack not in cls._OF:
            cls._OF[stack] = cls(stack)
        return cls._OF[stack]

    def __init__(self, stack: Stack) -> None:
        found = node_of(stack).find_all()
        self.count = _stack_resources(stack, found)
        # The Python objects counted, each once: those in the walk are counted
        # (a vmimport role that a nested stack's construct put here, say).
        self._counted: dict[int, object] = {id(c): c for c in found}

    def add(self, owner: object, resources: int) -> int:
        """Count the ``resources`` that ``owner`` created, unless counted before; the total."""
        if id(owner) not in self._counted:
            self._counted[id(owner)] = owner
            self.count += resources
        return self.count


def _stack_resources(stack: Stack, found: list[IConstruct]) -> int:
    """The CfnResources of ``stack``'s own template, from ``found``, the walk of its
    subtree, without those of its nested stacks (each has a template of its own)."""
    nested = [
        c
        for c in found
        if isinstance(c, Stack) and c is not stack and c.nested_stack_parent is stack
    ]
    return _resources(found) - sum(_resources(n.node.find_all()) for n in nested)


def _resources(constructs: list[IConstruct]) -> int:
    # With the first policies that synth will create (rendered_policy.PolicySet).
    return sum(1 for c in constructs if isinstance(c, CfnResource)) + policies_to_create(constructs)


def resource_problem(stack: Stack, total: int, estimate_extra: Callable[[], int]) -> str | None:
    """Why ``total`` resources (plus CDK's metadata, plus what synth splits off) do not fit."""
    metadata = _stack_version_reporting(stack)
    total += metadata
    if total + _ESTIMATE_WITHIN > MAX_RESOURCES:
        total += estimate_extra()
    if total <= MAX_RESOURCES:
        return None
    counting = (
        ", counting the AWS::CDK::Metadata resource that CDK adds while version reporting is "
        'on (cdk.json\'s "versionReporting", on by default)'
        if metadata
        else ""
    )
    return (
        f"stack {stack.node.path!r} would have {total} resources{counting}; CloudFormation "
        f"allows {MAX_RESOURCES}. Spread the customers over more stacks."
    )


def add_template_limits(scope: IConstruct) -> None:
    """Add :class:`TemplateLimits` to the app of ``scope``, once."""
    root = app_root(scope)
    if root in _APPS_WITH_LIMITS:
        return
    _APPS_WITH_LIMITS.add(root)
    inline = str(node_of(root).try_get_context(INLINE_CONTEXT)).lower() == "true"
    Validations.of(root).add_plugins(TemplateLimits(inline=inline))
