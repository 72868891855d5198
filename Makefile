# fapiao developer tasks. Everything runs from the project's own virtualenv in .venv,
# made with `$(PYTHON) -m venv` on first use. Installs are remembered by stamp files in
# .venv that depend on pyproject.toml, so repeated runs are fast.
#
#   make run     install runtime deps, migrate, load demo data, serve on 127.0.0.1:8000
#   make test    install dev deps, make sure PostgreSQL server programs, Chromium and the CJK
#                fonts exist, lint, type-check, then pytest with FAPIAO_TEST_POSTGRES=required
#                (no PostgreSQL test may skip; the browser tests run in CI)
#   make lint    ruff check, ruff format --check, mypy
#   make fmt     ruff format and ruff check --fix
#   make bench   bench/run.py
#   make clean   DELETES, without asking: the install stamps in .venv, ./data (the demo
#                database and its key file) and the tool caches
#   make distclean   clean, and DELETES the whole .venv too
#
# Variables: PYTHON (python3), FAPIAO_DATA_DIR (./data), HOST (127.0.0.1), PORT (8000),
# PYTEST_ARGS (extra pytest arguments, e.g. PYTEST_ARGS='-k issue -x').

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

FAPIAO_DATA_DIR ?= ./data
export FAPIAO_DATA_DIR
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv install install-dev run test soak postgres lint fmt bench clean distclean

help:
	@sed -n '1,18p' Makefile | sed 's/^# \{0,1\}//'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

# The dev install includes the runtime one, so it refreshes both stamps.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	$(BIN)/fapiao db upgrade
	$(BIN)/fapiao demo
	$(BIN)/fapiao serve --host $(HOST) --port $(PORT)

postgres:
	bash scripts/ensure-postgres.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

test: $(DEV_STAMP)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-browser.sh
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy
	FAPIAO_TEST_POSTGRES=required $(BIN)/pytest $(PYTEST_ARGS)

fmt: $(DEV_STAMP)
	$(BIN)/ruff format
	$(BIN)/ruff check --fix

soak: $(DEV_STAMP)  ## the fault suite with 1000 SIGKILLs per backend
	bash scripts/ensure-postgres.sh
	FAPIAO_FAULT_KILLS=1000 FAPIAO_TEST_POSTGRES=required $(BIN)/pytest -s tests/integration/test_faults.py

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -f $(RUNTIME_STAMP) $(DEV_STAMP)
	rm -rf ./data .pytest_cache .ruff_cache .mypy_cache .hypothesis

distclean: clean
	rm -rf $(VENV)
