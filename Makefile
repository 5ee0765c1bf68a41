# Every target bootstraps .venv on first use, so a fresh clone needs nothing but Python 3.12.
SHELL := /bin/bash
PY ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
        $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { command -v $$p || echo $$p; } && break; done)
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
COVERAGE_FLOOR ?= 80

.PHONY: run test demo check lint fmt typecheck bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m shared.local.server

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(BIN)/.installed
	$(BIN)/python -m scripts.demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(BIN)/.installed
	$(BIN)/mypy shared
	for f in functions/*/main.py; do $(BIN)/mypy $$f || exit 1; done
	$(BIN)/mypy doubles scripts bench

check: lint typecheck
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .omniroo
