"""Runs the restore-permissions command line in the test process.

Each ``python -m restore_permissions`` costs a new interpreter and its imports
(about 0.4 s); the command line is pure Python, so most tests call its
``main`` here, with stdout and stderr captured and ``SystemExit`` turned into
the exit code, as the process would give them. tests/test_cli.py keeps the
real process for the console script and for ``python -m``, and compares it
with this.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from restore_permissions.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m restore_permissions ARGS``, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            if isinstance(exit_.code, str):
                # sys.exit("message"): the interpreter prints it and exits 1.
                print(exit_.code, file=sys.stderr)
                code = 1
            else:
                code = exit_.code or 0
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "restore_permissions", *args], code, out.getvalue(), err.getvalue()
    )
