# Two entry points for a fresh machine:
#   make serve  - install, build the network cache if needed, start the service on 127.0.0.1:8000
#   make test   - install, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup serve test bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

serve: setup
	$(BIN)/resurcor geodata build --skeleton --if-stale
	$(BIN)/resurcor serve

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_recommend.py
