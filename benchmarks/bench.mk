# Benchmarks: `make bench` measures answer accuracy (against TF-IDF, BM25 and all-MiniLM-L6-v2
# baselines), out-of-scope detection on CLINC150, REST latency, start-up, memory and training time,
# then writes benchmarks/RESULTS.md and benchmarks/results/ (JSON and PNG).
#
# Included by the Makefile after its own variables (VENV, PY, UV, MODEL, RASA_VENV):
#     include benchmarks/bench.mk
#
# A third environment, .venv-bench (Python 3.11), runs only benchmarks/embed.py: the PyTorch CPU wheel
# available here is built for Python 3.11, and the default index's torch is the CUDA build. It is
# installed with --no-deps from the exact list in requirements/bench-embed.txt.
# The bench scripts themselves run in .venv, whose lock (requirements/app.lock) includes the `bench` extra.

BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
# Answers are given as of this day, so that results do not drift with the calendar.
BENCH_TODAY ?= 2026-11-24
# Safety nets around each step, in seconds (each script also bounds its own loops and waits).
BENCH_ACCURACY_TIMEOUT ?= 10800
BENCH_LATENCY_TIMEOUT ?= 5400
BENCH_REPORT_TIMEOUT ?= 300
BENCH_TUNE_TIMEOUT ?= 1800
BENCH_PIPELINES_TIMEOUT ?= 3600
BENCH_CLUSTER_TIMEOUT ?= 3600
BENCH_RUN = VISAFAQ_TODAY=$(BENCH_TODAY) timeout --signal=TERM --kill-after=60

.PHONY: bench bench-env bench-tune bench-pipelines bench-accuracy bench-latency bench-cluster bench-report

bench-env: $(BENCH_VENV)/.installed

# The stamp makes bench-env a no-op while the requirements are unchanged.
$(BENCH_VENV)/.installed: requirements/bench-embed.txt
	@PY311=$$(scripts/find-python 3.11); \
	  [ -x $(BENCH_PY) ] || "$$PY311" -m venv $(BENCH_VENV)
	@echo '*' > $(BENCH_VENV)/.gitignore
	$(BENCH_PY) -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: \
	  -r requirements/bench-embed.txt
	$(BENCH_PY) -m pip check
	@touch $@

# py-spy, to profile the Rasa process in benchmarks/cluster_bench.py: a binary in a wheel, in an environment
# of its own so that the Rasa environment (requirements/rasa.lock) stays as locked.
PROFILE_VENV ?= .venv-profile
PY_SPY_VERSION := 0.4.3
$(PROFILE_VENV)/.installed: | $(VENV)/.installed
	@PY312=$$(scripts/find-python 3.12); \
	  [ -x $(PROFILE_VENV)/bin/python ] || "$$PY312" -m venv $(PROFILE_VENV)
	@echo '*' > $(PROFILE_VENV)/.gitignore
	$(UV) pip install --quiet --python $(PROFILE_VENV)/bin/python "py-spy==$(PY_SPY_VERSION)"
	@touch $@

BENCH_NEEDS := $(VENV)/.installed $(BENCH_VENV)/.installed $(RASA_VENV)/.installed $(MODEL) \
  $(PROFILE_VENV)/.installed nginx

# In order, in one recipe, so that `make -j` cannot run them side by side.
bench: $(BENCH_NEEDS)
	$(BENCH_RUN) $(BENCH_TUNE_TIMEOUT) $(PY) benchmarks/tune_fallback.py
	$(BENCH_RUN) $(BENCH_PIPELINES_TIMEOUT) $(PY) benchmarks/pipelines.py
	$(BENCH_RUN) $(BENCH_ACCURACY_TIMEOUT) $(PY) benchmarks/accuracy.py
	$(BENCH_RUN) $(BENCH_LATENCY_TIMEOUT) $(PY) benchmarks/latency.py
	$(BENCH_RUN) $(BENCH_CLUSTER_TIMEOUT) $(PY) benchmarks/cluster_bench.py
	$(BENCH_RUN) $(BENCH_REPORT_TIMEOUT) $(PY) benchmarks/report.py

# The FallbackClassifier thresholds, on tuning data only (the table behind config.yml's values).
bench-tune: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL)
	$(BENCH_RUN) $(BENCH_TUNE_TIMEOUT) $(PY) benchmarks/tune_fallback.py

# The spaCy pipeline against the whitespace tokenizer, and without the MiniLM featurizer (trains all three, NLU only).
bench-pipelines: $(VENV)/.installed $(RASA_VENV)/.installed $(SPACY_MODEL)/meta.json
	$(BENCH_RUN) $(BENCH_PIPELINES_TIMEOUT) $(PY) benchmarks/pipelines.py

bench-accuracy: $(BENCH_NEEDS)
	$(BENCH_RUN) $(BENCH_ACCURACY_TIMEOUT) $(PY) benchmarks/accuracy.py

bench-latency: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL)
	$(BENCH_RUN) $(BENCH_LATENCY_TIMEOUT) $(PY) benchmarks/latency.py

# One replica against two behind nginx, on PostgreSQL and Redis (VISAFAQ_TEST_POSTGRES_URL, VISAFAQ_TEST_REDIS_URL):
# throughput and latency at 1-100 concurrent conversations, memory, a py-spy profile. Then the report.
bench-cluster: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL) $(PROFILE_VENV)/.installed nginx
	$(BENCH_RUN) $(BENCH_CLUSTER_TIMEOUT) $(PY) benchmarks/cluster_bench.py
	$(BENCH_RUN) $(BENCH_REPORT_TIMEOUT) $(PY) benchmarks/report.py

bench-report: $(VENV)/.installed
	$(BENCH_RUN) $(BENCH_REPORT_TIMEOUT) $(PY) benchmarks/report.py
