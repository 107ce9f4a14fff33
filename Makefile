# Every target installs what it needs into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup test lint demo bench docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e ".[test]"
	touch $@

setup: $(BIN)/.installed  ## create .venv with the tap and its test tools

test: setup  ## run the whole test suite (what CI runs)
	$(BIN)/pytest

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

docs: setup  ## regenerate the settings table in README.md from --about
	$(BIN)/python scripts/update_readme_settings.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
