"""rasa_runtime.readiness: the probe channel installs nothing, configures the guard and reports readiness."""

from __future__ import annotations

import asyncio
import json
from typing import Iterator

import pytest
from rasa.core.actions.action import RemoteAction

from rasa_runtime import action_guard, install, readiness
from rasa_runtime.readiness import ReadinessChannel


@pytest.fixture
def unpatched() -> Iterator[None]:
    """Rasa as shipped before and after the test; the guard's settings reset afterwards."""
    assert not any(patch.installed for patch in install.patches())
    try:
        yield
    finally:
        install.uninstall_all()
        action_guard.configure()


def probe(channel: ReadinessChannel) -> tuple:
    """Status code and body of the channel's GET / route (served as /webhooks/guard/)."""
    (route,) = [route for route in channel.blueprint(None)._future_routes if route.uri == "/"]
    answer = asyncio.run(route.handler(None))
    return answer.status, json.loads(answer.body)


def test_creating_the_channel_installs_nothing(unpatched: None) -> None:
    """Built from credentials.yml's options it sets the guard's options, but Rasa stays as it is."""
    original = RemoteAction.run
    channel = ReadinessChannel.from_credentials({"timeout": 7, "response": "utter_default", "warm_up": "false"})
    assert channel.name() == "guard" and channel.warm_up is False
    assert RemoteAction.run is original
    assert not any(patch.installed for patch in install.patches())
    assert (action_guard.SETTINGS.timeout, action_guard.SETTINGS.response) == (7.0, "utter_default")


def test_not_ready_while_rasa_is_not_patched(unpatched: None) -> None:
    """Without install_all() (a server not started by scripts/rasa_server.py) the probe says 503 not_patched."""
    status, body = probe(ReadinessChannel(warm_up=False))
    assert status == 503
    assert body["status"] == "not_patched" and body["ready"] is False and body["action_guard"] is False


def test_ready_once_patched_and_warmed_up(unpatched: None) -> None:
    """Patched: 503 warming_up until the warm-up is over, then 200 with the guard's settings."""
    install.install_all()
    channel = ReadinessChannel.from_credentials({"timeout": "junk"})
    assert readiness.status()["status"] == "warming_up"
    readiness._Readiness.warmed = True  # what the after_server_start listener does once warm_up() returns
    status, body = probe(channel)
    assert status == 200
    assert body == {"status": "ok", "ready": True, "action_guard": True,
                    "action_timeout": action_guard.DEFAULT_ACTION_TIMEOUT, "response": action_guard.FALLBACK_RESPONSE}
