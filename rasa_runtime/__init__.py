"""Every in-process change of Rasa 3.6, installed explicitly by rasa_runtime.install.install_all().

Importing this package or its modules changes nothing. The patches (one ClassPatch each):
event_types, graph_runner, fast_predict, action_client, action_reply, action_guard. Around them:
startup (the process before Rasa loads), readiness (the /webhooks/guard/ probe channel) and warmup.
"""
