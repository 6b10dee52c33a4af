# IP-policy assistant for SMEs. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
BASE_PYTHON ?= $(shell (command -v pyenv >/dev/null && ls -d $$(pyenv root)/versions/$(PYTHON_VERSION)/bin/python 2>/dev/null) || command -v python3.10)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
RASA := $(VENV)/bin/rasa
UV_VERSION := $(shell grep '^uv==' requirements/requirements.lock | cut -d= -f3)
MODEL := models/ip-assistant.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name "*.yml" 2>/dev/null) nlu_dictionary/kb_words.txt $(wildcard nlu_components/*.py) \
  policies_kb/normalise.py policies_kb/kb.py policies_kb/search.py policies_kb/char_readings.tsv

# Channel credentials are read by credentials.yml; Rasa needs them defined (empty is fine).
export WECHAT_TOKEN ?=
export WECHAT_APP_ID ?=
export WECHAT_APP_SECRET ?=
export WECHAT_ENCODING_AES_KEY ?=
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install system-deps lock nlu-resources train run test test-fast eval bench lint validate clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

install: $(VENV)/.installed webapp/node_modules/.installed tests/deploy/node_modules/.installed ## Build .venv from the lock file; install the widget's npm packages and the deploy checks' (dclint)

# The lock pins runtime and [dev] together; the project itself is then installed editable (no sys.path tricks).
# Bytecode is compiled once here: the Makefile exports PYTHONDONTWRITEBYTECODE, so every process (each test's
# subprocess, each pytest run) would otherwise compile the imported packages from source again.
$(VENV)/.installed: requirements/requirements.lock pyproject.toml .python-version
	@test -n "$(BASE_PYTHON)" || { echo "Python $(PYTHON_VERSION) not found (pyenv install $(PYTHON_VERSION))"; exit 1; }
	test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --python $(PY) --compile-bytecode requirements/requirements.lock
	$(VENV)/bin/uv pip install --python $(PY) --quiet --no-deps -e .
	touch $@

webapp/node_modules/.installed: webapp/package-lock.json
	npm ci --prefix webapp --no-audit --no-fund
	touch $@

# test tool only (tests/deploy/test_deploy_files.py), kept apart from the widget's packages that the image ships
tests/deploy/node_modules/.installed: tests/deploy/package-lock.json
	npm ci --prefix tests/deploy --no-audit --no-fund
	touch $@

system-deps: ## Install the Debian packages the tests and the production set-up use (as root)
	@missing=""; for pkg in chromium fonts-wqy-microhei nginx postgresql redis-server; do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

LOCK_PLATFORM := --python-version 3.10 --python-platform x86_64-manylinux_2_28
lock: ## Re-resolve pyproject.toml's dependencies and [dev] into requirements/requirements.lock (one resolution), then its runtime part
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev $(LOCK_PLATFORM) -o requirements/requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --constraints requirements/requirements.lock $(LOCK_PLATFORM) \
	  -o requirements/runtime.lock

nlu-resources: $(VENV)/.installed ## Regenerate the jieba dictionary and NLU lookup tables from the KB
	$(PY) -m policies_kb nlu-resources

nlu_dictionary/kb_words.txt: $(shell find policies_kb/data -name '*.yml') | $(VENV)/.installed
	$(PY) -m policies_kb nlu-resources

$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.installed
	@mkdir -p results
	@reuse=fresh; if [ -n "$$(ls -A $${RASA_CACHE_DIRECTORY:-.rasa/cache} 2>/dev/null)" ]; then reuse=cache; fi; \
	  start=$$(date +%s); $(RASA) train --fixed-model-name ip-assistant --out models --quiet || exit $$?; \
	  secs=$$(( $$(date +%s) - start )); echo "$$secs $$reuse" > results/train-seconds.txt; \
	  echo "training took $$secs s ($$reuse: $$( [ $$reuse = cache ] && echo "Rasa's cache may have supplied trained components" || echo "empty cache, everything trained"))"

train: install $(MODEL) ## Train the model when its inputs changed (models/ip-assistant.tar.gz)

run: install $(MODEL) ## Start the action server (ACTION_PORT 5055), Rasa (RASA_PORT 5005: REST, socket.io, WeChat) and the web pages (WEB_PORT 8080)
	$(PY) -m devstack.run_local

validate: $(VENV)/.installed ## Validate the knowledge base and the Rasa training data
	$(PY) -m policies_kb validate
	$(RASA) data validate --data data --quiet

# The pytest stages split the tests by marker and directory so that together they run every test once:
#   unit (make test-fast)  not model/stack/browser/prod, outside tests/rasa_contract/: no model, no TensorFlow
#   rasa contract          tests/rasa_contract/ (not model/stack/browser/prod): Rasa's own heavy internals, no model
#   model                  model (not stack/browser/prod); integration: stack or browser (not prod); production: prod
UNIT_MARKERS := not model and not stack and not browser and not prod
TEST_STAGES ?= kb unit rasa model stories integration prod
# make test-fast runs two pytest processes side by side (this machine has two cores), each collecting only its
# own files (pytest-xdist's workers would each import everything): the KB side below, and all the other tests
# outside tests/rasa_contract/. The split is by directory, balanced by measurement; together they are the unit stage.
FAST_KB_SIDE := tests/kb tests/policies_kb tests/nlu_resources tests/actions \
  tests/test_import_guard.py
FAST_PYTEST = $(PYTEST) -q -m "$(UNIT_MARKERS)" --forbid-import=tensorflow

test: install system-deps ## Run every test, cheapest first: KB, unit, Rasa contract, (train) model, stories, stack and browser, production
	$(MAKE) --no-print-directory $(addprefix test-stage-,$(TEST_STAGES))

test-fast: $(VENV)/.installed tests/deploy/node_modules/.installed ## Unit tests: no trained model, no servers, no TensorFlow (fails if it is imported), on two cores
	@mkdir -p results/pytest
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-fast-kb-side test-fast-other-side

.PHONY: test-fast-kb-side test-fast-other-side
test-fast-kb-side:
	$(FAST_PYTEST) --basetemp=results/pytest/kb-side $(FAST_KB_SIDE)
test-fast-other-side:
	$(FAST_PYTEST) --basetemp=results/pytest/other-side --ignore=tests/rasa_contract $(addprefix --ignore=,$(FAST_KB_SIDE))

test-rasa: $(VENV)/.installed ## Tests of rasa_runtime's changes against Rasa's own code and of the entry point (TensorFlow loads; no model)
	$(PYTEST) -q -m "$(UNIT_MARKERS)" tests/rasa_contract

.PHONY: test-rasa $(addprefix test-stage-,kb unit rasa model stories integration prod)
test-stage-kb:
	$(PY) -m policies_kb validate
test-stage-unit: test-fast
test-stage-rasa: test-rasa
test-stage-model: $(MODEL)
	$(PYTEST) -q -m "model and not stack and not browser and not prod"
test-stage-stories: $(MODEL)
	$(RASA) test core --stories tests/test_stories.yml --model $(MODEL) --fail-on-prediction-errors --out results/stories
test-stage-integration: $(MODEL)
	$(PYTEST) -q -m "(stack or browser) and not prod"
test-stage-prod: $(MODEL)
	$(PYTEST) -q -m prod

FOLDS ?= 5
eval: install $(MODEL) ## NLU cross-validation (FOLDS=5), answers on tests/eval and on the blind held-out dev split, vs BM25
	$(PY) -m evaluation.run_eval --folds $(FOLDS)
	$(PY) -m evaluation.run_heldout --split dev

bench: install $(MODEL) ## Latency, throughput and memory benchmark (results/bench/)
	$(PY) -m bench.run_bench

lint: $(VENV)/.installed ## ruff over the Python code
	$(VENV)/bin/ruff check policies_kb actions connectors rasa_stores rasa_runtime webapp devstack nlu_components scripts tests evaluation bench settings.py

clean: ## Remove trained models, results and caches (keeps .venv)
	rm -rf models results .pytest_cache tests/artifacts

-include $(sort $(wildcard mk/*.mk))
