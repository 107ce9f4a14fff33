# Every target installs what it needs into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# Meltano installs each plugin of meltano.yml in its own venv under .meltano/.
PLUGINS_INSTALLED = .meltano/.installed

# requirements-lock.txt pins every dependency (tests and Meltano included), so CI and a
# release install exactly what was tested; `make lock` re-pins it after pyproject.toml changes.
LOCK = requirements-lock.txt

.PHONY: setup test lint demo bench docs clean lock

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

$(BIN)/.installed: pyproject.toml $(LOCK) | $(BIN)/uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r $(LOCK) -e ".[test]"
	touch $@

setup: $(BIN)/.installed  ## create .venv with the tap and its test tools, as pinned in the lock

lock: | $(BIN)/uv  ## re-pin requirements-lock.txt from pyproject.toml (commit the result)
	$(BIN)/uv pip compile -q pyproject.toml --extra test --universal --python-version 3.10 \
		-o $(LOCK)

$(PLUGINS_INSTALLED): $(BIN)/.installed meltano.yml pyproject.toml
	$(BIN)/meltano install
	touch $@

demo: $(PLUGINS_INSTALLED)  ## the whole pipeline on a local emulator into DuckDB, with a summary
	$(BIN)/python scripts/demo.py

test: setup  ## run the whole test suite (what CI runs)
	$(BIN)/pytest

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

docs: setup  ## regenerate the settings table in README.md from --about
	$(BIN)/python scripts/update_readme_settings.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .meltano .meltano-test output/demo \
		transform/target transform/logs

bench: $(PLUGINS_INSTALLED)  ## the performance benchmarks (prints figures; takes several minutes)
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.cpu_bound
	$(BIN)/python -m benchmarks.api_bound
	$(BIN)/python -m benchmarks.single_shop
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.many_shops
