"""Invalid combinations are type errors: mypy, run on small programs that use the API."""

from __future__ import annotations

import pathlib
import textwrap

import pytest
from mypy import api

from .conftest import ROOT

HEADER = """
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from restore_permissions import PolicyProfile, RestoreIdentity, RestorePermissions
stack = cdk.Stack(cdk.App(), "S")
"""


def mypy_errors(body: str, directory: pathlib.Path) -> list[str]:
    """mypy's errors for ``body`` after the imports, written to a program in ``directory``."""
    program = directory / "typing_check.py"
    program.write_text(HEADER + textwrap.dedent(body))
    stdout, _, _ = api.run(
        [
            str(program),
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
        ]
    )
    return [line.split(": error: ", 1)[1] for line in stdout.splitlines() if ": error: " in line]


def test_the_valid_api_type_checks(tmp_path: pathlib.Path) -> None:
    assert (
        mypy_errors(
            """
            RestorePermissions(stack, "A", bucket="my-backups")
            RestorePermissions(
                stack,
                "B",
                bucket="my-backups",
                identity=RestoreIdentity.role(
                    assumed_by=iam.AccountPrincipal("111122223333"), external_id="x1"
                ),
                profile=PolicyProfile.least_privilege(instance_tag=("k", "v"), federation=True),
            )
            """,
            tmp_path,
        )
        == []
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            'RestoreIdentity.user(external_id="restore-1")',
            'Unexpected keyword argument "external_id" for "user" of "RestoreIdentity"  [call-arg]',
        ),
        (
            'RestoreIdentity.role(assumed_by=iam.AccountPrincipal("1"), access_keys=[])',
            'Unexpected keyword argument "access_keys" for "role" of "RestoreIdentity"  [call-arg]',
        ),
        (
            "PolicyProfile.kb1025(federation=True)",
            'Unexpected keyword argument "federation" for "kb1025" of "PolicyProfile"  [call-arg]',
        ),
        (
            'RestorePermissions(stack, "C", bucket="b-1", external_id="x")',
            'Unexpected keyword argument "external_id" for "RestorePermissions"  [call-arg]',
        ),
    ],
    ids=["external_id on a user", "access keys on a role", "opt-in on KB1025", "old flat prop"],
)
def test_an_invalid_combination_is_a_type_error(
    body: str, error: str, tmp_path: pathlib.Path
) -> None:
    assert mypy_errors(body, tmp_path) == [error]
