# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LINT_PATHS := src tests $(wildcard bench)

.PHONY: install native browser run test lint typecheck pytest bench clean

# the engine's hot modules, compiled with mypyc at install (pure Python if that fails; see gpufleet/native.py)
NATIVE_SOURCES := $(wildcard src/gpufleet/sim/*.py src/gpufleet/sched/*.py src/gpufleet/fleet/state.py src/gpufleet/native.py)
NATIVE_STAMP := $(VENV)/.native

install: $(STAMP) $(NATIVE_STAMP)

native: $(NATIVE_STAMP)

$(NATIVE_STAMP): $(STAMP) $(NATIVE_SOURCES)
	@echo "compiling the engine with mypyc (about a minute; GPUFLEET_PURE_PYTHON=1 runs the sources)"
	@GPUFLEET_PURE_PYTHON=1 $(BIN)/python -c "from gpufleet.native import build; raise SystemExit(build())"
	@touch $(NATIVE_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: install
	$(BIN)/gpufleet simulate

# The report's browser test drives Debian's chromium (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser tests will fail and say why"; }

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: install
	$(BIN)/mypy

pytest: install browser
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench

clean:
	GPUFLEET_PURE_PYTHON=1 $(BIN)/python -c "from gpufleet.native import clean; clean(True)" 2>/dev/null || true
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
