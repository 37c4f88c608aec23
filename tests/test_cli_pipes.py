"""Every subcommand is pipe-safe: a reader that stops early gets no traceback.

The installed ``restore-permissions`` command writes into a pipe whose reader
is already closed (every write fails, deterministically), with and without
PYTHONUNBUFFERED; and into ``head -c 10``, as a user pipes it.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys

import pytest

from restore_permissions.cli import _parser

from .conftest import ROOT

COMMAND = str(pathlib.Path(sys.executable).parent / "restore-permissions")
TEMPLATE = str(
    ROOT / "tests/__snapshots__/test_snapshots/test_template_snapshot[user_with_key].json"
)
BUCKETS = [arg for i in range(120) for arg in ("--bucket", f"customer-{i:03d}-backups")]

#: Each subcommand with arguments that print without AWS, a few of them large.
CASES: dict[str, list[str]] = {
    "policy": ["policy", "--bucket", "my-backups"],
    "policy --split": ["policy", "--split", *BUCKETS],
    "vmimport-role": ["vmimport-role", "--bucket", "my-backups", "--account", "111122223333"],
    "vmimport-role --split": ["vmimport-role", "--split", "--account", "111122223333", *BUCKETS],
    "explain": ["explain"],
    "explain --format json": ["explain", "--format", "json"],
    "explain --workflows": ["explain", "--workflows"],
    "explain --blast-radius": ["explain", "--blast-radius"],
    "check": ["check", "--operator-policy", "--stack", "RestorePermissions"],
    "diff": ["diff", TEMPLATE, TEMPLATE],
    "--help": ["--help"],
}


def test_every_subcommand_has_a_case() -> None:
    (commands,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {args[0] for args in CASES.values() if args[0] != "--help"}


def test_the_cases_print_when_read() -> None:
    """A control: the same commands, read to the end, succeed."""
    for args in CASES.values():
        result = subprocess.run([COMMAND, *args], capture_output=True, text=True, check=False)
        assert (result.returncode, result.stderr) == (0, ""), args
        assert len(result.stdout) > 100


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED=1"])
@pytest.mark.parametrize("case", CASES)
def test_a_closed_pipe_ends_quietly(case: str, unbuffered: bool) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        result = subprocess.run(
            [COMMAND, *CASES[case]],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    # 141 = 128 + SIGPIPE: what a command killed by the signal reports to the shell.
    # Unbuffered, argparse's help ignores its failed write and exits 0.
    assert result.returncode == (0 if case == "--help" and unbuffered else 141)


@pytest.mark.parametrize("case", ["policy --split", "vmimport-role --split", "explain"])
def test_piped_into_head(case: str) -> None:
    """As the issue ran it: `restore-permissions ... | head -c 10`."""
    script = " ".join([COMMAND, *CASES[case]]) + " | head -c 10; echo; echo ${PIPESTATUS[0]} >&2"
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert len(result.stdout.strip()) == 10
    # Only the exit status on stderr: no traceback. 0 when head read all before closing.
    assert result.stderr.strip() in ("0", "141"), result.stderr
