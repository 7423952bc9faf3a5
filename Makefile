# One entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The pinned CDK CLI (deploy/package.json): `make unit` runs it offline, `make synth` too.
CDK := deploy/node_modules/.bin/cdk

# Every Python part is a folder with its own pyproject.toml and pinned requirements.txt.
# deploy/ (the CDK app) joins them: it deploys the parts by their own definitions, and its tests
# load the bodies with the gateway's loaders.
PARTS := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml gateway/pyproject.toml tools/*/pyproject.toml deploy/pyproject.toml))

.DEFAULT_GOAL := help
.PHONY: help install lint format unit test run up down logs certs rotate-token e2e e2e-default e2e-aws-like invoke push bench synth deploy diff

# The compose stack. Base images are build arguments: the official ones by default; where no
# registry is reachable .ci/docker-up.sh builds local ones and records them in $(IMAGES_ENV).
# A value in the environment wins over the file.
COMPOSE ?= docker compose
IMAGES_ENV := .ci/cache/images.env
PYTHON_IMAGE ?= $(shell sed -n 's/^PYTHON_IMAGE=//p' $(IMAGES_ENV) 2>/dev/null)
NGINX_IMAGE ?= $(shell sed -n 's/^NGINX_IMAGE=//p' $(IMAGES_ENV) 2>/dev/null)
ifneq ($(PYTHON_IMAGE),)
export PYTHON_IMAGE
endif
ifneq ($(NGINX_IMAGE),)
export NGINX_IMAGE
endif
# How long `up` waits for every container to report healthy (builds come before the wait).
WAIT_TIMEOUT ?= 180

# The one user who reads the widgets and mtls APIs' shared secret (secrets/authorizer-token, mode 0600):
# whoever runs make (the README's curl cats it) and, in compose, the TOKEN authorizer's container.
# For root the image's own user instead: root reads any file, and the function stays unprivileged.
AUTHORIZER_USER ?= $(shell if [ "$$(id -u)" = 0 ]; then echo 10001:10001; else echo "$$(id -u):$$(id -g)"; fi)
export AUTHORIZER_USER
TOKEN_SECRET := secrets/authorizer-token

# Which stack `up`, `down` and `logs` run: docker-compose.yml alone, or with PROFILE=aws-like the
# override file too (two ToDo replicas on DynamoDB behind a load balancer). docker compose reads
# COMPOSE_FILE, as do the end-to-end tests' own compose calls.
DEFAULT_STACK := docker-compose.yml
AWS_LIKE_STACK := docker-compose.yml:docker-compose.aws-like.yml
PROFILE ?=
ifeq ($(PROFILE),aws-like)
export COMPOSE_FILE := $(AWS_LIKE_STACK)
else ifneq ($(PROFILE),)
$(error PROFILE=$(PROFILE) names no stack: leave it empty for the default one, or use aws-like)
endif

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml $(PARTS:%=%/pyproject.toml) $(wildcard $(PARTS:%=%/requirements.txt))
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' $(foreach p,$(PARTS),-r $(p)/requirements.txt -e $(p))
	touch $@

install: $(BIN)/.installed ## create .venv with every part (editable) and the dev tools

lint: install ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: install $(CDK) ## unit and integration tests (no Docker; deploy/tests run the pinned CDK CLI offline)
	$(BIN)/pytest -m "not e2e"

test: lint unit e2e ## everything CI runs: lint, unit tests, end-to-end tests

# Natively, without Docker: the gateway on 127.0.0.1:8080 (and the front door's :8088) in front of
# both providers and the widgets API's two functions
# (tools/devstack; `python -m devstack --help` for the ports and the database).
run: install ## gateway 127.0.0.1:8080 and the front door :8088, Dog Names :8081, ToDo :8082, the widgets API's functions :8083/:8084, natively; Ctrl-C stops all (GATEWAY_PORT=, FRONTDOOR_PORT=, DOG_NAMES_PORT=, TODO_PORT=, WIDGETS_PORT=, AUTHORIZER_PORT=)
	$(BIN)/python -m devstack

invoke: ## invoke the consumer Lambda through its emulator URL (after `make up`)
	@curl -sS --fail-with-body -d '{}' http://127.0.0.1:$${LAMBDA_PORT:-9000}/2015-03-31/functions/function/invocations | python3 -m json.tool

bench: install ## the cost targets side by side on loopback (gateway vs NGINX, SigV4, half-load p99, Dog Names vs a bare ASGI app, ToDo writes, cold starts, memory), ~2 min; NGINX and wrk from apt (BENCH_ARGS=)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The AWS deployment (deploy/README.md): the CDK app runs in this venv, the CDK CLI is the one
# deploy/package-lock.json pins (npm ci into deploy/node_modules). synth asks nothing of AWS;
# deploy and diff work on one account's stack with that account's credentials (AWS_PROFILE=...).
# jsii (under the app) warns on every start that Node 18/20 are past their end of life: they
# work, and they are what these machines have. Its unpacked package cache stays in the tree.
DEPLOY_STACKS := dog-names=PrivateApisDogNames todo=PrivateApisTodo gateway=PrivateApisGateway consumer=PrivateApisConsumer
DEPLOY_STACK = $(patsubst $(ACCOUNT)=%,%,$(filter $(ACCOUNT)=%,$(DEPLOY_STACKS)))
CDK_RUN = cd deploy && CDK_DISABLE_VERSION_CHECK=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=18,20 \
	JSII_RUNTIME_PACKAGE_CACHE_ROOT=$(CURDIR)/deploy/.cache/jsii ./node_modules/.bin/cdk \
	--app '$(abspath $(BIN))/python app.py'

$(CDK): deploy/package.json deploy/package-lock.json
	cd deploy && npm ci --no-audit --no-fund --loglevel=error
	touch $@

define require_account
	@test -n "$(DEPLOY_STACK)" || { echo "make $@: ACCOUNT= one of dog-names, todo, gateway, consumer (deploy/README.md)" >&2; exit 2; }
endef

synth: install $(CDK) ## the four stacks' templates in deploy/cdk.out, offline and without AWS credentials (CDK_ARGS='-c key=value ...')
	$(CDK_RUN) synth --all --quiet $(CDK_ARGS)

deploy: install $(CDK) ## deploy one account's stack with its credentials: ACCOUNT=dog-names|todo|gateway|consumer, in the order of deploy/README.md (CDK_ARGS=)
	$(require_account)
	mkdir -p deploy/outputs
	$(CDK_RUN) deploy $(DEPLOY_STACK) --strict --outputs-file outputs/$(ACCOUNT).json $(CDK_ARGS)

diff: install $(CDK) ## what `make deploy` would change in one account (ACCOUNT=, its credentials)
	$(require_account)
	$(CDK_RUN) diff $(DEPLOY_STACK) --strict $(CDK_ARGS)

push: install ## push the deployable images to ECR under the git revision (REGISTRY=host:port, IMAGES=, ALLOW_DIRTY=1, NO_BUILD=1)
	$(BIN)/python -m image_push

# ./certs is made by the user first: Docker would create a missing bind-mount source as root,
# and certgen hands the CA and client files to the directory's owner.
up: ## build and start the stack, wait until every container is healthy (PROFILE=aws-like: two ToDo replicas on DynamoDB behind a load balancer)
	mkdir -p certs
	$(COMPOSE) up -d --build --wait --wait-timeout $(WAIT_TIMEOUT)

down: ## stop the stack (keeps the ToDo volume; `make down DOWN_ARGS=-v` drops it)
	$(COMPOSE) down --remove-orphans $(DOWN_ARGS)

logs: ## follow the stack's logs
	$(COMPOSE) logs -f --tail=100

certs: install ## create the local CA and certificates in ./certs, and the widgets and mtls APIs' shared secret in ./secrets (natively; `make up` does it too)
	$(BIN)/python -m certgen --out certs --token-secret $(TOKEN_SECRET) --secret-owner $(AUTHORIZER_USER)

rotate-token: install ## a new shared secret for the TOKEN authorizer of the widgets and mtls APIs, for `make up` and `make run` alike: the old token is refused from the next request, no restart
	$(BIN)/python -m certgen --out certs --token-secret $(TOKEN_SECRET) --secret-owner $(AUTHORIZER_USER) --rotate-token

# One stack at a time: started, tested, always torn down (volumes too), its state and logs shown
# when anything failed. $(1): the compose files, $(2): what pytest runs. E2E_ARGS go to pytest,
# e.g. `make e2e E2E_ARGS='-k mtls -x'`; E2E_STACKS picks the stacks (`make e2e E2E_STACKS=aws-like`).
define e2e_stage
	@mkdir -p certs; status=0; export COMPOSE_FILE='$(1)'; \
	trap '$(COMPOSE) down -v --remove-orphans' EXIT; \
	$(COMPOSE) up -d --build --wait --wait-timeout $(WAIT_TIMEOUT) || status=$$?; \
	if [ $$status -eq 0 ]; then $(BIN)/pytest $(2) $(E2E_ARGS) || status=$$?; fi; \
	if [ $$status -ne 0 ]; then \
		echo "e2e failed ($$status): state and logs of the stack ($(1)) follow"; \
		$(COMPOSE) ps -a; \
		$(COMPOSE) logs --no-color --timestamps --tail=200; \
	fi; \
	exit $$status
endef

E2E_STACKS ?= default aws-like
# One stack at a time: both publish the same ports.
.NOTPARALLEL: e2e

e2e: install $(E2E_STACKS:%=e2e-%) ## each stack in turn (the default one, then aws-like): start it, run its end-to-end tests, tear it down

e2e-default: install ## the default stack: tests/e2e and the `make push` test
	$(call e2e_stage,$(DEFAULT_STACK),tests/e2e tools/push/tests -m "e2e and not aws_like")

# The public API's own tests run here too: the same contract through the NLB, on DynamoDB.
e2e-aws-like: install ## the aws-like stack: replicas, the load balancer, DynamoDB, the public API
	$(call e2e_stage,$(AWS_LIKE_STACK),tests/e2e/test_aws_like.py tests/e2e/test_global_api.py -m e2e)
