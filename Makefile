# ciso-donnees — every target sets up .venv first (Python 3.11 and make are all it needs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8001

.PHONY: setup build check serve test lint format bench chromium container-tools clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(BIN)/ciso build

check: setup
	$(BIN)/ciso check

serve: setup
	$(BIN)/ciso serve --port $(PORT)

# Browser tests need Debian's Chromium: install it when missing (as root), else stop with a clear message.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "ERROR: the browser tests need Debian's chromium (/usr/bin/chromium). Run: sudo apt-get install chromium" >&2; \
	    exit 1; \
	  fi; \
	fi

# The container test builds and runs the Dockerfile with Debian's podman (../shared/CONTAINERS.md).
container-tools:
	@if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's podman, runc and mmdebstrap for the container test…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap >/dev/null; \
	  else \
	    echo "ERROR: the container test needs podman, runc and mmdebstrap. Run: sudo apt-get install podman runc mmdebstrap" >&2; \
	    exit 1; \
	  fi; \
	fi

test: setup chromium container-tools
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff format --check scripts plugins tests benchmarks
	$(BIN)/ruff check scripts plugins tests benchmarks

format: setup
	$(BIN)/ruff format scripts plugins tests benchmarks
	$(BIN)/ruff check --fix scripts plugins tests benchmarks

bench: setup
	$(BIN)/python benchmarks/run.py --out benchmarks/RESULTATS.md

clean:
	rm -rf $(VENV) ciso.db .pytest_cache build *.egg-info scripts/*.egg-info
