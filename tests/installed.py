"""The library as its users get it: a wheel, installed into a fresh venv outside the tree.

Shared by tests/test_installed_wheel.py (the wheel and its command) and
tests/test_consumer_app.py (a consumer app's lifecycle under the CDK CLI),
each of which builds its own, so that the two run in parallel.

uv, pinned in requirements-uv.txt and in the project's venv, builds the wheel
with the project's build backend (hatchling) and installs it from the package
cache that `make install` filled: the dependencies that a user's installer
resolves from the wheel's metadata, in seconds rather than pip's 20.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
UV = pathlib.Path(sys.executable).parent / "uv"


@dataclass(frozen=True)
class Consumer:
    venv: pathlib.Path
    app: pathlib.Path
    wheel: pathlib.Path

    @property
    def bin(self) -> pathlib.Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        # What `source .venv/bin/activate` does, without inheriting the project's venv.
        path = [p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(ROOT))]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JSII_", "PYTHON"))}
        return {
            **env,
            "VIRTUAL_ENV": str(self.venv),
            "PATH": os.pathsep.join([str(self.bin), *path]),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=900, **kwargs)  # type: ignore[call-overload]


def build_wheel(dist: pathlib.Path) -> pathlib.Path:
    """Build the project's wheel into ``dist``; the source tree is left as it was."""
    before = sorted(p.name for p in ROOT.iterdir())
    built = run([str(UV), "build", "--quiet", "--wheel", "--out-dir", str(dist), str(ROOT)])
    assert built.returncode == 0, built.stderr
    # Building left the source tree as it was: no build/, dist/ or egg-info.
    assert sorted(p.name for p in ROOT.iterdir()) == before
    (wheel,) = dist.glob("restore_permissions-*.whl")
    return wheel


def new_venv(venv: pathlib.Path) -> list[str]:
    """Create an empty venv at ``venv``; return the command that installs into it."""
    created = run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)])
    assert created.returncode == 0, created.stderr
    return [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]


def install_consumer(root: pathlib.Path, app_source: str) -> Consumer:
    """The wheel with its ``node`` extra in a venv under ``root``, and an app beside it."""
    wheel = build_wheel(root / "dist")
    venv = root / ".venv"
    installed = run([*new_venv(venv), f"{wheel}[node]"])
    assert installed.returncode == 0, installed.stderr
    app = root / "app"
    app.mkdir()
    (app / "app.py").write_text(app_source)
    (app / "cdk.json").write_text('{"app": "python3 app.py"}')
    return Consumer(venv, app, wheel)
