"""``make mutate`` v2 inside ``make test``: a control run, then every kind of mutation.

Each kind is one test, so that pytest-xdist can run them side by side.
scripts/mutate.py prints the same runs with every exemption and its source.
"""

from __future__ import annotations

import dataclasses

import pytest

from restore_permissions.policy import OPTIONAL_RESOURCE_TYPES, ResourceType, StatementSpec

from .mutation import KINDS, ArnChange, ConditionChange, Drop, exemption, judge, run_kind
from .wiring_mutations import judge as wiring_judge
from .workflow_matrix import OptionSet, catalogue_statements


def test_the_control_run_passes() -> None:
    assert judge(first=False) == []
    assert wiring_judge() == []


def test_the_control_run_fails_when_a_grant_is_already_missing() -> None:
    # The first version reported "0 missed" with a grant missing from the catalogue.
    def without_cancel(option_set: OptionSet) -> tuple[list[StatementSpec], list[StatementSpec]]:
        identity, role = catalogue_statements(option_set)
        return [
            dataclasses.replace(
                s, actions=tuple(a for a in s.actions if a != "ec2:CancelImportTask")
            )
            for s in identity
        ], role

    found = judge(without_cancel, first=False)
    assert any("ec2:CancelImportTask" in line and "should be allowed" in line for line in found)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_mutation_is_caught_or_exempt_with_its_source(kind: str) -> None:
    result = run_kind(kind)
    assert result.missed == []
    assert len(result.caught) > 0
    for _, why in result.exempt:
        assert why.reason and why.source


def test_an_exemption_the_service_authorization_reference_contradicts_is_refused() -> None:
    # Dropping the AMI from the import statement: listed as optional, as the first
    # version listed it, the reference still requires it, so it is not exempt.
    drop = Drop("identity", "Ec2Import", resource_type=ResourceType.IMAGE)
    wrong = {**OPTIONAL_RESOURCE_TYPES, ("ec2:ImportImage", ResourceType.IMAGE): "optional"}
    assert exemption(drop, wrong) is None
    # A launch's snapshots are optional in the reference, for both launch actions.
    launch = exemption(Drop("identity", "Ec2Launch", resource_type=ResourceType.SNAPSHOT))
    assert launch is not None
    assert launch.source == (
        "OPTIONAL_RESOURCE_TYPES[ec2:RequestSpotInstances, snapshot], optional in the Service "
        "Authorization Reference; OPTIONAL_RESOURCE_TYPES[ec2:RunInstances, snapshot], optional "
        "in the Service Authorization Reference"
    )


def test_each_kind_of_mutation_can_be_missed() -> None:
    # Mutations that change nothing the rows see are reported, not passed over.
    widened = ArnChange("vmimport", "BackupObjects", "my-backups/", "account", "*")
    assert widened.caught() == [] and exemption(widened) is None
    ghost = ConditionChange("identity", "NoSuchSid", "StringEquals", "k", "drop key")
    assert ghost.caught() == [] and exemption(ghost) is None
