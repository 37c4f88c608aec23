# Two commands on a fresh machine (Python 3.11+, Node 20+):
#   make synth   install, synthesize the example app, run cdk-nag, print the templates' paths
#   make test    install, lint, type-check and run the tests
# Pass CDK context to synth with ARGS, e.g. make synth ARGS='-c bucket_name=my-backups'.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
CDK := $(CURDIR)/node_modules/.bin/cdk
ARGS ?=

# The CDK CLI's `app` command (python3 app.py) must find the project's venv.
export PATH := $(BIN):$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: install synth test lint unit snapshot-update docs deploy-local bench mutate clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@# The editable install only adds the restore-permissions command; setuptools'
	@# warnings about editable installs are noise, so its log shows only on failure.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . \
		> $(VENV)/editable-install.log 2>&1 || { cat $(VENV)/editable-install.log; exit 1; }
	touch $@

node_modules/.installed: package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "Node.js 20 or newer is needed"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet $(ARGS)
	@echo "cdk-nag AwsSolutions checks passed. Templates:"
	@find $(CURDIR)/cdk.out -name '*.template.json' | sort

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

test: lint unit

# Rewrites the template snapshots. Read `git diff tests/__snapshots__` before
# committing, and say in the commit message why each template changed.
snapshot-update: install
	$(BIN)/pytest --snapshot-update

# Deploys the example app (role mode) to moto_server on 127.0.0.1 with the real
# CDK CLI, prints the outputs and stops the server. No AWS account needed.
deploy-local: install
	bash scripts/deploy-local.sh $(ARGS)

# Synth time, memory and policy counts of the example and large apps (bench/README.md).
bench: install
	$(BIN)/python bench/run.py $(ARGS)

# Drops each action and resource type from each statement in turn and runs the
# workflow matrix on the result: every drop must fail it, or be listed in the
# catalogue with its reason (scripts/mutate.py).
mutate: install
	$(BIN)/python scripts/mutate.py $(ARGS)

# Regenerates docs/permissions.md from the catalogue (a test fails when it is stale).
docs: install
	$(BIN)/python -m restore_permissions.docs > docs/permissions.md

clean:
	rm -rf cdk.out cdk.out.local .pytest_cache .mypy_cache .ruff_cache
