# replicate-typed: every task in one place. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: setup prism generate check lint typecheck test demo bench bench-codegen bench-client drift soak clean

setup: $(VENV)/.installed node_modules/.installed

# Prism (Node, pinned in package.json/package-lock.json) serves Replicate's own OpenAPI document
# to the contract tests. Without npm the Prism tests skip with a reason -- except in CI (CI=true),
# where a missing npm fails right here.
prism: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	elif [ "$${CI:-}" = true ]; then \
		echo "error: npm is required in CI to install Prism (package.json); install Node.js 20 + npm" >&2; exit 1; \
	else \
		echo "warning: npm not found: the Prism contract tests will be skipped (install Node.js 20 + npm, then make prism)" >&2; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

generate: setup
	$(PY) -m codegen generate

# Golden record: regenerate into a temporary folder and compare byte for byte, then lint and type-check.
check: setup
	$(PY) -m codegen check
	$(MAKE) --no-print-directory lint typecheck

lint: setup
	$(BIN)/ruff check codegen generated contract_tests benchmarks
	$(BIN)/ruff format --check codegen generated contract_tests benchmarks

typecheck: setup
	$(BIN)/mypy --strict generated/replicate_typed codegen

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis out .bench
