"""Sizing in a consumer app with a default cdk.json, synthesized by the real CDK CLI.

A consumer's cdk.json does not turn version reporting off, so CDK adds its
``AWS::CDK::Metadata`` resource to every stack. The README's customers-per-stack
numbers come from here: the largest count synthesizes, one more fails at
construction with one line naming the limit, not with CDK's trace at synth.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from .conftest import ROOT

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"

#: The consumer's app: N customers in one stack, each with a 63-character
#: bucket name (the longest, as bench/apps/customers.py), no outputs.
APP = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from restore_permissions import RestoreIdentity, RestorePermissions, RestorePermissionsError

mode, count = sys.argv[1], int(sys.argv[2])
app = cdk.App()
stack = cdk.Stack(app, "Customers")
try:
    for i in range(count):
        RestorePermissions(
            stack,
            f"Customer{i}",
            bucket=f"c{i:03d}-" + "b" * 58,
            create_outputs=False,
            identity=None
            if mode == "user"
            else RestoreIdentity.role(
                assumed_by=iam.AccountPrincipal("111122223333"), external_id=f"customer-{i:04d}"
            ),
        )
except RestorePermissionsError as error:
    sys.exit(str(error))
app.synth()
"""

#: The largest number of customers per stack in a default app (README, "Spreading
#: customers over stacks"): one more fails.
LARGEST = {"user": 98, "role": 244}
#: Resources per customer: user, group, policy, access key, secret; role, policy.
PER_CUSTOMER = {"user": 5, "role": 2}


def cdk_synth(tmp_path: pathlib.Path, mode: str, count: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(APP)
    # What `cdk init` writes, less its feature flags: no "versionReporting" key.
    (tmp_path / "cdk.json").write_text(
        json.dumps({"app": f"{sys.executable} app.py {mode} {count}"})
    )
    env = {
        **os.environ,
        "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    return subprocess.run(
        [str(CDK_CLI), "synth", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.parametrize("mode", ["user", "role"])
def test_the_readme_sizing_holds_in_a_default_consumer_app(
    tmp_path: pathlib.Path, mode: str
) -> None:
    assert CDK_CLI.exists(), "run `make install` (npm ci) first"
    largest = LARGEST[mode]
    (tmp_path / "fits").mkdir()
    fits = cdk_synth(tmp_path / "fits", mode, largest)
    assert fits.returncode == 0, fits.stderr
    template = json.loads((tmp_path / "fits" / "cdk.out" / "Customers.template.json").read_text())
    resources = template["Resources"]
    # The default app carries CDK's metadata resource, and it is counted.
    assert "AWS::CDK::Metadata" in {r["Type"] for r in resources.values()}
    # ...and the count is tight: one more customer's resources do not fit.
    assert 500 - PER_CUSTOMER[mode] < len(resources) <= 500, len(resources)
    (tmp_path / "one-more").mkdir()
    one_more = cdk_synth(tmp_path / "one-more", mode, largest + 1)
    assert one_more.returncode != 0
    errors = [line for line in one_more.stderr.splitlines() if "CloudFormation allows" in line]
    assert len(errors) == 1, one_more.stderr
    assert errors[0].startswith(f"Customers/Customer{largest}: stack 'Customers' would have ")
    assert "counting the AWS::CDK::Metadata resource" in errors[0]
    # One line, not a JavaScript trace.
    assert "Traceback" not in one_more.stderr and "jsii" not in one_more.stderr
