# WeChat Official Account channel (channels/wechat.py). Included by the top-level Makefile.
PYTHON ?= .venv/bin/python
PYTEST ?= .venv/bin/pytest
RASA_URL ?= http://localhost:5005

.PHONY: test-wechat test-wechat-stack wechat-selftest wechat-selftest-safe

## Unit and HTTP-level tests of the WeChat channel (no trained model needed)
test-wechat:
	$(PYTEST) -q tests/test_wechat_format.py tests/test_wechat_store.py tests/test_wechat_channel.py

## Integration test against the trained assistant (uses the `stack` fixture)
test-wechat-stack:
	$(PYTEST) -q -m stack tests/test_wechat_stack.py

## Send a signed verification GET and a text message to a running Rasa server
wechat-selftest:
	$(PYTHON) -m channels.wechat_selftest --url $(RASA_URL)

## Same, in safe mode (needs WECHAT_ENCODING_AES_KEY and WECHAT_APP_ID)
wechat-selftest-safe:
	$(PYTHON) -m channels.wechat_selftest --url $(RASA_URL) --safe
