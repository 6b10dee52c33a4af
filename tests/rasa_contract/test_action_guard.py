"""rasa_runtime.action_guard around Rasa's RemoteAction: a polite answer when the action server fails (no servers)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction

from rasa_runtime import action_guard
from settings import PROJECT_ROOT as ROOT

APOLOGY = "抱歉，政策查询服务暂时繁忙，请稍后再试。"
QUESTION = "专利质押贷款有贴息吗？"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def guard() -> Iterator[None]:
    """The guard installed with a 1-second timeout, removed and reset afterwards."""
    action_guard.configure(timeout=1.0)
    action_guard.install()
    try:
        yield
    finally:
        action_guard.uninstall()
        action_guard.configure()


def run_remote_action(url: str, name: str = "action_answer_policy_question") -> list[Any]:
    """Run Rasa's RemoteAction against url with the real domain; return its events."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker("guard-test", domain.slots)
    tracker.update(UserUttered(QUESTION, intent={"name": "ask_financing", "confidence": 1.0}))
    action = RemoteAction(name, EndpointConfig(url))
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                                  tracker, domain))


def bot_texts(events: list[Any]) -> list[str]:
    """Texts of the BotUttered events."""
    return [e.text for e in events if type(e).__name__ == "BotUttered"]


class FakeActionServer:
    """An action server that answers with a fixed status/body after a delay (aiohttp, own thread)."""

    def __init__(self, status: int = 200, body: Any = None, delay: float = 0.0) -> None:
        self.status, self.body, self.delay = status, body if body is not None else {"events": [], "responses": []}, delay
        self.port = free_port()

    def __enter__(self) -> str:
        import threading

        from aiohttp import web

        async def handle(_: Any) -> Any:
            await asyncio.sleep(self.delay)
            return web.json_response(self.body, status=self.status)

        ready = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/webhook", handle)
            self.runner = web.AppRunner(app)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}/webhook"

    def __exit__(self, *_: object) -> None:
        async def shutdown() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_guard_answers_politely_when_the_action_server_is_down(guard: None) -> None:
    """Connection refused → one BotUttered with utter_action_unavailable, at once."""
    started = time.monotonic()
    events = run_remote_action(f"http://127.0.0.1:{free_port()}/webhook")
    assert bot_texts(events) == [APOLOGY]
    assert time.monotonic() - started < 2


def test_guard_answers_politely_on_server_errors(guard: None) -> None:
    """A 500 (e.g. an exception in an action) → the polite message."""
    with FakeActionServer(status=500, body={"error": "boom"}) as url:
        assert bot_texts(run_remote_action(url)) == [APOLOGY]


def test_guard_limits_slow_action_calls(guard: None) -> None:
    """An action server that hangs: the user gets the message after the guard's timeout, not 300 s."""
    with FakeActionServer(delay=5.0) as url:
        started = time.monotonic()
        assert bot_texts(run_remote_action(url)) == [APOLOGY]
        assert time.monotonic() - started < 3


def test_guard_keeps_rejections_and_results(guard: None) -> None:
    """A 400 rejection (forms) still raises; a normal answer passes through unchanged."""
    from rasa.core.actions.action import ActionExecutionRejection

    rejection = {"action_name": "action_answer_policy_question", "error": "no"}
    with FakeActionServer(status=400, body=rejection) as url, pytest.raises(ActionExecutionRejection):
        run_remote_action(url)
    body = {"events": [{"event": "slot", "name": "last_query", "value": QUESTION}],
            "responses": [{"text": "答案"}]}
    with FakeActionServer(body=body) as url:
        events = run_remote_action(url)
    assert bot_texts(events) == ["答案"]
    assert any(type(e).__name__ == "SlotSet" and e.value == QUESTION for e in events)


def test_without_the_guard_rasa_says_nothing() -> None:
    """Why the guard exists: Rasa 3.6 turns a failed action call into an exception (no message)."""
    from rasa.shared.exceptions import RasaException

    action_guard.uninstall()
    with pytest.raises(RasaException):
        run_remote_action(f"http://127.0.0.1:{free_port()}/webhook")


def test_configure_keeps_sane_settings(guard: None) -> None:
    """A non-positive timeout falls back to the default; the installed wrapper reads the settings at call time."""
    assert RemoteAction.run is action_guard.run
    assert action_guard.configure(timeout=0).timeout == action_guard.DEFAULT_ACTION_TIMEOUT
    settings = action_guard.configure(timeout=2.5, response="utter_default")
    assert (settings.timeout, settings.response) == (2.5, "utter_default")
    assert action_guard.configure(response="").response == action_guard.FALLBACK_RESPONSE


def test_install_once_and_restore() -> None:
    """Installed once; uninstalling brings Rasa's RemoteAction.run back."""
    original = RemoteAction.run
    assert action_guard.install()
    try:
        assert action_guard.install() is False
        assert action_guard.PATCH.original is original
    finally:
        action_guard.uninstall()
    assert RemoteAction.run is original
