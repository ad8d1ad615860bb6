# The few verbs people need. `make demo` and `make test` work on a fresh machine (they set up first).
SHELL := /bin/bash
PY := .venv/bin/python
# uv from PATH, else the uv module of the machine's Python (installed on first use).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup demo test lint bench clean

setup: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen --extra dev --compile-bytecode
	@touch $@

demo: setup
	.venv/bin/chamdiem demo

test: setup
	.venv/bin/pytest -q

lint: setup
	.venv/bin/ruff check pipelines tests benchmarks notebooks
	CHAMDIEM_WAREHOUSE=$$(mktemp -d)/lint.duckdb .venv/bin/sqlfluff lint dbt_project/models

bench: setup
	$(PY) -m benchmarks.run --scale province

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache
