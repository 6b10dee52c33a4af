# Evaluation harness (evaluation/, tests/eval/). Included by the top-level Makefile; `make eval` runs everything.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest
FOLDS ?= 5
EVAL_OUT ?= results/eval
TARGET ?=

.PHONY: eval-answers eval-nlu test-eval

eval-answers: ## Answer accuracy on tests/eval + BM25 baseline only (no NLU CV): make eval-answers [TARGET=http://localhost:5005]
	$(PYTHON) -m evaluation.run_eval --skip-nlu --out $(EVAL_OUT) $(if $(TARGET),--target $(TARGET))

eval-nlu: ## NLU cross-validation only (slow: FOLDS trainings): make eval-nlu [FOLDS=3]
	$(PYTHON) -m evaluation.run_eval --skip-answers --folds $(FOLDS) --out $(EVAL_OUT)

test-eval: ## Unit tests of the evaluation scorer and the baseline (no servers)
	$(PYTEST) -q tests/test_evaluation_scoring.py
