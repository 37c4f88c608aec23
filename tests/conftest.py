"""Shared, session-scoped synthesized apps, and the rules that keep the tests parallel-safe.

Every app is built with cdk.json's context (feature flags, path metadata), so
the templates under test are the ones ``cdk synth`` writes; a test in
test_example_app.py checks that against the real CLI.

``make unit`` runs the suite in parallel: ``pytest -n auto --dist loadfile
--no-loadscope-reorder`` (pytest-xdist), one worker process per core, each with its own jsii kernel.
The tests of one module run in one worker, in order, so a module-scoped
fixture is built once; tests of different modules run at the same time. So
that a new test stays correct there:

* Write only under ``tmp_path`` (or ``tmp_path_factory``), never to a fixed
  path: not ``cdk.out``, ``cdk.out.local`` or a name under ``/tmp`` in the
  repository or elsewhere. Pass ``--output tmp_path`` to ``cdk synth`` and
  ``DEPLOY_LOCAL_OUT`` to scripts/deploy-local.sh.
* A server (moto_server) listens on 127.0.0.1 on a port the OS picks (bind
  to port 0), is started by the test or its fixture and stopped by it.
* Environment variables are set with ``monkeypatch`` (or restored by the
  fixture that sets them): each worker is a process of its own, but tests in
  one worker share ``os.environ``.
* Reuse a synthesized app through a session fixture here (``examples``,
  ``two_in_one_stack``) rather than synthesizing it again; each worker builds
  a session fixture at most once, on first use.
* Tests that must share an expensive fixture (building a wheel and a venv,
  say) live in one module and share it through a module-scoped fixture. A
  session fixture is built once per worker that uses it.

``pytest tests/test_x.py`` without ``-n`` still runs serially, for a quick
targeted run.
"""

from __future__ import annotations

import os

# CDK's built-in CloudFormation validation (a WebAssembly rule engine) costs
# about 2.5 s of CPU to start in every process that synthesizes, and about
# 0.1 s per synth after that: with it, the processes the tests start spent
# more time starting the engine than synthesizing. It is off for the tests'
# apps and subprocesses (set before aws_cdk starts its jsii kernel, which
# copies the environment), and on where it is the subject: the example
# variants are validated by an explicitly added plugin (``_Examples`` below,
# tests/test_cloudformation_validate.py), and the real `cdk synth` of
# tests/test_example_app.py runs with it as users do.
os.environ.setdefault("CDK_VALIDATION", "false")

import functools
import json
import pathlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

import app as example_app
from restore_permissions import (
    PolicyProfile,
    RestorePermissions,
)
from restore_permissions.policy import PolicyOptions

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: cdk.json's context, plus what the CDK CLI itself passes to every app: path
#: metadata (on by default; cdk.json may not set "aws:" keys).
CDK_JSON_CONTEXT: Mapping[str, Any] = {
    **json.loads((ROOT / "cdk.json").read_text())["context"],
    "aws:cdk:enable-path-metadata": True,
}

BUCKET = "my-backups"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: The example app's variants: name -> ``-c`` options. Each is snapshotted,
#: linted and checked by the four cdk-nag packs.
EXAMPLE_VARIANTS: Mapping[str, Mapping[str, str]] = {
    "user_with_key": {"bucket_name": BUCKET},
    "user_without_key": {"bucket_name": BUCKET, "create_access_key": "false"},
    "role_with_external_id": {
        "bucket_name": BUCKET,
        "principal_type": "role",
        "trusted_account": "111122223333",
        "external_id": "restore-4f1c9a",
    },
    "role_on_ec2": {"bucket_name": BUCKET, "principal_type": "role", "instance_profile": "true"},
    "use_existing_vmimport": {"bucket_name": BUCKET, "vm_import_role": "use-existing"},
    "no_vmimport": {"bucket_name": BUCKET, "vm_import_role": "none"},
    "bucket_parameter": {},
    "kb1025": {"bucket_name": BUCKET, "profile": "kb1025"},
    "all_options": {
        "bucket_name": BUCKET,
        "allowed_regions": "us-east-1",
        "instance_tag": "restore-permissions=restored",
        "federation": "true",
        "email_notifications": "true",
        "kms_key_arn": KMS_KEY_ARN,
    },
}


@dataclass
class Synthesized:
    """One synthesized app and the template of the stack under test."""

    app: cdk.App
    stack: cdk.Stack
    template_json: dict[str, Any]

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json)

    def policy_document(
        self, owner: str = "identity", *, refs: Mapping[str, Any] | None = None
    ) -> Any:
        """The restore identity's ("identity") or the vmimport role's ("vmimport") managed
        policy document; with ``refs``, references resolved (see :func:`resolve_cfn`)."""
        documents = [
            resource["Properties"]["PolicyDocument"]
            for logical_id, resource in self.resources("AWS::IAM::ManagedPolicy").items()
            if logical_id.startswith("VmImportServiceRole") == (owner == "vmimport")
        ]
        # The identity's statements are in its own policy and the stack's shared
        # one: the document is all of them, shared first.
        documents.sort(key=lambda d: not _is_shared(d))
        document = {
            "Version": "2012-10-17",
            "Statement": [s for d in documents for s in d["Statement"]],
        }
        return document if refs is None else resolve_cfn(document, refs)

    def resources(self, resource_type: str) -> dict[str, Any]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }


def profile_of(**options: Any) -> PolicyOptions:
    """The profile for old-style option keywords: ``profile`` picks the factory, the rest are its options."""
    if options.pop("profile", PolicyProfile.LEAST_PRIVILEGE) is PolicyProfile.KB1025:
        return PolicyProfile.kb1025(**options)
    return PolicyProfile.least_privilege(**options)


def _is_shared(document: Mapping[str, Any]) -> bool:
    """Whether a policy document is a stack's shared one (it names no bucket or key)."""
    return not any(
        str(s.get("Sid", "")).startswith(
            ("BackupBucket", "BackupObjects", "BackupKey", "Kb1025Bucket", "Kb1025Objects")
        )
        for s in document["Statement"]
    )


def new_app(**context: Any) -> cdk.App:
    """An App with cdk.json's context, as ``cdk synth`` builds it."""
    return cdk.App(context={**CDK_JSON_CONTEXT, **context})


def synthesize(app: cdk.App, stack: cdk.Stack) -> Synthesized:
    assembly = app.synth()
    return Synthesized(app, stack, assembly.get_stack_by_name(stack.stack_name).template)


@functools.cache
def _cloudformation_validate() -> cdk.CloudFormationValidatePlugin:
    """CDK's built-in CloudFormation validation, added to the example apps by hand
    (CDK_VALIDATION=false above turns off only the automatic one); one instance,
    so its rule engine starts once per process."""
    return cdk.CloudFormationValidatePlugin()


def add_cloudformation_validate(app: cdk.App) -> cdk.App:
    """``app`` with CDK's CloudFormation validation, whatever CDK_VALIDATION says."""
    cdk.Validations.of(app).add_plugins(_cloudformation_validate())
    return app


def cloudformation_validate_findings(app: cdk.App) -> list[str]:
    """What CDK's CloudFormation validation reported on ``app``'s last synth."""
    report = json.loads((pathlib.Path(app.outdir) / "validation-report.json").read_text())
    return [
        f"{violation['ruleName']}: {violation['description']}"
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "CloudFormation Validate"
        for violation in plugin["violations"]
    ]


def synthesize_example(**options: str) -> Synthesized:
    app = add_cloudformation_validate(example_app.build_app({**CDK_JSON_CONTEXT, **options}))
    (stack,) = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    return synthesize(app, stack)


def synthesize_stack(build: Callable[[cdk.Stack], object], **context: Any) -> Synthesized:
    """Synthesize one stack named ``Test`` that ``build`` fills."""
    app = new_app(**context)
    stack = cdk.Stack(app, "Test")
    build(stack)
    return synthesize(app, stack)


class _Examples(Mapping[str, Synthesized]):
    """The example app's variants, each synthesized on first use, then kept.

    A worker that runs only tests of ``user_with_key`` synthesizes only that.
    """

    def __init__(self) -> None:
        self._synthesized: dict[str, Synthesized] = {}

    def __getitem__(self, name: str) -> Synthesized:
        if name not in self._synthesized:
            self._synthesized[name] = synthesize_example(**EXAMPLE_VARIANTS[name])
        return self._synthesized[name]

    def __iter__(self) -> Iterator[str]:
        return iter(EXAMPLE_VARIANTS)

    def __len__(self) -> int:
        return len(EXAMPLE_VARIANTS)


@pytest.fixture(scope="session")
def examples() -> Mapping[str, Synthesized]:
    return _Examples()


@pytest.fixture(scope="session")
def two_in_one_stack() -> Synthesized:
    """Two customers' RestorePermissions in one stack, sharing the vmimport role."""

    def build(stack: cdk.Stack) -> None:
        RestorePermissions(stack, "CustomerA", bucket="customer-a-backups")
        RestorePermissions(stack, "CustomerB", bucket="customer-b-backups")

    return synthesize_stack(build)


def resolve_cfn(value: Any, refs: Mapping[str, Any]) -> Any:
    """Evaluate ``Ref``, ``Fn::Join`` and ``Fn::Sub`` in a template fragment, as CloudFormation would.

    ``refs`` gives the value of each referenced name (pseudo parameters, parameters).
    """
    if isinstance(value, list):
        return [resolve_cfn(item, refs) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return refs[value["Ref"]]
        if set(value) == {"Fn::Join"}:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(str(resolve_cfn(item, refs)) for item in items)
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            body = value["Fn::Sub"]
            for name, replacement in refs.items():
                body = body.replace("${" + name + "}", str(replacement))
            return body
        return {key: resolve_cfn(item, refs) for key, item in value.items()}
    return value


#: What the test templates' pseudo parameters resolve to.
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::AccountId": "111122223333",
    "AWS::Region": "us-east-1",
    "AWS::URLSuffix": "amazonaws.com",
}


def actions_of(document: Mapping[str, Any]) -> set[str]:
    """Every action a policy document grants."""
    return {
        action
        for statement in document["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


#: The modules that take longest (``pytest --durations=0``, summed per module),
#: longest first. With ``--no-loadscope-reorder`` (the Makefile's ``make unit``)
#: pytest-xdist hands out modules in collection order, so these start first and
#: the modules still running at the end are short ones. (Without it, xdist
#: orders modules by their number of tests, and the long subprocess-bound
#: modules, which have few tests, ran last, keeping one worker busy at the end.)
LONGEST_MODULES = (
    "test_consumer_app",
    "test_consumer_sizing",
    "test_moto",
    "test_app_context",
    "test_mutate",
    "test_deploy_local",
    "test_snapshots",
    "test_vm_import",
    "test_bench_twins",
    "test_nag",
    "test_check",
    "test_cli_pipes",
    "test_resource_count",
    "test_example_app",
    "test_key_grants_composition",
    "test_workflows",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first (LONGEST_MODULES); the rest, and each module's tests, in order."""

    def rank(item: pytest.Item) -> int:
        name = item.path.stem
        return LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES)

    items.sort(key=rank)  # stable: a module's tests keep their order
