"""make bench: the construct's synth time against the same stack written by hand, and more.

Every case runs as `cdk synth` runs an app: `python <app>` with the project's
cdk.json context in CDK_CONTEXT_JSON and a fresh CDK_OUTDIR. Cases alternate
within each round, so that load on the machine affects all of them alike, and
each round gives one ratio of the construct's app to its hand-written twin:
the report gives their min, median and max. A last pass counts jsii round
trips (bench/jsii_calls.py), apart from the timed runs.

By default (about 3 minutes on a quiet 2-core machine) it runs the cases the
targets need: the floor, the example app and 100 role-mode customers, each
beside its hand-written twin. ``--full`` adds the large and Node cases (the
long run, and the one ``--write`` records in bench/README.md).

jsii runs the venv's Node.js 24 (requirements.txt). When the machine has
another Node on PATH (Node 20 here), the floor and the example app also run on
it, through JSII_NODE, so that the two are compared in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from restore_permissions.policy import iam_size

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


@dataclass
class Case:
    name: str
    argv: list[str]
    #: The floor gets no cdk.json context: with its feature flags, CDK's
    #: template validation refuses an empty stack.
    with_context: bool = True
    seconds: list[float] = field(default_factory=list)
    #: User and system CPU time of the app and of its jsii Node process.
    cpu_seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    policies: int = 0
    policy_chars: int = 0
    template_bytes: int = 0
    #: Customers in the case's stack, for bytes per customer.
    customers: int = 0
    #: Environment entries of this case only (the Node.js that jsii runs).
    env: dict[str, str] = field(default_factory=dict)


VENV_NODE = pathlib.Path(sys.executable).parent / "node"


def system_node() -> str | None:
    """The machine's own Node.js: the first ``node`` on PATH outside the venv."""
    venv_bin = str(pathlib.Path(sys.executable).parent)
    path = os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != venv_bin
    )
    return shutil.which("node", path=path)


def node_version(node: str | pathlib.Path) -> str:
    return subprocess.run(
        [str(node), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def node_cases(python: str) -> list[Case]:
    """The floor and the example app on the machine's own Node, beside the venv's."""
    node = system_node()
    if node is None or node_version(node) == node_version(VENV_NODE):
        return []
    version = node_version(node)
    env = {
        "JSII_NODE": node,
        # Only here, to keep the end-of-life banner out of the measured runs.
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": version.lstrip("v").split(".")[0],
    }
    return [
        Case(
            f"floor on the machine's Node {version}",
            [python, str(BENCH / "apps" / "empty.py")],
            with_context=False,
            env=env,
        ),
        Case(
            f"example app on the machine's Node {version}",
            [python, str(ROOT / "app.py")],
            env=env,
        ),
    ]


FLOOR = "floor: empty app, one empty stack"
HANDWRITTEN = "hand-written: the example's resources with aws-cdk-lib alone"
EXAMPLE = "example app (app.py, -c bucket_name=my-backups)"
HANDWRITTEN_100 = "hand-written: 100 customers in role mode, with aws-cdk-lib alone"
CUSTOMERS_100 = "100 role-mode RestorePermissions in one stack"
#: (construct's case, its hand-written twin, target ratio), from issue 21.
RATIOS = ((EXAMPLE, HANDWRITTEN, 1.00), (CUSTOMERS_100, HANDWRITTEN_100, 1.05))


def cases(*, full: bool) -> list[Case]:
    python = sys.executable
    ratio_cases = [
        Case(FLOOR, [python, str(BENCH / "apps" / "empty.py")], with_context=False),
        Case(HANDWRITTEN, [python, str(BENCH / "apps" / "handwritten.py")]),
        Case(EXAMPLE, [python, str(ROOT / "app.py")]),
        Case(HANDWRITTEN_100, [python, str(BENCH / "apps" / "handwritten_customers.py")]),
        Case(CUSTOMERS_100, [python, str(BENCH / "apps" / "role_mode.py")]),
    ]
    if not full:
        return ratio_cases
    return [
        *ratio_cases,
        Case(
            "CDK baseline: one IAM user, cdk.json context, AwsSolutions pack",
            [python, str(BENCH / "apps" / "baseline.py")],
        ),
        *(
            Case(
                f"{n:,} buckets on one principal",
                [python, str(BENCH / "apps" / "buckets.py"), str(n)],
            )
            for n in (10, 100, 1000)
        ),
        *(
            Case(
                f"{n} {mode}-mode customers, 63-character bucket names, no outputs",
                [python, str(BENCH / "apps" / "customers.py"), mode, str(n)],
                customers=n,
            )
            for mode, n in (("user", 98), ("role", 245))
        ),
        *node_cases(python),
    ]


def context() -> dict[str, object]:
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    # What the CDK CLI passes: cdk.json's context, path metadata, the app's -c options.
    return {
        **cdk_json["context"],
        "aws:cdk:enable-path-metadata": True,
        "bucket_name": "my-backups",
    }


def run_once(case: Case, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as outdir:
        started = time.perf_counter()
        process = subprocess.Popen(
            case.argv,
            cwd=ROOT,
            env={
                **{k: v for k, v in env.items() if case.with_context or k != "CDK_CONTEXT_JSON"},
                **case.env,
                "CDK_OUTDIR": outdir,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # wait4 reports the peak resident set of the app and of the jsii Node
        # process it started and reaped.
        _, status, usage = os.wait4(process.pid, 0)
        case.seconds.append(time.perf_counter() - started)
        case.cpu_seconds.append(usage.ru_utime + usage.ru_stime)
        stderr = process.stderr.read().decode() if process.stderr else ""
        if status != 0:
            sys.exit(f"{case.name} failed:\n{stderr}")
        case.peak_mb.append(usage.ru_maxrss / 1024)
        case.policies, case.policy_chars = count_policies(pathlib.Path(outdir))
        case.template_bytes = sum(
            path.stat().st_size for path in pathlib.Path(outdir).glob("*.template.json")
        )


def count_policies(outdir: pathlib.Path) -> tuple[int, int]:
    """Managed policies in the synthesized templates, and the characters IAM counts
    for them as deployed in partition `aws` (JSON without whitespace)."""
    count = chars = 0
    for template_file in outdir.glob("*.template.json"):
        for resource in json.loads(template_file.read_text()).get("Resources", {}).values():
            if resource["Type"] == "AWS::IAM::ManagedPolicy":
                count += 1
                document = deployed(resource["Properties"]["PolicyDocument"])
                chars += iam_size(document)
    return count, chars


def deployed(value: object) -> object:
    """``Fn::Join``, ``Fn::Sub`` and pseudo-parameter ``Ref`` evaluated as CloudFormation would."""
    refs = {
        "AWS::Partition": "aws",
        "AWS::AccountId": "123456789012",
        "AWS::Region": "us-east-1",
        "AWS::URLSuffix": "amazonaws.com",
    }
    if isinstance(value, list):
        return [deployed(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in refs:
            return refs[value["Ref"]]
        if set(value) == {"Fn::Join"}:
            delimiter, parts = value["Fn::Join"]
            return delimiter.join(str(deployed(part)) for part in parts)
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            body = value["Fn::Sub"]
            for name, replacement in refs.items():
                body = body.replace("${" + name + "}", replacement)
            return body
        return {key: deployed(item) for key, item in value.items()}
    return value


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, Node {node_version(VENV_NODE)} from the venv"
    )


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def table(results: list[Case], rounds: int, calls: dict[str, int]) -> str:
    by_name = {case.name: case for case in results}
    floor = statistics.median(by_name[FLOOR].seconds)
    lines = [
        "| Case | Median synth (s) | Min / max (s) | Ratio to floor | Peak memory (MB) "
        "| Managed policies | Template bytes | Bytes per customer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case in results:
        median = statistics.median(case.seconds)
        lines.append(
            f"| {case.name} | {median:.2f} | {min(case.seconds):.2f} / {max(case.seconds):.2f} | "
            f"{median / floor:.2f} | {statistics.median(case.peak_mb):.0f} | {case.policies} | "
            f"{case.template_bytes:,} | "
            f"{f'{case.template_bytes // case.customers:,}' if case.customers else ''} |"
        )
    lines += [
        "",
        f"{rounds} rounds after a warm-up round; each round runs every case once, in turn.",
    ]
    for construct, handwritten, target in RATIOS:
        mine, theirs = by_name[construct], by_name[handwritten]
        wall = [a / b for a, b in zip(mine.seconds, theirs.seconds, strict=True)]
        cpu = [a / b for a, b in zip(mine.cpu_seconds, theirs.cpu_seconds, strict=True)]
        lines.append(
            f"{construct} / {handwritten}, per round: {spread(wall)}; "
            f"CPU time {spread(cpu)}; target at most {target:.2f}."
        )
    if calls:
        lines.append(
            f"jsii round trips: example app {calls[EXAMPLE]:,}, hand-written {calls[HANDWRITTEN]:,}; "
            f"per customer of 100 in one stack {calls[CUSTOMERS_100] / 100:.1f}, "
            f"hand-written {calls[HANDWRITTEN_100] / 100:.1f}."
        )
    if any(case.env for case in results):
        lines += node_speedup(results, floor, statistics.median(by_name[EXAMPLE].seconds))
    if "1,000 buckets on one principal" in by_name:
        hundred, thousand = (
            by_name["100 buckets on one principal"],
            by_name["1,000 buckets on one principal"],
        )
        per_bucket = (thousand.policy_chars - hundred.policy_chars) / 900
        lines.append(
            "Policy characters per added bucket, as IAM counts them (identity and vmimport role "
            f"together, 21-character bucket names, partition `aws`): {per_bucket:.1f}."
        )
    return "\n".join(lines)


def count_calls(results: list[Case], env: dict[str, str]) -> dict[str, int]:
    """jsii round trips of each ratio case, from one extra run under bench/jsii_calls.py."""
    calls = {}
    for construct, handwritten, _ in RATIOS:
        for name in (construct, handwritten):
            case = next(case for case in results if case.name == name)
            with tempfile.TemporaryDirectory() as outdir:
                counts = pathlib.Path(outdir) / "calls.json"
                subprocess.run(
                    [case.argv[0], str(BENCH / "jsii_calls.py"), *case.argv[1:]],
                    cwd=ROOT,
                    env={**env, "CDK_OUTDIR": outdir, "JSII_CALLS_FILE": str(counts)},
                    stdout=subprocess.DEVNULL,
                    check=True,
                )
                calls[name] = json.loads(counts.read_text())["requests"]
            progress(f"jsii round trips of {name}: {calls[name]:,}")
    return calls


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def node_speedup(results: list[Case], floor: float, example: float) -> list[str]:
    """Node 24 (the venv's) against the machine's Node, as ratios from this run."""
    by_prefix = {case.name.split(" on the machine's ")[0]: case for case in results if case.env}
    if not by_prefix:
        return ["The machine's own Node is the venv's, or missing: no Node comparison."]
    old_floor = statistics.median(by_prefix["floor"].seconds)
    old_example = statistics.median(by_prefix["example app"].seconds)
    version = node_version(by_prefix["floor"].env["JSII_NODE"])
    return [
        f"Node {node_version(VENV_NODE)} (venv) / Node {version} (machine): "
        f"floor {floor / old_floor:.2f}, example app {example / old_example:.2f} "
        "(below 1 is faster)."
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--full",
        action="store_true",
        help="add the large and Node cases to the ratio cases (the long run)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="measured rounds (default 6, or 5 with --full)"
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write the results into bench/README.md (needs --full: the table holds every case)",
    )
    parser.add_argument(
        "--no-cdk-validation",
        action="store_true",
        help="run every case with CDK_VALIDATION=false (CDK's built-in CloudFormation validation off)",
    )
    args = parser.parse_args()
    if args.write and not args.full:
        parser.error("--write records the full run: add --full")
    rounds = args.rounds or (5 if args.full else 6)
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context()),
        "PYTHONPATH": str(ROOT),
    }
    if args.no_cdk_validation:
        env["CDK_VALIDATION"] = "false"
    results = cases(full=args.full)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    progress(
        f"{len(results)} cases, a warm-up round and {rounds} measured rounds; "
        f"load average {load_before:.2f}"
    )
    for case in results:  # a warm-up round, not measured: file caches, bytecode
        run_once(case, env)
        case.seconds.clear()
        case.cpu_seconds.clear()
        case.peak_mb.clear()
    progress(f"warm-up round done in {time.monotonic() - started:.0f} s")
    for round_number in range(1, rounds + 1):
        for case in results:
            run_once(case, env)
            progress(f"round {round_number}/{rounds}: {case.seconds[-1]:5.2f} s  {case.name}")
        elapsed = time.monotonic() - started
        left = elapsed / (round_number + 1) * (rounds - round_number)
        progress(f"round {round_number}/{rounds} done; about {left:.0f} s left")
    calls = {} if args.no_cdk_validation else count_calls(results, env)
    report = table(results, rounds, calls)
    report += (
        f"\nLoad average (1 min) at the start {load_before:.2f}, "
        f"at the end {os.getloadavg()[0]:.2f}; {time.monotonic() - started:.0f} s in all."
    )
    print(report)
    if args.write:
        readme = BENCH / "README.md"
        text = readme.read_text()
        marker = "results-no-cdk-validation" if args.no_cdk_validation else "results"
        start, end = f"<!-- {marker}:start -->\n", f"<!-- {marker}:end -->"
        stamp = f"Measured on {datetime.date.today().isoformat()}, {machine()}.\n\n"
        text = (
            text[: text.index(start) + len(start)] + stamp + report + "\n" + text[text.index(end) :]
        )
        readme.write_text(text)


if __name__ == "__main__":
    main()
