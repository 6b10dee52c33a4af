# Production layout (devstack/cluster/, endpoints.prod.yml, deploy/). Included by the top-level Makefile.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest

.PHONY: run-prod test-prod test-faults test-fuzz nginx-config

run-prod: install models/ip-assistant.tar.gz ## Two Rasa replicas, two action servers, web, PostgreSQL, Redis behind nginx on 8088 (Ctrl-C stops all)
	$(PYTHON) -m devstack.cluster.run

test-prod: install system-deps models/ip-assistant.tar.gz ## Production tests (own PostgreSQL/Redis/nginx): shared context, lock order, failover, security
	$(PYTEST) -q -m prod tests/prod

test-faults: install models/ip-assistant.tar.gz ## Fault tests: action server stopped under the stack (guard), broken KB at start-up, last good KB kept
	$(PYTEST) -q tests/integration/test_faults.py

test-fuzz: install models/ip-assistant.tar.gz ## Property-based input tests (hypothesis) against the running stack: REST, socket.io, WeChat
	$(PYTEST) -q tests/integration/test_fuzz_inputs.py

nginx-config: $(VENV)/.installed ## Print deploy/nginx.conf.template rendered for docker-compose (service names)
	@$(PYTHON) -m devstack.cluster.nginx
