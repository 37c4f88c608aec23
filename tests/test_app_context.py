"""The example app's ``-c`` options, as a user meets them: every error is one line, exit code 1.

Every case of CASES runs the app's ``main`` with cdk.json's context and the
case's ``-c`` options, as ``python app.py`` does, and reads what it wrote to
file descriptors 1 and 2 (Node's output included). PROCESS_CASES run as
``python app.py`` with the context in CDK_CONTEXT_JSON, which is how the CDK
CLI runs the app (cdk.json's context, the CLI's ``aws:cdk:`` settings and the
``-c`` options, merged), and CDK_SYNTH_CASES through the real ``cdk synth``,
for the CLI's own lines around the app's. (A process per case took 1.5 s of
CPU each, most of it starting Node and loading aws-cdk-lib; ``cdk synth`` per
case, several seconds.)
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

import app as example_app
from restore_permissions.app_context import OPTIONS, AppContext, ContextError, options_table
from restore_permissions.identity import RoleIdentity, UserIdentity
from restore_permissions.policy import PolicyProfile

from .conftest import CDK_JSON_CONTEXT, ROOT

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
ENV = {
    **os.environ,
    "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}
ROLE = {"principal_type": "role"}

#: (the -c options, the line app.py prints). A line ending in "..." is a prefix.
CASES: list[tuple[dict[str, str], str]] = [
    # Typos: refused with the closest key.
    ({"bucket_nam": "my-backups"}, "-c bucket_nam is not an option of this app: did you mean -c bucket_name?"),
    ({"principle_type": "role"}, "-c principle_type is not an option of this app: did you mean -c principal_type?"),
    ({"instance-tag": "team=restore"}, "-c instance-tag is not an option of this app: did you mean -c instance_tag?"),
    ({"externalid": "abc", **ROLE}, "-c externalid is not an option of this app: did you mean -c external_id?"),
    ({"allowed_region": "eu-west-1"}, "-c allowed_region is not an option of this app: did you mean -c allowed_regions?"),
    ({"verbose": "true"}, "-c verbose is not an option of this app: the options are bucket_name, legacy_bucket_name, ..."),
    # Empty values: refused, not a silent fallback to the default.
    ({"bucket_name": ""}, "-c bucket_name is empty: give a value (-c bucket_name=VALUE), or leave the option out (default: a BucketName parameter)"),
    ({"external_id": "", **ROLE}, "-c external_id is empty: give a value (-c external_id=VALUE), or leave the option out (default: none)"),
    ({"allowed_regions": "eu-west-1,"}, "-c allowed_regions='eu-west-1,' is invalid: it has an empty item"),
    # Keys that do not apply to the mode chosen (or defaulted).
    ({"external_id": "abc"}, "-c external_id applies only with -c principal_type=role, and -c principal_type is user (the default)"),
    ({"trusted_account": "123456789012"}, "-c trusted_account applies only with -c principal_type=role, and -c principal_type is user (the default)"),
    ({"instance_profile": "true"}, "-c instance_profile applies only with -c principal_type=role, and -c principal_type is user (the default)"),
    ({"create_access_key": "false", **ROLE}, "-c create_access_key applies only with -c principal_type=user, and -c principal_type is role"),
    ({"access_key_slots": "a,b", **ROLE}, "-c access_key_slots applies only with -c principal_type=user, and -c principal_type is role"),
    ({"federation": "true", "profile": "kb1025"}, "-c federation applies only with -c profile=least-privilege, and -c profile is kb1025"),
    ({"instance_tag": "team=restore", "profile": "kb1025"}, "-c instance_tag applies only with -c profile=least-privilege, and -c profile is kb1025"),
    ({"target_ous": "ou-ab12-11111111"}, "-c target_ous applies only with -c rollout=stackset, and -c rollout is none (the default)"),
    ({"legacy_bucket_name": "true"}, "-c legacy_bucket_name applies only with -c bucket_name"),
    ({"access_key_slots": "a,b", "create_access_key": "false"}, "-c access_key_slots and -c create_access_key=false exclude each other"),
    ({"instance_profile": "true", "trusted_account": "111122223333", **ROLE}, "-c instance_profile=true and -c trusted_account exclude each other: ..."),
    # Values: the stack name's included (it was a 36-line jsii traceback).
    ({"stack_name": "bad_name!"}, "-c stack_name='bad_name!' is invalid: a stack name is 1 to 128 letters, digits and hyphens, starting with a letter"),
    ({"stack_name": "1restore"}, "-c stack_name='1restore' is invalid: a stack name is 1 to 128 letters, digits and hyphens, starting with a letter"),
    ({"principal_type": "admin"}, "-c principal_type='admin' is invalid: use one of user, role"),
    ({"access_key_serial": "two"}, "-c access_key_serial='two' is invalid: use a whole number >= 0"),
    ({"bucket_name": "My_Bucket"}, "-c bucket_name='My_Bucket' is invalid: it contains 'B', 'M', '_'; ..."),
    ({"rollout": "stackset"}, "-c target_ous is required with -c rollout=stackset: ou-...,ou-..."),
    ({"rollout": "stackset", "target_ous": "ou-ab12-11111111"}, "-c regions is required with -c rollout=stackset: one Region"),
    # A value the construct refuses: its RestorePermissionsError, on one line too.
    ({"external_id": "a", **ROLE}, "RestorePermissions/Restore: external_id='a' is invalid: ..."),
]  # fmt: skip

#: The cases that also run through the real CDK CLI.
CDK_SYNTH_CASES = [0, 9, 20]


def _matches(line: str, expected: str) -> bool:
    if expected.endswith("..."):
        return line.startswith(expected[: -len("...")])
    return line == expected


def _run_app(options: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``python app.py`` as the CDK CLI runs it."""
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**ENV, "CDK_CONTEXT_JSON": json.dumps({**CDK_JSON_CONTEXT, **options})},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


#: The cases that also run as ``python app.py``: an unknown key, a key that
#: does not apply, a value, and a prop that the construct refuses.
PROCESS_CASES = [0, 9, 20, len(CASES) - 1]


@pytest.fixture(scope="module")
def app_runs() -> dict[int, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(_run_app, [CASES[index][0] for index in PROCESS_CASES])
        return dict(zip(PROCESS_CASES, runs, strict=True))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20
    assert len({json.dumps(options, sort_keys=True) for options, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("index", "line"),
    [(i, line) for i, (_, line) in enumerate(CASES)],
    ids=[str(i) for i in range(len(CASES))],
)
def test_a_bad_context_is_one_line_and_exit_code_1(
    index: int, line: str, capfd: pytest.CaptureFixture[str]
) -> None:
    exit_code = example_app.main({**CDK_JSON_CONTEXT, **CASES[index][0]})
    stdout, stderr = capfd.readouterr()
    assert exit_code == 1, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert _matches(lines[0], f"app.py: error: {line}"), lines[0]


@pytest.mark.parametrize("index", PROCESS_CASES)
def test_python_app_py_exits_1_with_the_line(
    index: int, app_runs: dict[int, subprocess.CompletedProcess[str]]
) -> None:
    result = app_runs[index]
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert _matches(lines[0], f"app.py: error: {CASES[index][1]}"), lines[0]


@pytest.mark.parametrize("index", CDK_SYNTH_CASES)
def test_a_bad_context_under_the_real_cdk_synth(index: int, tmp_path: pathlib.Path) -> None:
    options, line = CASES[index]
    args = [arg for key, value in options.items() for arg in ("-c", f"{key}={value}")]
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--output", str(tmp_path), *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [text for text in result.stderr.splitlines() if text]
    assert len(lines) == 2 and _matches(lines[0], f"app.py: error: {line}"), result.stderr
    assert lines[1] == "python3 app.py: Subprocess exited with error 1"


def test_the_app_runs_with_good_options() -> None:
    """A control for the cases above: the same way of running, good options, exit code 0."""
    result = _run_app({"bucket_name": "my-backups", "principal_type": "role", "external_id": "ab"})
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr


def test_defaults_and_types() -> None:
    options = AppContext.parse({"bucket_name": "my-backups"})
    assert (options.stack_name, options.bucket_name, options.rollout) == (
        "RestorePermissions",
        "my-backups",
        None,
    )
    assert isinstance(options.identity, UserIdentity)
    assert options.profile == PolicyProfile.least_privilege()
    # cdk.json may give JSON booleans; -c gives strings.
    role = AppContext.parse({"principal_type": "role", "instance_profile": True})
    assert isinstance(role.identity, RoleIdentity) and role.identity.instance_profile


def test_settings_of_cdk_and_the_library_are_not_app_options() -> None:
    AppContext.parse(
        {
            **CDK_JSON_CONTEXT,
            "aws:cdk:bundling-stacks": ["**"],
            "restore-permissions:inline-templates": "true",
            "acknowledged-issue-numbers": [32775],
        }
    )
    with pytest.raises(ContextError, match="did you mean -c regions"):
        AppContext.parse({"region": "eu-west-1"})


def test_the_readme_lists_the_options_the_app_takes() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- app-options:start -->\n", "<!-- app-options:end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)] == options_table()
    assert len(OPTIONS) == options_table().count("\n") - 2
