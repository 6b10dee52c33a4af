"""The WeChat Official Account channel: connectors.wechat.channel.WeChatInput (credentials.yml).

protocol (signatures, safe mode, passive replies), state (options, “更多” parts, retries) on a store
(memory or Redis), format (bot messages as WeChat text), api (customer-service messages), config
(settings), selftest (``python -m connectors.wechat.selftest`` against a running server).
"""
