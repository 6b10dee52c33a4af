"""Custom Rasa input channels (WeChat Official Account: channels.wechat.WeChatInput)."""
