# Two commands on a fresh machine (Python 3.11+ and make; Node.js 24 comes into the venv):
#   make synth   install what synth needs, synthesize the example app, run cdk-nag,
#                print the templates' paths
#   make test    install the test toolchain too, lint, type-check and run the tests
# Pass CDK context to synth with ARGS, e.g. make synth ARGS='-c bucket_name=my-backups'.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
CDK := $(CURDIR)/node_modules/.bin/cdk
ARGS ?=

# The venv's bin comes first: python3 for the CDK CLI's `app` command, and the
# venv's Node.js 24 (requirements.txt) for jsii, npm and the CDK CLI.
export PATH := $(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# uv installs the pinned requirements in parallel: a fresh install took about
# 90 s with pip and takes about 30 s with uv. It writes the bytecode at install
# time as pip does, so no process has to compile aws_cdk's modules on import.
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode

.PHONY: install install-dev synth test lint unit snapshot-update docs figures deploy-local bench bench-tests mutate clean clean-venv

# What synth needs: the runtime requirements, Node.js 24 and the CDK CLI.
install: $(VENV)/.installed node_modules/.installed
# What the tests need on top: the test toolchain (requirements-dev.txt).
install-dev: install $(VENV)/.installed-dev

$(VENV)/.installed: requirements-uv.txt requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-uv.txt
	$(UV) -r requirements.txt
	@# aws-cdk-lib and its dependency aws-cdk.cloud-assembly-schema both write
	@# aws_cdk/cloud_assembly_schema/; uv installs in parallel, so either could win,
	@# and jsii then fails to read a synth's messages. aws-cdk-lib's must (pip's
	@# order gave it that): it is installed again, last.
	$(UV) --reinstall-package aws-cdk-lib -r requirements.txt
	@# The editable install adds the restore-permissions command; its log shows only on failure.
	$(UV) --no-deps -e . > $(VENV)/editable-install.log 2>&1 \
		|| { cat $(VENV)/editable-install.log; exit 1; }
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(UV) -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	@# npm and the node it runs come from the venv (PATH above).
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)' \
		|| { echo "the venv's Node.js is missing or older than 24: run make clean-venv"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet $(ARGS)
	@echo "cdk-nag AwsSolutions checks passed. Templates:"
	@find $(CURDIR)/cdk.out -name '*.template.json' | sort

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# One worker per core (pytest-xdist), each test module in one worker, so that
# a module-scoped fixture is built once; tests/conftest.py says how a test
# stays parallel-safe. (Not loadgroup: with pytest 9.2 its xdist_group marks
# are ignored, pytest-xdist issue 1386.) Modules are handed out in collection
# order (--no-loadscope-reorder), which tests/conftest.py makes longest first.
# A plain `pytest` runs serially.
unit: install-dev
	@# Bytecode for the library, which the tests' subprocesses import again and
	@# again: where PYTHONDONTWRITEBYTECODE is set, each would compile it anew.
	$(BIN)/python -m compileall -q restore_permissions app.py
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

test: lint unit

# Rewrites the template snapshots, then prints what each rewritten template
# does to restores (scripts/snapshot_impact.py). Read `git diff
# tests/__snapshots__` before committing, and say in the commit message why
# each template changed. ARGS narrows the run, e.g. ARGS='tests/test_snapshots.py'.
snapshot-update: install-dev
	@before=$$(mktemp -d) && cp -R tests/__snapshots__/. "$$before"/ && status=0 && \
	{ $(BIN)/pytest --snapshot-update $(ARGS) || status=$$?; } && \
	$(BIN)/python scripts/snapshot_impact.py "$$before" tests/__snapshots__ && \
	rm -rf "$$before" && exit $$status

# Deploys the example app (role mode) to moto_server on 127.0.0.1 with the real
# CDK CLI, prints the outputs and stops the server. No AWS account needed.
deploy-local: install-dev
	bash scripts/deploy-local.sh $(ARGS)

# The construct's synth time against the same stacks written by hand, with the
# spread over alternated rounds, and jsii round trips (about 3 minutes);
# ARGS=--full adds the large and Node cases, ARGS="--full --write" records
# them in bench/README.md.
bench: install
	$(BIN)/python bench/run.py $(ARGS)

# The test suite's wall and CPU time against an earlier commit's, alternated in
# one run (bench/suite.py; about 10 minutes), e.g. ARGS="--baseline 1ac911a".
bench-tests: install-dev
	$(BIN)/python bench/suite.py $(ARGS)

# A control run, then each mutation in turn (drops of actions and resource types,
# condition and ARN changes, the construct's wiring), judged by the workflow and
# attack matrices: each must fail a row or be exempt with its source
# (scripts/mutate.py). make test runs the same (tests/test_mutate.py).
mutate: install-dev
	$(BIN)/python scripts/mutate.py $(ARGS)

# Regenerates docs/permissions.md from the catalogue (a test fails when it is stale).
docs: install
	$(BIN)/python -m restore_permissions.docs > docs/permissions.md

# Regenerates docs/figures.json and the README's figure blocks from the
# catalogue and bench/README.md's results (a test fails when they differ).
figures: install
	$(BIN)/python scripts/figures.py --write

clean:
	rm -rf cdk.out cdk.out.local .pytest_cache .mypy_cache .ruff_cache

# Removes the venv and node_modules: the next make installs them afresh.
clean-venv: clean
	rm -rf $(VENV) node_modules
