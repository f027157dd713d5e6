# The two commands: `make run` (banking example on the embedded local destination, no Kafka)
# and `make test` (lint, type-check, import layers, start a real Kafka + Schema Registry, run
# every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint infra-up infra-down bench clean

$(RUN_STAMP): setup.cfg pyproject.toml setup.py connector/kafka/_produce.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/doge run config/banking.json --output out/banking

test: $(DEV_STAMP)
	scripts/test.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check connector tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

infra-up: $(DEV_STAMP)
	scripts/infra.sh up

infra-down:
	scripts/infra.sh down

bench: $(DEV_STAMP)
	$(BIN)/python bench/engine.py

clean:
	scripts/infra.sh down || true
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .grimp_cache .import_linter_cache
