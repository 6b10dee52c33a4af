# Web chat widget (webapp/static/widget/, socket.io-client 4 from npm). Included by the top-level Makefile.
.PHONY: widget-install test-widget-browser

widget-install: ## Reinstall the widget's npm packages exactly as locked (webapp/node_modules, served under /vendor/)
	npm ci --prefix webapp --no-audit --no-fund
	touch webapp/node_modules/.installed

test-widget-browser: $(VENV)/.installed webapp/node_modules/.installed ## Browser test of the chat widget against the stack (Debian chromium; screenshots in tests/artifacts/widget-*.png)
	$(PYTEST) -q -m browser tests/browser/test_widget.py
