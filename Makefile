# visafaq: the README's commands. `make run` starts the assistant; `make test` runs every test.
# Two environments (see DESIGN.md): .venv (Python 3.12, our code) and .venv-rasa (Python 3.10, Rasa 3.6.21),
# each installed from its lock file in requirements/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
VISAFAQ := $(VENV)/bin/visafaq
RASA := $(RASA_VENV)/bin/rasa

# PostgreSQL for the production-path tests; CI must reach it (the tests fail, not skip, when CI=true).
VISAFAQ_TEST_POSTGRES_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
export VISAFAQ_TEST_POSTGRES_URL

.PHONY: help setup lock lint test test-python kb run clean

help:
	@echo "make run    start the assistant (sets up what is missing first)"
	@echo "make test   lint, type-check and run every test"
	@echo "make setup  create .venv (Python 3.12) and .venv-rasa (Python 3.10) from the lock files"
	@echo "make lock   re-resolve requirements/*.lock (only when changing dependencies)"
	@echo "make kb     validate and load knowledge/ into the database"

setup: $(VENV)/.installed $(RASA_VENV)/.installed

# The stamp files make `setup` a no-op while the lock files are unchanged.
$(VENV)/.installed: requirements/app.lock pyproject.toml
	@PY312=$$(scripts/find-python 3.12); \
	  [ -x $(PY) ] || "$$PY312" -m venv $(VENV); \
	  $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync --quiet --python $(PY) requirements/app.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.lock $(VENV)/.installed
	@PY310=$$(scripts/find-python 3.10); \
	  [ -x $(RASA_VENV)/bin/python ] || "$$PY310" -m venv $(RASA_VENV)
	$(UV) pip sync --quiet --python $(RASA_VENV)/bin/python requirements/rasa.lock
	@touch $@

lock: $(VENV)/.installed
	$(UV) pip compile --quiet --python-version 3.12 --python-platform x86_64-manylinux_2_28 \
	  --generate-hashes --extra dev pyproject.toml -o requirements/app.lock
	$(UV) pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_28 \
	  --generate-hashes requirements/rasa.in -o requirements/rasa.lock

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy visafaq tests

test-python: $(VENV)/.installed
	$(VENV)/bin/pytest -q

test: setup lint test-python

kb: $(VENV)/.installed
	$(VISAFAQ) kb load

run: setup kb
	@echo "The knowledge store is loaded. Ask it from the command line, for example:"
	@echo "  $(VISAFAQ) eligibility titp-quota --full-time-staff 150"

clean:
	rm -rf var/ models/ .pytest_cache .mypy_cache .ruff_cache
