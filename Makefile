# Every target bootstraps .venv on first use, so a fresh clone needs nothing but Python 3.12.
SHELL := /bin/bash
PY ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
        $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { command -v $$p || echo $$p; } && break; done)
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
# `make test COVERAGE=1` (what `make check` and CI run) measures shared/ and functions/ and fails
# below the floor.
COVERAGE_FLOOR ?= 80
COVERAGE_ARGS = $(if $(filter 1 true yes,$(COVERAGE)),--cov --cov-report=term:skip-covered \
	--cov-fail-under=$(COVERAGE_FLOOR))

.PHONY: run test demo check lint fmt typecheck bench clean scan deploy

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m tooling.local.server

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(COVERAGE_ARGS) $(PYTEST_ARGS)

demo: $(BIN)/.installed
	$(BIN)/python -m tooling.demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(BIN)/.installed
	$(BIN)/mypy shared
	for f in functions/*/main.py; do $(BIN)/mypy $$f || exit 1; done
	$(BIN)/mypy doubles tooling

check: lint typecheck
	$(MAKE) test COVERAGE=1

# The scans CI runs. checkov lives in its own virtualenv: its pins of packaging and python-dateutil
# are older than the runtime's. bandit skips B608 (SQL built from strings) because ruff's S608, the
# same rule, already gates it in `make lint` with a reviewed reason on each exception.
SCAN_VENV := $(VENV)/scan
TERRAFORM ?= terraform

$(SCAN_VENV)/.installed: requirements-scan.txt $(BIN)/.installed
	test -x $(SCAN_VENV)/bin/python || $(BIN)/python -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install -q -r requirements-scan.txt
	touch $@

scan: $(BIN)/.installed $(SCAN_VENV)/.installed
	@if command -v $(TERRAFORM) >/dev/null; then \
		echo "terraform fmt -check -recursive infra"; \
		TF_CLI_CONFIG_FILE=/dev/null $(TERRAFORM) fmt -check -recursive infra || exit 1; \
	else echo "terraform: NOT RUN: no terraform on PATH; tests/infra still parses every file"; fi
	$(SCAN_VENV)/bin/checkov -d infra --framework terraform --compact --quiet --skip-download
	$(BIN)/bandit -q -r shared functions --severity-level medium --skip B608 && echo "bandit: no medium or high finding"
	$(BIN)/python -m tooling.deploy.audit

# make deploy [DRY_RUN=1] [TF_OUTPUTS=file] [SECRET_VERSIONS="NAME=N ..."] [FUNCTIONS="fn ..."]
deploy: $(BIN)/.installed
	$(BIN)/python -m tooling.deploy $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) \
		$(if $(TF_OUTPUTS),--outputs $(TF_OUTPUTS)) \
		$(foreach pin,$(SECRET_VERSIONS),--pin $(pin)) $(foreach fn,$(FUNCTIONS),--only $(fn))

bench: $(BIN)/.installed
	$(BIN)/python -m tooling.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .omniroo
