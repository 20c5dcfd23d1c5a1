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

SPACY_MODEL := models/spacy/en_visafaq
MODEL := models/visafaq.tar.gz
# Quiet, offline Rasa: no telemetry, no TensorFlow chatter, no SQLAlchemy 2.0 nag from Rasa's own code.
RASA_ENV := RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
TRAINING_INPUTS := config.yml $(wildcard nlu/*.py) $(shell find data domain -name '*.yml' 2>/dev/null) $(SPACY_MODEL)/meta.json

.PHONY: help setup lock lint test test-python test-rasa kb nlp train domain run run-cluster clean browser nginx fault-servers

help:
	@echo "make run    start the assistant (sets up what is missing first)"
	@echo "make test   lint, type-check and run every test"
	@echo "make setup  create .venv (Python 3.12) and .venv-rasa (Python 3.10) from the lock files"
	@echo "make lock   re-resolve requirements/*.lock (only when changing dependencies)"
	@echo "make kb     validate and load knowledge/ into the database"
	@echo "make run-cluster REPLICAS=2  several Rasa replicas behind nginx, on the PostgreSQL and Redis"
	@echo "            named by VISAFAQ_DATABASE_URL, VISAFAQ_TRACKER_URL and VISAFAQ_REDIS_URL"
	@echo "make bench  measure accuracy, out-of-scope detection, latency, memory (writes benchmarks/RESULTS.md)"

setup: $(VENV)/.installed $(RASA_VENV)/.installed

# The stamp files make `setup` a no-op while the lock files are unchanged.
$(VENV)/.installed: requirements/app.lock pyproject.toml
	@PY312=$$(scripts/find-python 3.12); \
	  [ -x $(PY) ] || "$$PY312" -m venv $(VENV); \
	  $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync --quiet --python $(PY) requirements/app.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

# uv comes from .venv (order-only: a change to our own dependencies must not reinstall Rasa and retrain).
$(RASA_VENV)/.installed: requirements/rasa.lock requirements/rasa-extra.txt | $(VENV)/.installed
	@PY310=$$(scripts/find-python 3.10); \
	  [ -x $(RASA_VENV)/bin/python ] || "$$PY310" -m venv $(RASA_VENV)
	$(UV) pip sync --quiet --python $(RASA_VENV)/bin/python requirements/rasa.lock
	$(UV) pip install --quiet --python $(RASA_VENV)/bin/python --no-deps --require-hashes \
	  -r requirements/rasa-extra.txt
	@touch $@

lock: $(VENV)/.installed
	$(UV) pip compile --quiet --python-version 3.12 --python-platform x86_64-manylinux_2_28 \
	  --generate-hashes --extra dev --extra bench pyproject.toml -o requirements/app.lock
	$(UV) pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_28 \
	  --generate-hashes requirements/rasa.in -o requirements/rasa.lock

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy visafaq actions tests scripts/sample_clinc.py scripts/check_nlu_results.py
	$(VENV)/bin/mypy benchmarks

test-python: $(VENV)/.installed browser nginx fault-servers
	$(VENV)/bin/pytest -q

# The browser tests (widget, staff dashboard) drive Debian's Chromium through Playwright (Playwright's own browser
# downloads do not work here). Installed only when missing; needs root (CI runs as root).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# nginx in front of several Rasa replicas (make run-cluster, tests/cluster/): Debian's package, installed only
# when missing (needs root, like `browser`). It then runs unprivileged from var/cluster/nginx/.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

# The fault tests (tests/faults/) start private PostgreSQL and Redis servers to stop and restart (never the
# shared ones): they need PostgreSQL 15's binaries and redis-server. Installed only when missing; needs root.
PG_BIN ?= /usr/lib/postgresql/15/bin
fault-servers:
	@[ -x $(PG_BIN)/initdb ] && command -v redis-server >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 redis-server; }

# The assistant's own checks, with Rasa: data consistency, dialogue stories (any failed story fails
# the build) and the held-out NLU set (intent accuracy must stay above NLU_MIN_ACCURACY).
NLU_MIN_ACCURACY ?= 0.85
test-rasa: $(MODEL)
	$(RASA_ENV) $(RASA) data validate --domain domain --data data --config config.yml
	$(RASA_ENV) $(RASA) test core --stories tests/stories --model $(MODEL) --out results/core \
	  --fail-on-prediction-errors
	$(RASA_ENV) $(RASA) test nlu --nlu tests/nlu --model $(MODEL) --out results/nlu
	$(PY) scripts/check_nlu_results.py results/nlu $(NLU_MIN_ACCURACY)

test: setup lint train test-rasa test-python

kb: $(VENV)/.installed
	$(VISAFAQ) kb load

# The spaCy pipeline is built here from rules and package data (no model download).
nlp: $(SPACY_MODEL)/meta.json
$(SPACY_MODEL)/meta.json: knowledge/programmes.yml knowledge/fields.yml scripts/build_spacy_pipeline.py $(RASA_VENV)/.installed
	$(RASA_ENV) $(RASA_VENV)/bin/python scripts/build_spacy_pipeline.py knowledge $(SPACY_MODEL)

# Regenerate domain/topics.yml, domain/eligibility.yml, data/general/topic_rules.yml from our data.
domain: $(VENV)/.installed
	$(VISAFAQ) assistant export

# Retrain only when the training data, domain, config or spaCy pipeline changed.
train: $(MODEL)
$(MODEL): $(TRAINING_INPUTS) $(RASA_VENV)/.installed
	$(RASA_ENV) $(RASA) train --config config.yml --domain domain --data data --out models \
	  --fixed-model-name visafaq
	@touch $@

run: setup kb train
	$(VISAFAQ) run

# The production profile on one machine: REPLICAS Rasa servers (each with its action server) behind nginx,
# on PostgreSQL and Redis (see README, "Several replicas behind nginx"). It loads the knowledge store itself.
REPLICAS ?= 2
run-cluster: setup train nginx
	$(VISAFAQ) run-cluster --replicas $(REPLICAS)

clean:
	rm -rf var/ models/ .pytest_cache .mypy_cache .ruff_cache

include benchmarks/bench.mk
