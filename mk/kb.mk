# Knowledge base (policies_kb): validate, rebuild from the sources, tests. Included by the top-level Makefile.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest

.PHONY: kb-validate kb-build test-kb

kb-validate: ## Check the KB (verbatim quotes, source checksums, registries, 89 measures); problems as file:line
	$(PYTHON) -m policies_kb validate

kb-build: ## Rebuild policies_kb/data/measures/*.yml from policies_kb/sources/ (curated fields kept), then validate
	$(PYTHON) -m policies_kb build

test-kb: ## KB, search-quality (tests/kb/staff_queries.yml) and CLI tests
	$(PYTEST) -q tests/kb
