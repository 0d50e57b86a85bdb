# Single entry point. `make synth` and `make test` set up everything they need on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
# The CDK CLI and jsii run on the Node.js pinned in package.json (a supported LTS), whatever the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
# Synth needs neither credentials nor an account; keep the SDKs quiet and offline.
export CDK_DISABLE_VERSION_CHECK := true
export SAGEMAKER_VALIDATE_ROLE := false
# Image assets: without a running Docker engine, cdk deploy builds and pushes the model image with podman through
# scripts/cdk-docker, in Docker's v2 manifest format (SageMaker rejects podman's default, OCI).
ifeq ($(shell docker info >/dev/null 2>&1 && echo running),)
export CDK_DOCKER ?= $(CURDIR)/scripts/cdk-docker
endif

STACKS ?= **
CDK := cdk
# Extra CDK CLI arguments, e.g. CDK_ARGS="-c platform.account=123456789012"
CDK_ARGS ?=

.PHONY: setup setup-dev synth deploy test test-fast lint format bench-synth bench-serving bench-prepare clean

$(VENV)/.runtime: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt training_code/pyproject.toml training_code/requirements.txt training_code/requirements-cpu.txt training_code/requirements-tracking.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The container's code and its harness (container_harness), for the tests, the benchmarks and the rehearsal.
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e training_code
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.runtime node_modules/.installed

setup-dev: setup $(VENV)/.dev

## Synthesize every configured Region with all gates: cdk-nag packs (synth fails on findings) and cfn-lint.
## The new assembly replaces cdk.out only when it passed every gate; a failed synth keeps the last good one.
synth: setup
	rm -rf cdk.out.next
	$(CDK) synth '$(STACKS)' --quiet --output cdk.out.next $(CDK_ARGS)
	python -m scripts.lint_templates cdk.out.next
	rm -rf cdk.out && mv cdk.out.next cdk.out

## Deploy exactly one Region from the templates that passed the gates, as mlp promote does (operator_cli/deploy.py):
## make deploy REGION=eu-west-1. The account and environment come from cdk.json, never from CDK_ARGS. Existing
## SageMaker job log groups are imported, then get the configured retention and key (README: Training).
deploy: setup
	test -n "$(REGION)" || { echo "usage: make deploy REGION=<region> [CDK_ARGS=...]"; exit 2; }
	mlp deploy --region $(REGION) $(CDK_ARGS)

## The test suite (what CI runs), spread over one worker per core; the image tests share one worker and one build.
# loadgroup: tests sharing an xdist_group run in one worker; no reorder: in collection order, which conftest.py
# arranges longest first.
PYTEST_PARALLEL := -n auto --dist loadgroup --no-loadscope-reorder
test: setup-dev
	python -m pytest $(PYTEST_PARALLEL)

## Everything but the image and the slow tests: the loop while changing the code.
test-fast: setup-dev
	python -m pytest $(PYTEST_PARALLEL) -m "not container and not slow"

## Lint, format check and types; what CI runs before the tests.
lint: setup-dev
	ruff check .
	ruff format --check .
	mypy

## Rewrites the code into the project's format.
format: setup-dev
	ruff check --fix .
	ruff format .

## Deploy rehearsal: the real CDK CLI deploys, updates and destroys the first Region against a local AWS emulator.
.PHONY: rehearse
rehearse: setup-dev
	python -m rehearsal

bench-synth: setup-dev
	python -m bench.synth

# nginx (the classic stack's front proxy) and wrk (the load generator) come from Debian.
bench-serving: setup-dev
	command -v nginx >/dev/null && command -v wrk >/dev/null || apt-get install -y -q nginx-light wrk
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/serving/requirements.txt
	$(VENV)/bin/python bench/serving/run.py

## Rows per second of the data-preparation job, 10^5 to 10^7 rows, on one core and on two.
bench-prepare: setup-dev
	python -m bench.prepare

clean:
	rm -rf cdk.out cdk.out.next .pytest_cache
