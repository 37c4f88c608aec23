"""make bench-tests: the test suite's wall time here, against an earlier commit's, in one run.

    make bench-tests ARGS="--baseline 1ac911a"

The baseline commit is checked out into a temporary git worktree with a venv
of its own (uv, from its own requirements-dev.txt, with the package cache
that `make install` filled) and a copy of this checkout's node_modules when
its package-lock.json is the same (else `npm ci`). Each side first runs mypy
once, untimed, as `make test` runs `make lint` before the tests (mypy's cache
is what the typing tests read), and compiles the library's bytecode where that
commit's `make unit` does. Then the rounds alternate, baseline first, so
that load on the machine affects both alike; each runs the pytest line of
that commit's `make unit` (``pytest -n auto --dist loadfile ...`` with xdist,
plain ``pytest`` for a commit whose Makefile runs it serially).

The report gives, per round, each side's wall time, the CPU time of pytest
and everything it started (user and system), the test count, and the ratio
here / baseline; then the median, min and max of the ratios.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
UV = pathlib.Path(sys.executable).parent / "uv"
PASSED = re.compile(r"(\d+) passed")


@dataclass
class Side:
    name: str
    checkout: pathlib.Path
    argv: list[str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    tests: int = 0

    @property
    def bin(self) -> pathlib.Path:
        return self.checkout / ".venv" / "bin"

    def env(self) -> dict[str, str]:
        path = [p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p]
        return {
            **{k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}},
            "PATH": os.pathsep.join([str(self.bin), *path]),
            "VIRTUAL_ENV": str(self.checkout / ".venv"),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }

    def run_once(self) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        result = subprocess.run(
            self.argv,
            check=False,
            cwd=self.checkout,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        if result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-40:])
            sys.exit(f"{self.name}: pytest exited {result.returncode}:\n{tail}\n{result.stderr}")
        self.wall.append(wall)
        self.cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        found = PASSED.search(summary)
        self.tests = int(found.group(1)) if found else 0
        print(f"  {self.name}: {wall:.1f} s wall, {self.cpu[-1]:.1f} s CPU, {summary}", flush=True)


def _unit_recipe(checkout: pathlib.Path) -> str:
    makefile = (checkout / "Makefile").read_text()
    return makefile[makefile.index("\nunit:") :].split("\n\n")[0]


def _pytest_argv(checkout: pathlib.Path) -> list[str]:
    """What the commit's `make unit` runs: its pytest line's arguments, quieter."""
    pytest = str(checkout / ".venv" / "bin" / "pytest")
    (line,) = [line for line in _unit_recipe(checkout).splitlines() if "$(BIN)/pytest" in line]
    arguments = line.split("$(BIN)/pytest", 1)[1].split()
    return [pytest, *arguments, "-q", "-p", "no:cacheprovider"]


def _prepare_baseline(ref: str, where: pathlib.Path) -> pathlib.Path:
    checkout = where / "baseline"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(checkout), ref], cwd=ROOT, check=True
    )
    python = checkout / ".venv" / "bin" / "python"
    # With pip in it, as `make install` makes it: the baseline's tests may run pip.
    subprocess.run([sys.executable, "-m", "venv", str(python.parents[1])], check=True)
    install = [str(UV), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    subprocess.run([*install, "-r", "requirements-dev.txt"], cwd=checkout, check=True)
    subprocess.run([*install, "--no-deps", "-e", "."], cwd=checkout, check=True)
    lock = "package-lock.json"
    if (checkout / lock).read_bytes() == (ROOT / lock).read_bytes():
        shutil.copytree(ROOT / "node_modules", checkout / "node_modules", symlinks=True)
    else:
        env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=checkout, env=env, check=True)
    return checkout


def _warm(side: Side) -> None:
    """What `make test` does before the tests: `make lint` (mypy's cache, which the typing
    tests read), and the bytecode that `make unit` compiles, where it does."""
    subprocess.run(
        [str(side.bin / "mypy")],
        check=False,  # its verdict is make lint's business; the cache is what counts here
        cwd=side.checkout,
        env=side.env(),
        capture_output=True,
    )
    if "compileall" in _unit_recipe(side.checkout):
        subprocess.run(
            [str(side.bin / "python"), "-m", "compileall", "-q", "restore_permissions", "app.py"],
            check=True,
            cwd=side.checkout,
            env=side.env(),
            capture_output=True,
        )


def _report(
    sides: list[Side], rounds: int, load_start: float, load_end: float, seconds: float
) -> str:
    base, here = sides
    lines = [
        f"Measured on {datetime.date.today().isoformat()}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        f"{rounds} rounds, alternated, the baseline first in each; `{' '.join(base.argv[1:])}` "
        f"at the baseline ({base.name}), `{' '.join(here.argv[1:])}` here.",
        "",
        "| Round | Baseline wall (s) | Here wall (s) | Wall ratio | Baseline CPU (s) | Here CPU (s) | CPU ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in range(rounds):
        lines.append(
            f"| {i + 1} | {base.wall[i]:.1f} | {here.wall[i]:.1f} | {here.wall[i] / base.wall[i]:.2f} "
            f"| {base.cpu[i]:.1f} | {here.cpu[i]:.1f} | {here.cpu[i] / base.cpu[i]:.2f} |"
        )
    walls = [h / b for h, b in zip(here.wall, base.wall, strict=True)]
    cpus = [h / b for h, b in zip(here.cpu, base.cpu, strict=True)]
    lines += [
        "",
        f"Tests: {base.tests:,} at the baseline, {here.tests:,} here.",
        f"Wall time here / baseline: median {statistics.median(walls):.2f} "
        f"(min {min(walls):.2f}, max {max(walls):.2f}); CPU time: median "
        f"{statistics.median(cpus):.2f} (min {min(cpus):.2f}, max {max(cpus):.2f}).",
        f"Load average (1 min) at the start {load_start:.2f}, at the end {load_end:.2f}; "
        f"{seconds:.0f} s in all.",
    ]
    return "\n".join(lines)


def _write(report: str) -> None:
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- results-tests:start -->\n", "<!-- results-tests:end -->"
    if start not in text:
        sys.exit(f"{readme} has no {start.strip()} block")
    head, rest = text.split(start, 1)
    readme.write_text(head + start + report + "\n" + end + rest.split(end, 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds (default 2)")
    parser.add_argument(
        "--write", action="store_true", help="also write the report into bench/README.md"
    )
    args = parser.parse_args(argv)
    load_start, began = os.getloadavg()[0], time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        baseline_checkout = _prepare_baseline(args.baseline, pathlib.Path(tmp))
        try:
            sides = [
                Side(
                    f"baseline {args.baseline}", baseline_checkout, _pytest_argv(baseline_checkout)
                ),
                Side("here", ROOT, _pytest_argv(ROOT)),
            ]
            for side in sides:
                _warm(side)
            for number in range(1, args.rounds + 1):
                print(f"round {number} of {args.rounds}", flush=True)
                for side in sides:
                    side.run_once()
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(baseline_checkout)],
                check=False,
                cwd=ROOT,
            )
    report = _report(sides, args.rounds, load_start, os.getloadavg()[0], time.monotonic() - began)
    print()
    print(report)
    if args.write:
        _write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
