# replicate-typed: every task in one place. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: setup lock prism browser bytecode generate check docs docs-serve charts lint typecheck imports test test-slow test-all test-lowest test-user-project demo bench bench-codegen bench-client bench-concurrency bench-downloads bench-import bench-footprint drift soak clean

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

# Development and CI install the exact versions of uv.lock (the package itself asks only for
# ranges): uv (pinned, also in the dev extra so a sync keeps it) syncs .venv to the lock, with
# every extra and this checkout installed editable, compiled to bytecode up front (a machine with
# PYTHONDONTWRITEBYTECODE=1 would otherwise compile every import again in every test process).
# Then `source .venv/bin/activate`.
UV_VERSION := 0.13.9
$(VENV)/.installed: pyproject.toml setup.py uv.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --frozen --all-extras --compile-bytecode
	touch $@

# After changing dependencies in pyproject.toml: re-resolve uv.lock (commit it), then make setup.
lock:
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet uv==$(UV_VERSION); }
	$(BIN)/uv lock

# The generator's output (generated/), then the sync client from the async one (scripts/unasync.py).
# The code generator runs as users run it: the installed console script, [tool.replicate-typed].
generate: setup
	$(BIN)/replicate-typed-codegen generate
	$(BIN)/replicate-typed-codegen api-docs
	$(PY) scripts/unasync.py

# Golden record: regenerate into a temporary folder and compare byte for byte, then lint and type-check.
check: setup
	$(BIN)/replicate-typed-codegen check
	$(BIN)/replicate-typed-codegen api-docs --check
	$(PY) scripts/unasync.py --check
	$(MAKE) --no-print-directory lint typecheck imports

# The documentation site (mkdocs.yml, docs/) into site/, --strict: a broken link, a page missing
# from the nav or an unresolved API reference fails. docs/models/ comes from `make generate`.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# Headless Chromium (Debian's package) for the site's browser test (contract_tests/test_docs_site.py,
# marked slow). Installed with apt when missing and running as root (CI: a fresh machine, root);
# elsewhere a warning says how, and outside CI the test skips saying so.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif [ "$${CI:-}" = true ]; then \
		echo "error: headless Chromium is required in CI: apt-get install chromium" >&2; exit 1; \
	else \
		echo "warning: chromium not found: the docs browser test will be skipped (sudo apt-get install chromium)" >&2; \
	fi

# The site at http://127.0.0.1:8001 while editing (rebuilds on change).
docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

# Import contracts ([tool.importlinter] in pyproject.toml): layers, generated code imports only
# the base, no cycles at any depth.
imports: setup
	$(PY) scripts/check_imports.py

lint: setup
	$(BIN)/ruff check codegen src generated contract_tests benchmarks scripts setup.py
	$(BIN)/ruff format --check codegen src generated contract_tests benchmarks scripts setup.py

typecheck: setup
	$(BIN)/mypy --strict src/replicate_typed generated/replicate_typed codegen scripts

# The fast loop (under 90 s on 2 cores): everything but the end-to-end group marked `slow`
# (wheel builds, corpus generation, official clients, SIGKILL rounds...), which `test-slow` runs
# and CI runs too.
# A -m here replaces pyproject's addopts `-m "not user_project"`, so each says it again.
# Two workers per core: many fast tests wait on a deadline, a server or a subprocess rather than
# compute (on 2 cores: -n 2 took 90-96 s, -n 3 78 s, -n 4 76 s of wall for the same CPU).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')
test: setup bytecode
	$(PYTEST) -q -n $(TEST_WORKERS) -m "not slow and not user_project"

test-slow: setup bytecode
	$(PYTEST) -q -n auto -m "slow and not user_project"

test-all: setup bytecode
	$(PYTEST) -q -n auto

# pytest rewrites the asserts of every module it loads as a plugin (schemathesis alone is 237
# modules) and of every test module, in each xdist worker, and keeps the result in __pycache__
# only when Python may write bytecode: with PYTHONDONTWRITEBYTECODE=1 every run redid it (about
# 5 s of CPU per process). The test runs may write it (__pycache__ is ignored by git).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest

# The checkout's own modules compiled once (the venv's are at setup): the many subprocesses the
# tests start (CLI, mock server, codegen's import step) then read bytecode, even where
# PYTHONDONTWRITEBYTECODE=1 keeps Python from writing it.
bytecode: setup
	@$(PY) -m compileall -q -j 0 src generated codegen > /dev/null

# The floors of pyproject.toml's ranges, proven: a second venv with the lowest versions they allow
# (uv --resolution lowest-direct; the dev tools stay at their pins), checked to really hold each
# floor (scripts/lowest_versions.py), then the test suite against it. LOWEST_ARGS: pytest args.
LOWEST_VENV ?= .venv-lowest
LOWEST_ARGS ?= -q -n auto
# The [mcp] extra's SDK needs newer pydantic/jsonschema/uvicorn than the core and [mock] floors:
# its floor is proven in a venv of its own (LOWEST_VENV-mcp), running the MCP tests.
test-lowest: setup
	rm -rf $(LOWEST_VENV) $(LOWEST_VENV)-mcp
	$(BIN)/uv venv --quiet --python $(PY) $(LOWEST_VENV)
	$(BIN)/uv pip install --quiet --python $(LOWEST_VENV)/bin/python --resolution lowest-direct -e '.[cli,mock,codegen,dev]'
	$(LOWEST_VENV)/bin/python scripts/lowest_versions.py
	$(LOWEST_VENV)/bin/python -m pytest $(LOWEST_ARGS) --ignore=contract_tests/mcp
	$(BIN)/uv venv --quiet --python $(PY) $(LOWEST_VENV)-mcp
	$(BIN)/uv pip install --quiet --python $(LOWEST_VENV)-mcp/bin/python --resolution lowest-direct -e '.[mcp,dev]'
	$(LOWEST_VENV)-mcp/bin/python scripts/lowest_versions.py --extras mcp
	$(LOWEST_VENV)-mcp/bin/python -m pytest $(LOWEST_ARGS) contract_tests/mcp

# A user's project (docs/own-project.md): the wheel with [codegen] in a fresh
# venv, two models added, imported, run against the mock, mypy --strict, drift; and the core wheel
# next to pydantic 2.9 / httpx 0.27 with none of the extras' packages.
test-user-project: setup
	$(PY) -m pytest -q -p no:cacheprovider -m user_project contract_tests/test_user_project.py

# The README's first command: the built-in mock server on a free local port (stopped by PID,
# also on failure), stability-ai/sdxl by version and flux-schnell by model path through the CLI.
demo: setup
	PYTHON=$(PY) bash scripts/demo.sh

# API drift (docs/codegen.md, "API drift"). With REPLICATE_API_TOKEN and REPLICATE_BASE_URL set: the live
# check; its exit code is the verdict (1 compatible/cosmetic drift, 2 breaking, 3 not comparable).
# Otherwise offline against the recorded fixtures, which hold breaking drift on purpose: the
# target passes when the report says exactly that (exit DRIFT_EXPECT=2). Extra flags: DRIFT_ARGS.
DRIFT_FIXTURES := contract_tests/fixtures/drift
DRIFT_EXPECT ?= 2
drift: setup
	@if [ -n "$${REPLICATE_API_TOKEN:-}" ] && [ -n "$${REPLICATE_BASE_URL:-}" ]; then \
		$(PY) -m codegen drift $(DRIFT_ARGS); \
	else \
		echo "make drift: REPLICATE_API_TOKEN/REPLICATE_BASE_URL not set: offline check against $(DRIFT_FIXTURES) (expects exit $(DRIFT_EXPECT))"; \
		rc=0; $(PY) -m codegen drift --from-dir $(DRIFT_FIXTURES)/models \
			--api-document $(DRIFT_FIXTURES)/api/replicate-openapi.json $(DRIFT_ARGS) || rc=$$?; \
		if [ $$rc -ne $(DRIFT_EXPECT) ]; then \
			echo "make drift: the recorded fixtures should exit $(DRIFT_EXPECT), got $$rc" >&2; exit 1; \
		fi; \
		echo "make drift: exit $$rc as expected for the recorded fixtures"; \
	fi

# Client runtime benchmark (docs/client.md, docs/performance.md): overhead vs plain httpx, Prefer: wait
# latency, polling lateness and GET counts vs a fixed 0.5 s poller. Extra flags: BENCH_ARGS.
bench-client: setup
	$(PY) -m benchmarks.client $(BENCH_ARGS)

# Code generator benchmark (docs/codegen.md, docs/performance.md): full regeneration of the 11 models and of
# 500 corpus copies vs one datamodel-codegen CLI run per model. Extra flags: BENCH_CODEGEN_ARGS.
bench-codegen: setup
	$(PY) -m benchmarks.codegen $(BENCH_CODEGEN_ARGS)

# Fault soak (docs/batch.md, docs/performance.md): 2,000 predictions through the async client and through the
# batch runner against the mock (own process) with 429/5xx/resets/slow answers, then SIGKILL +
# resume rounds of the batch CLI, then two batch CLIs at once on one folder (one waits, a third
# must exit 75); exits non-zero on any duplicate create or lost prediction.
# A few minutes. Prints its seed first (random unless given); SOAK_ARGS='--seed N' replays a run.
# Extra flags: SOAK_ARGS (e.g. --n 500).
soak: setup
	$(PY) -m benchmarks.soak $(SOAK_ARGS)

# docs/concurrency.md: CPU per prediction at 10..1,000 concurrent waits through AsyncClient against
# the mock (own process), ratio 1,000/100, peak RSS; the batch runner's creates/min at -j 8/64/256.
# Extra flags: BENCH_CONCURRENCY_ARGS (--compare: also without the gate, same run).
bench-concurrency: setup
	$(PY) -m benchmarks.concurrency $(BENCH_CONCURRENCY_ARGS)

# Download memory under compression bombs (docs/client.md, "Downloads"):
# peak RSS of httpx's own decoding vs download()'s bounded decoding, 1 GiB bombs, max_bytes 10 MiB.
bench-downloads: setup
	$(PY) -m benchmarks.downloads

# Every benchmark, one after the other (not part of make test), then the charts from their files.
bench: bench-import bench-client bench-codegen bench-concurrency bench-downloads
	$(MAKE) --no-print-directory charts

# docs/charts/*.svg from the benchmarks' result files (.bench/client.json, .bench/codegen.json),
# which are copied next to them (docs/charts/data/) to be committed together.
charts: setup
	$(PY) scripts/charts.py --data .bench --out docs/charts

# Import time of `import replicate_typed` + Client() vs the official client (docs/getting-started.md).
bench-import: setup
	$(PY) -m benchmarks.import_time $(BENCH_IMPORT_ARGS)

# Packages and disk size of the core install, [all] and the official client (docs/getting-started.md).
bench-footprint: setup
	$(PY) -m benchmarks.footprint

clean:
	rm -rf $(VENV) $(LOWEST_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis out .bench node_modules
