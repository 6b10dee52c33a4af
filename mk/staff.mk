# Staff desk (webapp/: /staff/, /api/...) and the unanswered-question report. Included by the top-level Makefile.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest
SINCE ?=
UNTIL ?=
REPORT_DATE := $(shell date +%Y%m%d)
REPORT_OUT ?= reports/unanswered-$(REPORT_DATE).csv

.PHONY: report web test-staff test-staff-browser

report: ## Unanswered questions from the tracker store as CSV: make report [SINCE=2026-11-01] [UNTIL=2026-11-30]
	$(PYTHON) -m webapp.report $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) --out $(REPORT_OUT)

web: ## Only the web server (widget page, staff desk /staff/, JSON API) on WEB_HOST:WEB_PORT (needs STAFF_TOKEN)
	$(PYTHON) -m webapp

test-staff: ## Tests of the staff API and the report (no servers needed)
	$(PYTEST) -q tests/webapp -m "not stack"

test-staff-browser: ## Browser test of the staff desk (Debian chromium; screenshots in tests/artifacts/staff-*.png)
	$(PYTEST) -q -m browser tests/browser/test_staff.py
