"""What the README and the synth warnings tell users to write works.

The README's code blocks run in tests/test_readme.py; this checks the API names
in its prose and in the construct's warnings: each resolves, and each profile
named is one RestorePermissions accepts.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest

import restore_permissions
from restore_permissions import RestorePermissions

from .conftest import ROOT, Synthesized, new_app

README = (ROOT / "README.md").read_text()
#: ``PolicyProfile.least_privilege(...)``, ``VmImportMode.CREATE``: an API name and its call.
REFERENCE = re.compile(
    r"\b(PolicyProfile|RestoreIdentity|SecretEncryption|VmImportMode|AccessKeySlot)"
    r"\.(\w+)(\([^()]*\))?"
)


def _prose(text: str) -> str:
    """The README without code blocks (run elsewhere) and the upgrade table's "Before" column."""
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    upgrading = text.index("### Upgrading from the first version")
    end = text.index("\n### ", upgrading + 1)
    rows = [
        line.split("|")[2] if line.startswith("| `") else line
        for line in text[upgrading:end].splitlines()
    ]
    return text[:upgrading] + "\n".join(rows) + text[end:]


def _profile_of(reference: re.Match[str]) -> Any:
    """The profile a ``PolicyProfile.x(...)`` reference builds, with its defaults."""
    value = getattr(restore_permissions.PolicyProfile, reference.group(2))
    return value() if reference.group(3) is not None else value


def _refused(references: list[re.Match[str]]) -> list[str]:
    """The references that do not resolve, or name a profile RestorePermissions refuses."""
    refused = []
    for reference in references:
        owner = getattr(restore_permissions, reference.group(1))
        if not hasattr(owner, reference.group(2)):
            refused.append(reference.group(0))
        elif reference.group(1) == "PolicyProfile":
            stack = cdk.Stack(new_app(), "Claims")
            try:
                RestorePermissions(stack, "Restore", bucket="b-1", profile=_profile_of(reference))
            except ValueError:
                refused.append(reference.group(0))
    return refused


def test_the_readme_names_only_api_that_works() -> None:
    references = list(REFERENCE.finditer(_prose(README)))
    assert len(references) > 10
    assert _refused(references) == []


def test_the_check_finds_a_refused_profile() -> None:
    """A control: the enum member that the API refuses as a profile is reported."""
    text = "use `PolicyProfile.LEAST_PRIVILEGE` or `PolicyProfile.kb1025()` or `VmImportMode.NOPE`"
    assert _refused(list(REFERENCE.finditer(text))) == [
        "PolicyProfile.LEAST_PRIVILEGE",
        "VmImportMode.NOPE",
    ]


@pytest.mark.parametrize("variant", ["kb1025", "all_options"])
def test_synth_warnings_name_only_api_that_works(
    variant: str, examples: dict[str, Synthesized]
) -> None:
    stack = examples[variant].stack
    messages = examples[variant].app.synth().get_stack_by_name(stack.stack_name).messages
    warnings = [str(m.entry.data) for m in messages if m.level.name == "WARNING"]
    assert warnings
    references = [r for text in warnings for r in REFERENCE.finditer(text)]
    assert _refused(references) == []
