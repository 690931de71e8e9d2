# newsmonitor: `make run` starts the daemon on the shipped config; `make test` runs every test.
# Each target makes (or reuses) a virtualenv in .venv; only Python 3.11+ and make are needed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run demo check test lint format clean browser

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "newsmonitor needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.app
	$(PIP) -e '.[test]'
	@touch $@

run: $(VENV)/.app  ## run the daemon on config/monitor.yaml (Ctrl-C stops it)
	$(BIN)/newsmonitor -c config/monitor.yaml run

demo: $(VENV)/.app  ## offline demo: local sample feeds, alerts on the console
	$(BIN)/newsmonitor -c config/monitor.yaml demo

check: $(VENV)/.app  ## validate config/monitor.yaml
	$(BIN)/newsmonitor -c config/monitor.yaml check

lint: $(VENV)/.dev  ## ruff check, ruff format --check and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

browser:  ## install Debian's chromium for tests/browser when missing (needs root)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
		echo "chromium missing and not root: tests/browser will skip"

test: lint browser  ## lint, then the whole test suite (chromium installed for the browser tests)
	$(BIN)/python -m pytest

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
