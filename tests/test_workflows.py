"""Every restore workflow, call by call, under every profile and option.

The evaluator is a test-only oracle (tests/oracle.py: principalmapper's local
policy simulation). The matrix itself is in tests/workflow_matrix.py, which
``make mutate`` reuses.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys

import pytest
from aws_cdk.assertions import Annotations, Match

from restore_permissions.policy import (
    NOT_GRANTED,
    OPTIONAL_RESOURCE_TYPES,
    REASONS,
    VM_IMPORT_ROLE_REASONS,
    VM_IMPORT_ROLE_WITHOUT_WORKFLOW,
    WITHOUT_WORKFLOW,
    PolicyOptions,
    PolicyProfile,
    identity_statements,
    vm_import_role_statements,
)
from restore_permissions.policy.workflows import (
    WORKFLOWS,
    Actor,
    Availability,
    availability,
    explain_workflow,
    unsupported_workflows,
    workflow,
)

from .conftest import PSEUDO, Synthesized
from .oracle import as_policy
from .workflow_matrix import (
    OPTION_SETS,
    TAG,
    OptionSet,
    Policies,
    failures,
    matrix_size,
    render,
    rows_for,
)

CELLS = [(o, w) for o in OPTION_SETS for w in WORKFLOWS]


@pytest.mark.parametrize(
    ("option_set", "flow"), CELLS, ids=[f"{o.name}:{w.name}" for o, w in CELLS]
)
def test_workflow_matrix(option_set: OptionSet, flow: object) -> None:
    assert failures(option_set, flow, render(option_set)) == []  # type: ignore[arg-type]


def test_the_matrix_has_the_size_the_closing_note_gives() -> None:
    size = matrix_size()
    assert size["cells"] == len(OPTION_SETS) * len(WORKFLOWS)
    assert size["served"] + size["not served"] == size["cells"]
    # Every served cell has calls, and a scoped policy has twins to deny.
    assert size["allowed"] > size["served"] and size["denied twins"] > size["served"]


def test_a_missing_grant_fails_the_matrix() -> None:
    # The matrix can fail: the default policy without ec2:CancelImportTask.
    least = OPTION_SETS[0]

    def without_cancel(option_set: OptionSet) -> tuple[list, list]:  # type: ignore[type-arg]
        identity = [
            spec.__class__(
                spec.sid,
                tuple(a for a in spec.actions if a != "ec2:CancelImportTask"),
                spec.resource_types,
            )
            for spec in identity_statements(option_set.options, kms=option_set.kms)
        ]
        return identity, vm_import_role_statements(existing_role=False, kms=option_set.kms)

    found = failures(least, workflow("cancel-image-import"), render(least, without_cancel))
    assert found == [
        "least-privilege / cancel-image-import step 4: restore identity ec2:CancelImportTask on "
        "arn:aws:ec2:us-east-1:111122223333:import-image-task/import-ami-0123456789abcdef0 "
        "should be allowed"
    ]


def test_a_twin_that_is_allowed_fails_the_matrix() -> None:
    # KB1025's EC2 actions on '*' would let another account's instance be stopped:
    # judged with LEAST_PRIVILEGE's expectations, the twins catch it.
    least, kb1025 = OPTION_SETS[0], next(o for o in OPTION_SETS if o.name == "kb1025")
    found = failures(least, workflow("instance"), render(kb1025))
    assert any("[another account]" in line and "StopInstances" in line for line in found)


@pytest.mark.parametrize(
    ("option_set", "flow"), CELLS, ids=[f"{o.name}:{w.name}" for o, w in CELLS]
)
def test_explain_agrees_with_the_evaluator(option_set: OptionSet, flow: object) -> None:
    status, _ = availability(flow, option_set.options, kms=option_set.kms)  # type: ignore[arg-type]
    explained = explain_workflow(flow, option_set.options, kms=option_set.kms)  # type: ignore[arg-type]
    if status is Availability.SERVED:
        assert all(row.granted for row in explained)
    else:
        assert not all(row.granted for row in explained)


def granted_actions(actor: Actor) -> set[str]:
    actions = set()
    for option_set in OPTION_SETS:
        specs = (
            identity_statements(option_set.options, kms=option_set.kms)
            if actor is Actor.IDENTITY
            else vm_import_role_statements(existing_role=False, kms=option_set.kms)
        )
        actions |= {a for s in specs for a in s.actions if not s.sid.startswith("Kb1025")}
    return actions


def called_actions(actor: Actor) -> set[str]:
    return {c.action for w in WORKFLOWS for c in w.calls if c.actor is actor}


@pytest.mark.parametrize(
    ("actor", "without_workflow"),
    [(Actor.IDENTITY, WITHOUT_WORKFLOW), (Actor.VM_IMPORT_ROLE, VM_IMPORT_ROLE_WITHOUT_WORKFLOW)],
    ids=["identity", "vmimport"],
)
def test_every_granted_action_is_called_by_a_workflow_or_says_why_not(
    actor: Actor, without_workflow: dict[str, str]
) -> None:
    granted, called = granted_actions(actor), called_actions(actor)
    uncalled = {a for a in granted if not any(fnmatch.fnmatchcase(c, a) for c in called)}
    assert uncalled == set(without_workflow)
    # ...and every call of a workflow has a reason in the catalogue.
    reasons = REASONS if actor is Actor.IDENTITY else VM_IMPORT_ROLE_REASONS
    for action in called:
        assert any(fnmatch.fnmatchcase(action, pattern) for pattern in reasons), action


def test_optional_resource_types_are_touched_by_no_workflow() -> None:
    touched = {(c.action, t.resource_type) for w in WORKFLOWS for c in w.calls for t in c.touches}
    assert not touched & set(OPTIONAL_RESOURCE_TYPES)


def test_what_is_not_granted_is_granted_nowhere() -> None:
    granted = granted_actions(Actor.IDENTITY) | {
        a
        for o in OPTION_SETS
        for s in identity_statements(o.options, kms=o.kms)
        for a in s.actions
        if o.options.profile is PolicyProfile.LEAST_PRIVILEGE
    }
    assert not granted & set(NOT_GRANTED)
    assert not called_actions(Actor.IDENTITY) & set(NOT_GRANTED)


def test_unsupported_workflows_per_option() -> None:
    assert unsupported_workflows(PolicyOptions()) == []
    assert [w.name for w, _ in unsupported_workflows(PolicyOptions(instance_tag=TAG))] == [
        "legacy-import",
        "spot-launch",
    ]
    kb1025 = dict(
        (w.name, reason)
        for w, reason in unsupported_workflows(PolicyOptions(profile=PolicyProfile.KB1025))
    )
    assert list(kb1025) == [
        "ami-only",
        "ebs-volume",
        "cancel-snapshot-import",
        "legacy-import",
        "spot-launch",
        "ebs-default-key-volume",
        "spot-run-instances",
    ]
    # KB 1025 never grants the Spot service-linked role: a first Spot restore fails.
    assert "iam:CreateServiceLinkedRole" in kb1025["spot-launch"]
    assert kb1025["legacy-import"] == (
        "PolicyProfile.kb1025() does not grant ec2:CancelConversionTask, which the legacy-import "
        "workflow calls; use PolicyProfile.least_privilege()"
    )


def test_an_unknown_workflow_name_is_refused() -> None:
    with pytest.raises(ValueError) as error:
        workflow("restore-everything")
    assert str(error.value).startswith(
        "workflow 'restore-everything' is unknown: use one of instance, ami-only, ebs-volume,"
    )


#: The example app's variants as option sets: the matrix on what `cdk synth` writes.
EXAMPLE_OPTION_SETS = {
    "user_with_key": OptionSet("user_with_key example", PolicyOptions()),
    "kb1025": OptionSet("kb1025 example", PolicyOptions(profile=PolicyProfile.KB1025)),
    "all_options": OptionSet(
        "all_options example",
        PolicyOptions(
            allowed_regions=("us-east-1",),
            instance_tag=TAG,
            federation=True,
            email_notifications=True,
        ),
        kms=True,
    ),
}


@pytest.mark.parametrize("variant", sorted(EXAMPLE_OPTION_SETS))
def test_workflows_on_the_synthesized_example(
    examples: dict[str, Synthesized], variant: str
) -> None:
    synth, option_set = examples[variant], EXAMPLE_OPTION_SETS[variant]
    policies = Policies(
        as_policy(synth.policy_document("identity", refs=PSEUDO)),
        as_policy(synth.policy_document("vmimport", refs=PSEUDO), "vmimport"),
    )
    found = [line for flow in WORKFLOWS for line in failures(option_set, flow, policies)]
    assert found == []
    assert sum(len(rows_for(option_set, flow)[1]) for flow in WORKFLOWS) > 100


def test_the_construct_warns_of_each_workflow_it_cannot_serve(
    examples: dict[str, Synthesized],
) -> None:
    annotations = Annotations.from_stack(examples["all_options"].stack)
    for name, fragment in [
        ("spot-launch", "RequestSpotInstances tags only the Spot request"),
        ("legacy-import", "ImportInstance and ImportVolume cannot tag what they create"),
    ]:
        annotations.has_warning(
            "*",
            Match.string_like_regexp(
                f"The {name} restore .* is not granted: {fragment}.*"
                rf"\[ack: restore-permissions:unsupported-workflow:{name}\]"
            ),
        )
    Annotations.from_stack(examples["kb1025"].stack).has_warning(
        "*",
        Match.string_like_regexp(
            "The ebs-volume restore .* is not granted: PolicyProfile\\.kb1025\\(\\) does not grant "
            "ec2:CreateVolume, .*"
        ),
    )


def test_cli_explains_workflows_as_json() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "restore_permissions",
            "explain",
            "--workflows",
            "--instance-tag",
            "k=v",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    records = {r["workflow"]: r for r in json.loads(result.stdout)}
    assert list(records) == [w.name for w in WORKFLOWS]
    spot = records["spot-launch"]
    assert spot["status"] == "unsupported"
    request = next(c for c in spot["calls"] if c["action"] == "ec2:RequestSpotInstances")
    assert request["allowed_by"]["ec2:spot-instances-request"] == "NOT GRANTED"
    launch = next(c for c in records["instance"]["calls"] if c["action"] == "ec2:RunInstances")
    assert launch["allowed_by"] == {
        "ec2:instance": "Ec2CreateTagged",
        "ec2:image": "Ec2UseResources",
        "ec2:subnet": "Ec2UseResources",
        "ec2:security-group": "Ec2UseResources",
        "ec2:key-pair": "Ec2UseResources",
        "ec2:network-interface": "Ec2UseResources",
        "ec2:volume": "Ec2UseResources",
    }
