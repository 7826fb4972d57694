# replicate-typed: every task in one place. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: setup generate check lint typecheck test demo bench bench-codegen bench-client drift soak clean

setup: $(VENV)/.installed

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
