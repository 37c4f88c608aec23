"""Run a CDK app with every jsii kernel round trip counted: ``python bench/jsii_calls.py APP [ARGS...]``.

jsii sends each call from Python to the Node.js kernel, and each callback
from the kernel to Python, as one JSON message and waits for the answer. This
wraps the process provider's ``send``, runs the app as ``python APP`` would,
and writes the counts as JSON to the file named by ``JSII_CALLS_FILE`` (or
prints them to stderr): requests by kind (``create``, ``invoke``, ``get``...),
and callbacks by the Python method that served them. Only the bench uses it,
in a pass of its own: the counting itself costs time.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import pathlib
import runpy
import sys
from typing import Any

from jsii._kernel.providers import process
from jsii._kernel.types import Callback


def install() -> collections.Counter[str]:
    """Count every message jsii's process provider sends, from now on."""
    counts: collections.Counter[str] = collections.Counter()
    original = process._NodeProcess.send

    def send(self: Any, request: Any, response_type: Any) -> Any:
        kind = type(request).__name__.removesuffix("Request").lstrip("_").lower()
        counts[f"request:{kind}"] += 1
        if os.environ.get("JSII_CALLS_DETAIL"):
            inner = getattr(request, "complete", request)
            name = next(
                (
                    str(getattr(inner, a))
                    for a in ("method", "property", "fqn")
                    if hasattr(inner, a)
                ),
                "",
            )
            counts[f"detail:{kind}:{name}"] += 1
        response = original(self, request, response_type)
        if isinstance(response, Callback):
            counts[f"callback:{response.cookie}"] += 1
        return response

    process._NodeProcess.send = send  # type: ignore[method-assign]
    return counts


def main() -> None:
    app, *args = sys.argv[1:]
    counts = install()

    def report() -> None:
        requests = sum(n for key, n in counts.items() if key.startswith("request:"))
        payload = {"requests": requests, "by_kind": dict(counts.most_common())}
        target = os.environ.get("JSII_CALLS_FILE")
        if target:
            pathlib.Path(target).write_text(json.dumps(payload), encoding="utf-8")
        else:
            print(json.dumps(payload, indent=1), file=sys.stderr)

    atexit.register(report)
    sys.argv = [app, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(app)))  # as `python APP` has it
    runpy.run_path(app, run_name="__main__")


if __name__ == "__main__":
    main()
