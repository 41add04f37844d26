# ciso-donnees — every target sets up .venv first (Python 3.11 and make are all it needs).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8001

.PHONY: setup build check serve test lint format bench chromium libreoffice nginx wrk container-tools clean

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

# $(call debian,PACKAGE,PROGRAM,WHAT): install Debian's PACKAGE when PROGRAM is missing (as root),
# else stop with a clear message.
define debian
	@if ! command -v $(2) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(1) for $(3)…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else \
	    echo "ERROR: Debian's $(1) ($(2)) is needed for $(3). Run: sudo apt-get install $(1)" >&2; \
	    exit 1; \
	  fi; \
	fi
endef

# Browser tests drive Debian's Chromium; the nginx test and the bench run Debian's nginx; the bench loads it with wrk.
chromium:
	$(call debian,chromium,chromium,the browser tests)

# The spreadsheet tests open ciso-donnees.ods with LibreOffice (headless, no GUI libraries).
libreoffice:
	$(call debian,libreoffice-calc-nogui,soffice,the spreadsheet tests)

nginx:
	$(call debian,nginx,/usr/sbin/nginx,the nginx test and make bench)

wrk:
	$(call debian,wrk,wrk,make bench)

# The container test builds and runs the Dockerfile with Debian's podman (../shared/CONTAINERS.md).
container-tools:
	$(call debian,podman runc mmdebstrap,podman,the container test)
	$(call debian,runc,runc,the container test)
	$(call debian,mmdebstrap,mmdebstrap,the container test)

# The suite on TEST_WORKERS processes (pytest-xdist, a test module each at a time, the longest first:
# tests/conftest.py), then the tests that hold bounds in seconds (marker timed), alone on the machine.
TEST_WORKERS ?= 2
test: setup chromium libreoffice nginx container-tools
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not timed"
	$(BIN)/python -m pytest -m timed

lint: setup
	$(BIN)/ruff format --check scripts plugins tests benchmarks
	$(BIN)/ruff check scripts plugins tests benchmarks

format: setup
	$(BIN)/ruff format scripts plugins tests benchmarks
	$(BIN)/ruff check --fix scripts plugins tests benchmarks

bench: setup nginx wrk
	$(BIN)/python benchmarks/run.py --out benchmarks/RESULTATS.md

clean:
	rm -rf $(VENV) ciso.db .pytest_cache build *.egg-info scripts/*.egg-info
