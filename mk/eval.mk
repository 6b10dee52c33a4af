# Evaluation harness (evaluation/, tests/eval/). Included by the top-level Makefile; `make eval` runs everything.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest
FOLDS ?= 5
EVAL_OUT ?= results/eval
TARGET ?=

.PHONY: eval-answers eval-nlu eval-heldout eval-locked heldout-splits test-eval

eval-answers: ## Answer accuracy on tests/eval + BM25 baseline only (no NLU CV): make eval-answers [TARGET=http://localhost:5005]
	$(PYTHON) -m evaluation.run_eval --skip-nlu --out $(EVAL_OUT) $(if $(TARGET),--target $(TARGET))

eval-nlu: ## NLU cross-validation only (slow: FOLDS trainings): make eval-nlu [FOLDS=3]
	$(PYTHON) -m evaluation.run_eval --skip-answers --folds $(FOLDS) --out $(EVAL_OUT)

eval-heldout: install $(MODEL) ## Blind held-out set, dev split: per class and persona beside BM25, every miss listed [TARGET=…]
	$(PYTHON) -m evaluation.run_heldout --split dev $(if $(TARGET),--target $(TARGET))

eval-locked: install $(MODEL) ## Blind held-out set, LOCKED test split: figures only, the run is counted in tests/eval/heldout/locked_runs.log
	$(PYTHON) -m evaluation.run_heldout --split test $(if $(TARGET),--target $(TARGET))

heldout-splits: ## Rebuild tests/eval/heldout/{dev,test}.yml from the writers' files (quotes resolved to measure ids)
	$(PYTHON) -m evaluation.heldout build --source tests/eval/heldout/writers

test-eval: ## Unit tests of the evaluation scorer, the baseline and the held-out set (no servers)
	$(PYTEST) -q tests/evaluation
