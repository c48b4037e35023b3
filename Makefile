# Two commands a new user needs: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: venv demo demo-changes test test-slow lint typecheck dev sandbox bench bench-all soak clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[examples,parquet,dev]'
	touch $(STAMP)

## Run the main job: dbt build -> companies -> contacts -> deals loaded into the local sandbox, even with
## HUBSPOT_ACCESS_TOKEN exported; `make demo HUBSPOT_TARGET=hubspot` loads into that token's real portal.
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python dbt_examples/demo.py

## After `make demo`: edit four raw rows of the warehouse (a company renamed, a contact's lifecycle stage, a
## contact moved to another company, a deal deleted), rebuild dbt and sync: "0 created", the updated rows,
## the rest unchanged, deals "1 archived". The next `make demo` reloads the committed seeds and syncs back.
demo-changes: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python dbt_examples/demo.py --changes

## Run the test suite (lint, types, tests), without the slow end-to-end tier (`make test-slow`).
test: $(STAMP)
	$(BIN)/ruff check hubspot_loader hubspot_loader_tests benchmarks dbt_examples
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -n 2 --timeout 600 -m "not slow"

## The slow end-to-end tier: the browser, the demo, real `dagster`/`dg` processes, the wheel (CI runs it too).
test-slow: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -n 2 --timeout 900 -m slow

lint: $(STAMP)
	$(BIN)/ruff check hubspot_loader hubspot_loader_tests benchmarks dbt_examples

typecheck: $(STAMP)
	$(BIN)/mypy

## Start the demo's sandbox (http://127.0.0.1:8765/) and the Dagster UI (http://127.0.0.1:3000, `dg dev` in the
## example's dg project dbt_examples/); Ctrl-C stops both.
## The loads go to that sandbox unless HUBSPOT_TARGET=hubspot (then to HUBSPOT_ACCESS_TOKEN's real portal).
dev: $(STAMP)
	mkdir -p .demo/dagster_home
	HUBSPOT_SANDBOX_URL=http://127.0.0.1:8765 $(BIN)/python dbt_examples/demo.py --print-target
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python dbt_examples/demo.py --serve-sandbox 8765 & sandbox=$$!; \
	trap "kill $$sandbox" EXIT INT TERM; \
	cd dbt_examples && DAGSTER_HOME="$(CURDIR)/.demo/dagster_home" HUBSPOT_SANDBOX_URL=http://127.0.0.1:8765 \
	PATH="$(CURDIR)/$(BIN):$$PATH" "$(CURDIR)/$(BIN)/dg" dev

## Browse what the demo loaded: the sandbox page at http://127.0.0.1:8765/ (Ctrl-C stops it).
sandbox: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python dbt_examples/demo.py --serve-sandbox 8765

## Issue 16's benchmark set, under 10 minutes on the 2-core machine (docs/benchmarks.md): the default
## configuration side by side with the official client, the latency sweep (docs/benchmarks-latency-sweep.png),
## three portals, CPU, the 1M-row load's memory; the diff of 1M rows against a ledger (issue 13); and the shared
## rate budget (5 x 6,000). Prints the total time.
bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/bench_suite.py

## Every benchmark: the above with the drt-style run, the sync modes, all shared-budget runs, ledger backends.
bench-all: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/bench_suite.py --all

## Fault soak: 50k rows through 5xx, 429s, dropped and hung answers; then an incremental re-run.
soak: $(STAMP)
	$(BIN)/python benchmarks/fault_soak.py --rows 50000 --rerun

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dbt_examples/target dbt_examples/logs test-output
