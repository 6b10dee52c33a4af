# WeChat Official Account channel (connectors/wechat/). Included by the top-level Makefile.
.PHONY: test-wechat test-wechat-stack wechat-selftest wechat-selftest-safe

test-wechat: $(VENV)/.installed ## WeChat channel unit and HTTP tests (no trained model needed)
	$(PYTEST) -q tests/connectors/test_wechat_format.py tests/connectors/test_wechat_store.py tests/connectors/test_wechat_channel.py

test-wechat-stack: install $(MODEL) ## WeChat integration test against the trained assistant (stack fixture)
	$(PYTEST) -q -m stack tests/integration/test_wechat_stack.py

wechat-selftest: ## Send a signed verification GET and a text message to a running Rasa (RASA_URL)
	$(PY) -m connectors.wechat.selftest --url $${RASA_URL:-http://localhost:5005}

wechat-selftest-safe: ## Same, in safe mode (needs WECHAT_ENCODING_AES_KEY and WECHAT_APP_ID)
	$(PY) -m connectors.wechat.selftest --url $${RASA_URL:-http://localhost:5005} --safe
