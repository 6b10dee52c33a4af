# Benchmark (bench/): latency, throughput, memory, cold start. Included by the top-level Makefile.
# `make bench` (top-level) measures the default set-up, which the benchmark starts itself.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest
PROD_URL ?= http://127.0.0.1:8088
BENCH_ARGS ?=

.PHONY: bench-prod bench-training bench-profile test-bench

bench-prod: ## Benchmark the production set-up behind nginx (start it first: make run-prod); compares with latest-default
	$(PYTHON) -m bench.run_bench --setup prod --target $(PROD_URL) $(BENCH_ARGS)

bench-training: ## Benchmark the default set-up and also time `rasa train --force` (several minutes more)
	$(PYTHON) -m bench.run_bench --measure-training $(BENCH_ARGS)

bench-profile: ## Where a turn's time goes: KB search vs NLU in-process (add PY_SPY=/path/to/py-spy for server samples)
	$(PYTHON) -m bench.profile_latency $(if $(PY_SPY),--py-spy $(PY_SPY))

test-bench: ## Benchmark tests: conversations file, loopback check, and a 1 user × 2 turns run against the stack
	$(PYTEST) -q tests/bench/test_bench_smoke.py
