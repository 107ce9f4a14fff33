# Every target installs what it needs into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# Meltano installs each plugin of meltano.yml in its own venv under .meltano/.
PLUGINS_INSTALLED = .meltano/.installed

# requirements-lock.txt pins every dependency (the tap's and the `dev` dependency group's:
# tests, Meltano, lint and release tools), so CI and a release install exactly what was tested;
# `make lock` re-pins it after pyproject.toml changes.
LOCK = requirements-lock.txt

# Dagster (orchestration/dagster/) has its own venv: its webserver's dependencies install a
# `backoff` package over the tap's `python-backoff` (see orchestration/dagster/requirements.in).
DAGSTER_VENV ?= .venv-dagster
DAGSTER_BIN = $(DAGSTER_VENV)/bin
DAGSTER_LOCK = orchestration/dagster/requirements.txt

.PHONY: setup test test-fast lint demo bench docs hub release-check clean lock dagster-setup dagster-run

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

$(BIN)/.installed: pyproject.toml $(LOCK) | $(BIN)/uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r $(LOCK) -e . --group dev
	touch $@

setup: $(BIN)/.installed  ## create .venv with the tap and its test tools, as pinned in the lock

lock: | $(BIN)/uv  ## re-pin requirements-lock.txt and Dagster's lock (commit the result)
	$(BIN)/uv pip compile -q pyproject.toml --group pyproject.toml:dev --universal \
		--python-version 3.10 -o $(LOCK)
	$(BIN)/uv pip compile -q orchestration/dagster/requirements.in --universal \
		--python-version 3.10 -o $(DAGSTER_LOCK)

$(DAGSTER_BIN)/.installed: $(DAGSTER_LOCK) | $(BIN)/uv
	$(PYTHON) -m venv $(DAGSTER_VENV)
	$(BIN)/uv pip install -q --python $(DAGSTER_BIN)/python -r $(DAGSTER_LOCK)
	touch $@

dagster-setup: $(DAGSTER_BIN)/.installed  ## create .venv-dagster with Dagster, as pinned

# The sharded pipeline on Dagster, once, with the emulator's shops into the local PostgreSQL.
dagster-run: $(PLUGINS_INSTALLED) $(DAGSTER_BIN)/.installed  ## the Dagster job on the emulator
	$(BIN)/python orchestration/dagster/run_on_emulator.py

$(PLUGINS_INSTALLED): $(BIN)/.installed meltano.yml pyproject.toml
	$(BIN)/meltano install
	touch $@

demo: $(PLUGINS_INSTALLED)  ## the whole pipeline on a local emulator into DuckDB, with a summary
	$(BIN)/python scripts/demo.py

test: setup dagster-setup  ## run the whole test suite (what CI runs)
	$(BIN)/pytest

test-fast: setup  ## the unit and sync layers only (no Meltano, dbt or Dagster): the quick loop
	$(BIN)/pytest -m "unit or sync"

lint: setup  ## ruff (lint and format check) and mypy; `ruff format .` formats the tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: setup hub  ## regenerate the settings table in README.md and the Hub definition from --about
	$(BIN)/python scripts/update_readme_settings.py

hub: setup  ## regenerate hub/extractors/tap-tiktok-shop.yml (Meltano Hub definition) from --about
	$(BIN)/python scripts/hub_definition.py

release-check: setup  ## build sdist + wheel, twine check, wheel contents, versions, install and --about
	$(BIN)/python scripts/release_check.py

clean:
	rm -rf $(VENV) $(DAGSTER_VENV) dist build .dagster .pytest_cache .mypy_cache .ruff_cache .meltano .meltano-test output/demo \
		transform/target transform/logs

bench: $(PLUGINS_INSTALLED)  ## the performance benchmarks (prints figures; takes several minutes)
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.cpu_bound
	$(BIN)/python -m benchmarks.api_bound
	$(BIN)/python -m benchmarks.single_shop
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.many_shops
	$(BIN)/python -m benchmarks.shards
