"""cloudsplaining and parliament, maintained IAM analyzers, on every policy the product renders.

Each analyzer runs in-process on each policy once: the identity policy of every
option set of the workflow matrix, the vmimport role policy (new and existing
role, with and without KMS), and the example app's synthesized policies. Every
finding must be listed once in tests/analyzer_findings.py with its reason, and
every entry there must still occur, so the table stays exact.

cloudsplaining runs twice: as ``scan-policy-file`` does by default, which
judges only statements on ``Resource: "*"`` without a condition, and as with
``--flag-all-risky-actions --high-priority-only``, which also judges the risky
actions that an ARN or a condition scopes, leaving out "infrastructure
modification" (every write action). The second run keeps only what the first
does not report: its table entries name the scoping that contains each risk.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from restore_permissions.policy import PolicyTargets, vm_import_role_policy

from .analyzer_findings import (
    ACCEPTED,
    ANALYZERS,
    CLOUDSPLAINING,
    CLOUDSPLAINING_ALL_RISKY,
    PARLIAMENT,
    Finding,
)
from .conftest import BUCKET, PSEUDO, Synthesized, synthesize_example
from .workflow_matrix import OPTION_SETS, render


# The analyzers take about 2 s to import, which every xdist worker would pay
# while collecting; only the worker that runs this module imports them.
@functools.cache
def _scan_policy() -> Any:
    from cloudsplaining.command.scan_policy_file import scan_policy  # noqa: PLC0415

    return scan_policy


@functools.cache
def _parliament() -> Any:
    with warnings.catch_warnings():
        # parliament 1.6.4 imports pkg_resources (setuptools is pinned below 82 for it).
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import parliament  # type: ignore[import-untyped]  # noqa: PLC0415

    return parliament


#: What ``--high-priority-only`` leaves out of cloudsplaining's report.
LOW_PRIORITY_RISKS = ("InfrastructureModification",)

Document = Mapping[str, Any]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sid(statement: Mapping[str, Any], index: int) -> str:
    return str(statement.get("Sid") or f"Statement{index + 1}")


def _patterns(statement: Mapping[str, Any], action: str) -> list[str]:
    """The entries of the statement's Action that grant ``action``."""
    return [
        pattern
        for pattern in _as_list(statement.get("Action", []))
        if fnmatch.fnmatchcase(action.lower(), pattern.lower())
    ]


def _granting(document: Document, action: str, statements: list[int]) -> list[str]:
    """``"Sid: pattern"`` for each Action entry of ``statements`` that grants ``action``."""
    found = [
        f"{_sid(document['Statement'][index], index)}: {pattern}"
        for index in statements
        for pattern in _patterns(document["Statement"][index], action)
    ]
    return found or [f"?: {action}"]


def _allow_statements(document: Document, *, unscoped_only: bool = False) -> list[int]:
    """The Allow statements; with ``unscoped_only``, those cloudsplaining judges by default."""
    return [
        index
        for index, statement in enumerate(document["Statement"])
        if statement.get("Effect") == "Allow"
        and not (
            unscoped_only
            and ("*" not in _as_list(statement.get("Resource", [])) or "Condition" in statement)
        )
    ]


def cloudsplaining_findings(document: Document, *, flag_all_risky: bool = False) -> set[Finding]:
    """cloudsplaining's findings for ``document``, each action named by the statement granting it."""
    analyzer = CLOUDSPLAINING_ALL_RISKY if flag_all_risky else CLOUDSPLAINING
    results = _scan_policy()(
        dict(document),
        flag_conditional_statements=flag_all_risky,
        flag_resource_arn_statements=flag_all_risky,
    )
    statements = _allow_statements(document, unscoped_only=not flag_all_risky)
    found = set()
    for risk, result in results.items():
        if risk == "ServicesAffected" or (flag_all_risky and risk in LOW_PRIORITY_RISKS):
            continue
        for item in result["findings"]:
            if isinstance(item, dict):  # a privilege-escalation method
                found.add(Finding(analyzer, risk, item["type"]))
            elif risk == "ServiceWildcard":  # a service prefix
                found.add(Finding(analyzer, risk, item))
            else:
                found.update(
                    Finding(analyzer, risk, subject)
                    for subject in _granting(document, item, statements)
                )
    return found


def _one_statement_per_line(document: Document) -> str:
    """The document as JSON with statement i on line i + 2, so parliament's line numbers name it."""
    statements = ",\n".join(json.dumps(s) for s in document["Statement"])
    return f'{{"Version": {json.dumps(document["Version"])}, "Statement": [\n{statements}\n]}}'


def parliament_findings(document: Document) -> set[Finding]:
    """parliament's findings for ``document``, with its community auditors."""
    policy = _parliament().analyze_policy_string(
        _one_statement_per_line(document), include_community_auditors=True
    )
    found = set()
    for finding in policy.findings:
        line = finding.location.get("line")
        if finding.issue == "PRIVILEGE_ESCALATION":
            found.add(Finding(PARLIAMENT, finding.issue, finding.location["type"]))
            continue
        # Statement findings carry their line; policy findings (community
        # auditors) name the actions, which any Allow statement may grant.
        statements = [line - 2] if line else _allow_statements(document)
        if isinstance(finding.detail, list):
            actions = [d["action"] if isinstance(d, dict) else d for d in finding.detail]
        else:
            actions = list(finding.location.get("actions", []))
        if not actions:
            where = _sid(document["Statement"][line - 2], line - 2) if line else "policy"
            found.add(Finding(PARLIAMENT, finding.issue, f"{where}: {finding.detail}"))
        for action in actions:
            found.update(
                Finding(PARLIAMENT, finding.issue, subject)
                for subject in _granting(document, action, statements)
            )
    return found


def analyze(document: Document) -> set[Finding]:
    """Both analyzers' findings on an identity policy, cloudsplaining in both modes."""
    default = cloudsplaining_findings(document)
    all_risky = {
        finding
        for finding in cloudsplaining_findings(document, flag_all_risky=True)
        if finding._replace(analyzer=CLOUDSPLAINING) not in default
    }
    return default | all_risky | parliament_findings(document)


def catalogue_policies() -> Iterator[tuple[str, Document]]:
    """The identity policy of each option set, and the vmimport role's policy of each kind."""
    for option_set in OPTION_SETS:
        yield f"identity/{option_set.name}", render(option_set).identity.policy_doc
    target = OPTION_SETS[0].target
    for existing_role in (False, True):
        for kms in (False, True):
            arns = PolicyTargets.for_buckets(
                [target.bucket],
                account=target.account,
                kms_key_arns=[target.kms_key_arn] if kms else [],
            )
            name = f"vmimport/{'existing' if existing_role else 'new'}{'-kms' if kms else ''}"
            yield name, vm_import_role_policy(arns, existing_role=existing_role)


#: What the example app's template parameters resolve to.
PARAMETERS = {"BucketName": BUCKET}


def _unresolved(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key.startswith(("Fn::", "Ref")) or _unresolved(v) for key, v in value.items())
    return isinstance(value, list) and any(_unresolved(item) for item in value)


def example_policies(examples: Mapping[str, Synthesized]) -> Iterator[tuple[str, Document]]:
    """The restore identity's and the vmimport role's policy of each example variant.

    The roles' trust policies are not judged: both analyzers read identity
    policies only (parliament reports a trust policy's missing Resource as MALFORMED).
    """
    refs = {**PSEUDO, **PARAMETERS}
    for variant, synthesized in examples.items():
        yield f"example/{variant}/identity", synthesized.policy_document(refs=refs)
        if any(
            logical_id.startswith("VmImportServiceRole")
            for logical_id in synthesized.resources("AWS::IAM::ManagedPolicy")
        ):
            yield f"example/{variant}/vmimport", synthesized.policy_document("vmimport", refs=refs)


#: Example app variants that the shared ``examples`` fixture does not build.
MORE_EXAMPLES = {"restore_only": {"bucket_name": BUCKET, "restore_only": "true"}}


@pytest.fixture(scope="module")
def findings(examples: dict[str, Synthesized]) -> dict[Finding, list[str]]:
    """Every finding, with the policies it occurs in."""
    more = {name: synthesize_example(**options) for name, options in MORE_EXAMPLES.items()}
    where: dict[Finding, list[str]] = defaultdict(list)
    # Most example policies equal a catalogue render: each document is analyzed once.
    analyzed: dict[str, set[Finding]] = {}
    for name, document in [*catalogue_policies(), *example_policies({**examples, **more})]:
        assert not _unresolved(document), f"{name} has unresolved CloudFormation: {document}"
        key = json.dumps(document, sort_keys=True)
        if key not in analyzed:
            analyzed[key] = analyze(document)
        for finding in analyzed[key]:
            where[finding].append(name)
    return dict(where)


def unaccepted(findings: Mapping[Finding, list[str]]) -> list[str]:
    """Each finding that tests/analyzer_findings.py does not list, with where it occurs."""
    accepted = {entry.finding for entry in ACCEPTED}
    return [
        f"{finding.analyzer} {finding.issue} {finding.subject!r} in {', '.join(policies)}"
        for finding, policies in sorted(findings.items())
        if finding not in accepted
    ]


def test_every_finding_is_accepted_with_a_reason(findings: dict[Finding, list[str]]) -> None:
    new = unaccepted(findings)
    assert not new, "findings not in tests/analyzer_findings.py:\n" + "\n".join(new)


def test_every_accepted_finding_still_occurs(findings: dict[Finding, list[str]]) -> None:
    stale = [entry.finding for entry in ACCEPTED if entry.finding not in findings]
    assert not stale, f"stale entries in tests/analyzer_findings.py: {stale}"


def test_each_finding_is_listed_once_with_a_reason() -> None:
    keys = [entry.finding for entry in ACCEPTED]
    assert len(keys) == len(set(keys)), [key for key in keys if keys.count(key) > 1]
    for entry in ACCEPTED:
        assert entry.finding.analyzer in ANALYZERS, entry
        assert len(entry.reason.split()) >= 8, f"say why {entry.finding} is accepted"


def test_a_resource_mismatch_is_served_by_another_statement() -> None:
    """parliament's RESOURCE_MISMATCH on a statement that names its actions: another statement
    grants the action on the resource type reported missing (the split is a style choice)."""
    checked = 0
    for name, document in catalogue_policies():
        policy = _parliament().analyze_policy_string(_one_statement_per_line(document))
        for finding in policy.findings:
            if finding.issue != "RESOURCE_MISMATCH":
                continue
            index = finding.location["line"] - 2
            if any("*" in action for action in _as_list(document["Statement"][index]["Action"])):
                continue  # a wildcard's expansion: see its entry in analyzer_findings.py
            for missing in finding.detail:
                others = [
                    statement
                    for other, statement in enumerate(document["Statement"])
                    if other != index and _patterns(statement, missing["action"])
                ]
                assert any(
                    fnmatch.fnmatchcase(resource, missing["required_format"])
                    for statement in others
                    for resource in _as_list(statement["Resource"])
                ), (
                    f"{name}: no statement grants {missing} ({_sid(document['Statement'][index], index)})"
                )
                checked += 1
    assert checked, "no RESOURCE_MISMATCH was checked: is the tag guard still split?"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, actions: list[str], resource: str, **condition: Any) -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


INSTANCES = "arn:aws:ec2:*:111122223333:instance/*"
OBJECTS = "arn:aws:s3:::my-backups/*"
USER_DATA_THEN_RESTART = ["ec2:ModifyInstanceAttribute", "ec2:StartInstances", "ec2:StopInstances"]


@pytest.mark.parametrize(
    ("bad", "good", "expected"),
    [
        pytest.param(
            _policy(_allow("Launch", ["ec2:RunInstances", "iam:PassRole"], "*")),
            _policy(_allow("Launch", ["ec2:RunInstances"], "*")),
            Finding(CLOUDSPLAINING, "PrivilegeEscalation", "CreateEC2WithExistingIP"),
            id="cloudsplaining: iam:PassRole with a launch, on *",
        ),
        pytest.param(
            _policy(_allow("Launch", ["ec2:RunInstances", "iam:PassRole"], "*")),
            _policy(_allow("Launch", ["ec2:RunInstances"], "*")),
            Finding(PARLIAMENT, "RESOURCE_STAR", "Launch: iam:PassRole"),
            id="parliament: iam:PassRole on *",
        ),
        pytest.param(
            _policy(_allow("Manage", USER_DATA_THEN_RESTART, INSTANCES)),
            _policy(_allow("Manage", USER_DATA_THEN_RESTART[1:], INSTANCES)),
            Finding(
                CLOUDSPLAINING_ALL_RISKY,
                "PrivilegeEscalation",
                "ModifyEC2InstanceUserDataThenRestart",
            ),
            id="cloudsplaining --flag-all-risky-actions: userData then restart, on instance ARNs",
        ),
        pytest.param(
            _policy(_allow("Objects", ["s3:GetObject", "s3:PutObjectAcl"], OBJECTS)),
            _policy(_allow("Objects", ["s3:GetObject"], OBJECTS)),
            Finding(PARLIAMENT, "PERMISSIONS_MANAGEMENT_ACTIONS", "Objects: s3:PutObjectAcl"),
            id="parliament: s3:PutObjectAcl on the backups",
        ),
    ],
)
def test_the_analyzers_flag_a_bad_policy_and_not_its_fix(
    bad: dict[str, Any], good: dict[str, Any], expected: Finding
) -> None:
    assert expected in analyze(bad)
    assert expected not in analyze(good)


def test_a_scoped_escalation_is_left_to_the_second_cloudsplaining_run() -> None:
    """The default scan skips statements on ARNs; so the second run is needed to see the path."""
    scoped = _policy(_allow("Manage", USER_DATA_THEN_RESTART, INSTANCES))
    unscoped = _policy(_allow("Manage", USER_DATA_THEN_RESTART, "*"))
    escalation = Finding(
        CLOUDSPLAINING, "PrivilegeEscalation", "ModifyEC2InstanceUserDataThenRestart"
    )
    assert escalation not in cloudsplaining_findings(scoped)
    assert escalation in cloudsplaining_findings(unscoped)


def test_a_new_grant_in_the_default_policy_fails_the_gate() -> None:
    """A bucket-policy write added to the default policy is a finding the table does not accept,
    though it is scoped to the backup bucket."""
    (_, default), *_ = catalogue_policies()
    widened = _policy(
        *default["Statement"], _allow("Widened", ["s3:PutBucketPolicy"], "arn:aws:s3:::my-backups")
    )
    assert unaccepted({finding: ["default"] for finding in analyze(default)}) == []
    assert unaccepted({finding: ["widened"] for finding in analyze(widened)}) == [
        "cloudsplaining --flag-all-risky-actions ResourceExposure 'Widened: s3:PutBucketPolicy' "
        "in widened",
        "parliament PERMISSIONS_MANAGEMENT_ACTIONS 'Widened: s3:PutBucketPolicy' in widened",
    ]
