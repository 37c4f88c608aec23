"""The bench's hand-written twins write what the construct's apps write.

``make bench`` times each construct app against a twin written with
aws-cdk-lib alone (bench/README.md). The ratio means something only if both
synthesize the same template: the same resources, with the same properties
and the same policy documents, pseudo parameters included (a twin that
hard-codes the account and the ``aws`` partition writes a smaller template,
which CDK validates and writes faster). Logical ids, construct paths and the
order of resources may differ; references are compared by what they point at.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import CDK_JSON_CONTEXT, ROOT

BENCH = ROOT / "bench"

#: (construct app and its arguments, hand-written twin, the stack both write).
PAIRS = {
    "example": (["app.py"], "bench/apps/handwritten.py"),
    "role mode": (["bench/apps/role_mode.py"], "bench/apps/handwritten_customers.py"),
}


def synth(argv: list[str], outdir: pathlib.Path) -> dict[str, Any]:
    """Run an app as bench/run.py runs it; its one template."""
    outdir.mkdir()
    subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps({**CDK_JSON_CONTEXT, "bucket_name": "my-backups"}),
            "CDK_OUTDIR": str(outdir),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH / "apps")]),
        },
        check=True,
        capture_output=True,
        timeout=300,
    )
    (template,) = outdir.glob("*.template.json")
    return json.loads(template.read_text())


@pytest.fixture(scope="module", params=list(PAIRS))
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    construct_app, twin = PAIRS[request.param]
    base = tmp_path_factory.mktemp("twins")
    with ThreadPoolExecutor(2) as pool:
        construct = pool.submit(synth, construct_app, base / "construct")
        by_hand = pool.submit(synth, [twin], base / "by-hand")
        return construct.result(), by_hand.result()


def canonical(value: Any, types: dict[str, str]) -> Any:
    """``value`` with each reference to a resource replaced by the resource's type, and
    ``Fn::Join``/``Fn::Sub`` of pseudo parameters rendered as one ``${AWS::...}`` string."""
    if isinstance(value, list):
        return [canonical(item, types) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        return f"${{{types.get(name, name)}}}"
    if set(value) == {"Fn::GetAtt"}:
        name, attribute = value["Fn::GetAtt"]
        return f"${{{types.get(name, name)}.{attribute}}}"
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    if set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        rendered = [canonical(part, types) for part in parts]
        if all(isinstance(part, str) for part in rendered):
            return delimiter.join(rendered)
        return {"Fn::Join": [delimiter, rendered]}
    return {key: canonical(item, types) for key, item in value.items()}


def resources(template: dict[str, Any]) -> collections.Counter[str]:
    """Each resource as canonical JSON (type, properties, policies, dependencies), counted."""
    types = {name: resource["Type"] for name, resource in template["Resources"].items()}
    return collections.Counter(
        json.dumps(
            {
                "Type": resource["Type"],
                "Properties": canonical(resource.get("Properties", {}), types),
                "DeletionPolicy": resource.get("DeletionPolicy"),
                "UpdateReplacePolicy": resource.get("UpdateReplacePolicy"),
                "DependsOn": sorted(types[name] for name in resource.get("DependsOn", [])),
            },
            sort_keys=True,
        )
        for resource in template["Resources"].values()
    )


def test_the_twin_has_the_same_resource_types_and_counts(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    construct, by_hand = pair
    assert collections.Counter(r["Type"] for r in by_hand["Resources"].values()) == (
        collections.Counter(r["Type"] for r in construct["Resources"].values())
    )


def test_the_twin_has_the_same_policy_documents(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    def documents(template: dict[str, Any]) -> list[str]:
        types = {name: resource["Type"] for name, resource in template["Resources"].items()}
        return sorted(
            json.dumps(canonical(properties[key], types), sort_keys=True)
            for resource in template["Resources"].values()
            for properties in [resource.get("Properties", {})]
            for key in ("PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy")
            if key in properties
        )

    construct, by_hand = pair
    assert documents(by_hand) == documents(construct)


def test_the_twin_writes_the_same_resources_outputs_and_description(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    construct, by_hand = pair
    assert resources(by_hand) == resources(construct)
    types = {name: resource["Type"] for name, resource in construct["Resources"].items()}
    twin_types = {name: resource["Type"] for name, resource in by_hand["Resources"].items()}
    assert sorted(
        json.dumps(canonical(output, twin_types), sort_keys=True)
        for output in by_hand.get("Outputs", {}).values()
    ) == sorted(
        json.dumps(canonical(output, types), sort_keys=True)
        for output in construct.get("Outputs", {}).values()
    )
    assert by_hand.get("Description") == construct.get("Description")
