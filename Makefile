# One entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Every Python part is a folder with its own pyproject.toml and pinned requirements.txt.
PARTS := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml gateway/pyproject.toml tools/*/pyproject.toml))

.DEFAULT_GOAL := help
.PHONY: help install lint format unit test run

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml $(PARTS:%=%/pyproject.toml) $(wildcard $(PARTS:%=%/requirements.txt))
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' $(foreach p,$(PARTS),-r $(p)/requirements.txt -e $(p))
	touch $@

install: $(BIN)/.installed ## create .venv with every part (editable) and the dev tools

lint: install ## ruff check, ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: install ## unit and integration tests (no Docker)
	$(BIN)/pytest -m "not e2e"

test: lint unit ## everything CI runs: lint, unit tests, end-to-end tests
