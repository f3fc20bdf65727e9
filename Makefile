# Two entry points for a fresh machine:
#   make serve  - install, build the network cache if needed, start the service on 127.0.0.1:8000
#   make test   - install, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The map library of the web pages, installed from the npm registry by its lock file.
WEB_DIR := dispatch/web
WEB_ASSETS := $(WEB_DIR)/node_modules/.package-lock.json

.PHONY: setup serve test bench

setup: $(VENV)/.installed $(WEB_ASSETS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Without npm the pages still work, without their map; the service logs what to run.
$(WEB_ASSETS): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the web pages will have no map; install Node.js and npm, then run 'make setup'"; \
	fi

serve: setup
	$(BIN)/resurcor geodata build --skeleton --if-stale
	$(BIN)/resurcor serve

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_recommend.py
