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
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Validations,
)
from constructs import Construct, IConstruct

from .scopes import app_root, find_child

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


class _TemplateLimitsMarker(Construct):
    """Marks the app whose validation plugins hold TemplateLimits (a child of the app)."""

    ID = "RestorePermissionsTemplateLimits"


def add_template_limits(scope: IConstruct) -> None:
    """Add :class:`TemplateLimits` to the app of ``scope``, once."""
    root = app_root(scope)
    if find_child(root, _TemplateLimitsMarker.ID) is not None:
        return
    assert isinstance(root, Construct)
    _TemplateLimitsMarker(root, _TemplateLimitsMarker.ID)
    inline = str(root.node.try_get_context(INLINE_CONTEXT)).lower() == "true"
    Validations.of(root).add_plugins(TemplateLimits(inline=inline))
