# Two commands set everything up on a fresh machine with Python 3.11 and pip: `make demo` and `make test`.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# uv must use this machine's Python: downloading one is not possible here.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
MANIFEST := dbt_project/target/manifest.json

# The suite runs on every core (tests/conftest.py says how it is split); the unit tier alone is `make test-fast`.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder
FAST_TIERS := tests/unit tests/assets tests/checks tests/automation

.PHONY: env demo test test-fast lint ui metrics docs clean

# The report's browser test drives Debian's chromium through Playwright (Playwright's own browser download is not
# reachable): installed from the distribution's packages, refreshing its package lists only when they lack it.
CHROMIUM := /usr/bin/chromium

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# make's commands run without PYTHONDONTWRITEBYTECODE, so Python writes each module's bytecode the first time a
# process imports it: with it set, every dbt, Dagster and test process compiled its imports from source again (1.3 s
# of each dbt command's start-up here). Compiling the whole environment at install instead took 46 s of a fresh
# machine's set-up (27,200 files), where the processes import about 4,000 (13 s of CPU, once).
unexport PYTHONDONTWRITEBYTECODE

$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

env: $(VENV)/.synced

# dagster-dbt loads the project from a compiled manifest; parsing needs a warehouse path but never opens it. The
# bare file name is what pimlens-dbt gives every build (pipelines/lib/dbt_child.py), so builds reuse this parse.
$(MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	cd dbt_project && PIMLENS_WAREHOUSE=warehouse.duckdb ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

demo: $(MANIFEST)
	$(BIN)/pimlens demo $(DEMO_ARGS)

ui: $(MANIFEST)
	$(BIN)/pimlens ui

metrics: env
	$(BIN)/pimlens metrics

# dbt's documentation site (every description, the lineage, the catalog of the warehouse a run built), served on
# loopback only. It reads the parse `make` saves and opens the warehouse briefly: DuckDB admits one writer at a time.
WAREHOUSE ?= var/warehouse.duckdb
DOCS_PORT ?= 8080
docs: $(MANIFEST)
	@test -f $(WAREHOUSE) || { echo "make docs: no warehouse at $(WAREHOUSE); run make demo or pimlens run first" >&2; exit 2; }
	@$(BIN)/python -c "import duckdb; duckdb.connect('$(WAREHOUSE)', read_only=True).close()" 2>/dev/null \
		|| { echo "make docs: $(WAREHOUSE) is open in a running refresh; try again once it ends" >&2; exit 2; }
	PIMLENS_WAREHOUSE=$(abspath $(WAREHOUSE)) $(BIN)/pimlens-dbt docs generate --no-compile --quiet
	PIMLENS_WAREHOUSE=$(abspath $(WAREHOUSE)) $(BIN)/pimlens-dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 0 dbt_project/models

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

# Lint and dbt's parse side by side (sqlfluff on both cores, the parse on one): 5 to 9 s less set-up than in turn.
test:
	$(MAKE) --no-print-directory --jobs=2 lint $(MANIFEST) $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The edit loop: ruff and the unit tier, no end-to-end run (sqlfluff and the integration tier stay in `make test`).
test-fast: $(MANIFEST)
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_PARALLEL) $(FAST_TIERS) $(PYTEST_ARGS)

clean:
	rm -rf var dbt_project/target dbt_project/logs .pytest_cache
