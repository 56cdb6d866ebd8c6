# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pip's own lines, less the noise: what is already there, download bars, build steps, this machine's mirrors
PIP_SHOWN := sed -u -E '/^(Requirement already satisfied|Looking in|  Downloading|  Using cached|  Stored in|  Created wheel|  Building|  Installing build|  Checking if|  Getting requirements|  Preparing)|━|is ignored: it is neither/d'
TEST_STAMP := $(VENV)/.installed-test

LINT_PATHS := src tests $(wildcard bench)

.PHONY: install install-test native browser run test lint typecheck pytest bench clean

# the engine's hot modules, compiled with mypyc at install (pure Python if that fails; see gpufleet/native.py)
NATIVE_SOURCES := $(wildcard src/gpufleet/sim/*.py src/gpufleet/sched/*.py src/gpufleet/fleet/state.py src/gpufleet/native.py)
NATIVE_STAMP := $(VENV)/.native

install: $(STAMP) $(NATIVE_STAMP)

native: $(NATIVE_STAMP)

$(NATIVE_STAMP): $(STAMP) $(NATIVE_SOURCES)
	@echo "compiling the engine with mypyc (about a minute; GPUFLEET_PURE_PYTHON=1 runs the sources)"
	@GPUFLEET_PURE_PYTHON=1 $(BIN)/python -c "from gpufleet.native import build; raise SystemExit(build())"
	@touch $(NATIVE_STAMP)

# `make run` needs the runtime and mypy (the `native` extra) to compile the engine; `make test` adds
# the test tools (the `test` extra: pytest, ruff, stubs, playwright).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@echo "installing gpufleet and what it needs to run into $(VENV) (one line per package)"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install -e '.[native]' 2>&1 | $(PIP_SHOWN)
	@touch $(STAMP)

install-test: install $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	@echo "installing the test tools (pytest, ruff, mypy stubs, playwright)"
	@$(BIN)/python -m pip install -e '.[test]' 2>&1 | $(PIP_SHOWN)
	@touch $(TEST_STAMP)

run: install
	$(BIN)/gpufleet simulate
	@echo
	@echo "gpufleet is installed in $(VENV), not on your PATH. To type 'gpufleet ...':"
	@echo "  source $(VENV)/bin/activate      (or run $(BIN)/gpufleet directly)"
	@echo "then: gpufleet runs list | gpufleet report | gpufleet finance | gpufleet --help"

# The report's browser test drives Debian's chromium (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser tests will fail and say why"; }

lint: install-test
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: install-test
	$(BIN)/mypy

pytest: install-test browser
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

clean:
	GPUFLEET_PURE_PYTHON=1 $(BIN)/python -c "from gpufleet.native import clean; clean(True)" 2>/dev/null || true
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
