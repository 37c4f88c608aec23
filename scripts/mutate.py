"""``make mutate``: does the workflow matrix notice every grant that goes missing?

Drops each action, and each resource type, from each statement of the
catalogue in turn (for every profile and option set), renders the policies
again and runs the workflow matrix of tests/workflow_matrix.py on them: no
snapshots, no docs. Each drop must make at least one row fail, unless the
catalogue lists it as not needed by any workflow, with its reason:

* ``WITHOUT_WORKFLOW`` / ``VM_IMPORT_ROLE_WITHOUT_WORKFLOW``: an action no workflow calls;
* ``OPTIONAL_RESOURCE_TYPES``: a resource type IAM checks only when a request names it;
* a ``Kb1025*`` statement: PolicyProfile.KB1025 grants KB 1025's list as published.

Exit status 0 when every drop is caught or listed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from restore_permissions.policy import (
    EC2_ACTION_RESOURCE_TYPES,
    OPTIONAL_RESOURCE_TYPES,
    VM_IMPORT_ROLE_WITHOUT_WORKFLOW,
    WITHOUT_WORKFLOW,
    ResourceType,
    StatementSpec,
    kb1025_corrected_actions,
)
from tests.workflow_matrix import (
    OPTION_SETS,
    OptionSet,
    catalogue_statements,
    matrix_failures,
)


@dataclass(frozen=True)
class Mutation:
    """One thing dropped: an action or a resource type, from one statement of one policy."""

    policy: str  # "identity" or "vmimport"
    sid: str
    action: str | None = None
    resource_type: ResourceType | None = None

    def __str__(self) -> str:
        what = self.action if self.action else f"resource type {self.resource_type.value}"  # type: ignore[union-attr]
        return f"{self.policy} {self.sid}: drop {what}"

    def apply(self, specs: list[StatementSpec]) -> list[StatementSpec]:
        mutated = []
        for spec in specs:
            if spec.sid != self.sid:
                mutated.append(spec)
                continue
            actions = tuple(a for a in spec.actions if a != self.action)
            resource_types = tuple(s for s in spec.resource_types if s is not self.resource_type)
            if actions and resource_types:
                mutated.append(
                    dataclasses.replace(spec, actions=actions, resource_types=resource_types)
                )
        return mutated


def mutations() -> Iterator[Mutation]:
    seen: set[Mutation] = set()
    for option_set in OPTION_SETS:
        for policy, specs in zip(
            ("identity", "vmimport"), catalogue_statements(option_set), strict=True
        ):
            for spec in specs:
                candidates = [Mutation(policy, spec.sid, action=a) for a in spec.actions]
                candidates += [
                    Mutation(policy, spec.sid, resource_type=s)
                    for s in spec.resource_types
                    if s is not ResourceType.ANY
                ]
                for mutation in candidates:
                    if mutation not in seen:
                        seen.add(mutation)
                        yield mutation


def listed_reason(mutation: Mutation, specs_by_sid: dict[tuple[str, str], StatementSpec]) -> str:
    """Why the catalogue keeps what ``mutation`` drops though no workflow needs it; "" if it does not say."""
    if mutation.sid.startswith("Kb1025") and (
        mutation.action is None or mutation.action in kb1025_corrected_actions()
    ):
        return "PolicyProfile.KB1025 grants KB 1025's list as published"
    spec = specs_by_sid[(mutation.policy, mutation.sid)]
    if mutation.action is not None:
        listed = (
            WITHOUT_WORKFLOW if mutation.policy == "identity" else VM_IMPORT_ROLE_WITHOUT_WORKFLOW
        )
        if mutation.action in listed:
            return listed[mutation.action]
        # An action in the statement only for resource types that are optional for it.
        pairs = [
            (mutation.action, s) for s in spec.resource_types if _takes(mutation.action, s, spec)
        ]
    else:
        assert mutation.resource_type is not None
        pairs = [
            (a, mutation.resource_type)
            for a in spec.actions
            if _takes(a, mutation.resource_type, spec)
        ]
    reasons = [OPTIONAL_RESOURCE_TYPES.get(pair) for pair in pairs]
    if pairs and all(reasons):
        return " ".join(dict.fromkeys(r for r in reasons if r))
    return ""


def _takes(action: str, resource_type: ResourceType, spec: StatementSpec) -> bool:
    """Whether ``action`` takes ``resource_type`` (non-EC2 actions take their statement's resource_types)."""
    return resource_type in EC2_ACTION_RESOURCE_TYPES.get(action, frozenset(spec.resource_types))


def run(verbose: bool) -> int:
    specs_by_sid = {
        (policy, spec.sid): spec
        for option_set in OPTION_SETS
        for policy, specs in zip(
            ("identity", "vmimport"), catalogue_statements(option_set), strict=True
        )
        for spec in specs
    }
    caught = listed = 0
    survivors = []
    all_mutations = list(mutations())
    for mutation in all_mutations:

        def statements(
            option_set: OptionSet, mutation: Mutation = mutation
        ) -> tuple[list[StatementSpec], list[StatementSpec]]:
            identity, role = catalogue_statements(option_set)
            if mutation.policy == "identity":
                return mutation.apply(identity), role
            return identity, mutation.apply(role)

        found = matrix_failures(statements)
        if found:
            caught += 1
            if verbose:
                print(f"caught   {mutation}\n         first failure: {found[0]}")
            continue
        reason = listed_reason(mutation, specs_by_sid)
        if reason:
            listed += 1
            print(f"listed   {mutation}\n         {reason}")
        else:
            survivors.append(mutation)
            print(f"MISSED   {mutation}: no workflow fails, and the catalogue gives no reason")
    print(
        f"\n{len(all_mutations)} drops: {caught} caught by the workflow matrix, "
        f"{listed} listed in the catalogue as not needed by any workflow, "
        f"{len(survivors)} missed"
    )
    return 1 if survivors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="also print each caught drop")
    return run(parser.parse_args().verbose)


if __name__ == "__main__":
    sys.exit(main())
