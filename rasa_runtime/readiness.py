"""The readiness probe of the Rasa server, its warm-up and the action guard's options: a channel that installs nothing.

credentials.yml names it ``rasa_runtime.readiness.ReadinessChannel``. It handles no messages.
``GET /webhooks/guard/`` (the URL ``make run``, the tests, the benchmark, compose and the Helm values
wait on; the channel is still called ``guard``) answers 503 until the server is ready, then 200 with
the action guard's settings. Ready means: every rasa_runtime patch is installed in this process
(``scripts/rasa_server.py`` does that before Rasa starts; a server started another way stays at 503
with ``"status": "not_patched"``) and, with ``warm_up: true`` (the default), the warm-up after start
(rasa_runtime.warmup) is over. Options: ``timeout`` and ``response`` of the action guard
(rasa_runtime.action_guard.configure), ``warm_up``. Removing the entry removes the probe and the
warm-up; the patches stay.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_runtime import action_client, action_guard
from rasa_runtime.install import all_installed
from rasa_runtime.warmup import warm_up

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class _Readiness:
    """Whether the warm-up is over (False from the channel's creation until then, when it warms up)."""

    warmed: bool = True


def _flag(value: Any, default: bool) -> bool:
    """A yes/no option of credentials.yml (true/false, yes/no, 1/0); default when absent."""
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "yes", "1", "on")


def _seconds(value: Any) -> float:
    """The timeout option as seconds (the guard's default when absent or not a number)."""
    try:
        return float(value or action_guard.DEFAULT_ACTION_TIMEOUT)
    except (TypeError, ValueError):
        return action_guard.DEFAULT_ACTION_TIMEOUT


def status() -> Dict[str, Any]:
    """The probe's answer: ready or not, why, and the action guard's settings."""
    patched = all_installed()
    ready = patched and _Readiness.warmed
    state = "ok" if ready else ("warming_up" if patched else "not_patched")
    settings = action_guard.SETTINGS
    return {"status": state, "ready": ready, "action_guard": action_guard.PATCH.installed,
            "action_timeout": settings.timeout, "response": settings.response}


class ReadinessChannel(InputChannel):
    """A channel entry without messages: GET /webhooks/guard/ reports readiness; warms the model up after start."""

    @classmethod
    def name(cls) -> str:
        """URL prefix /webhooks/guard/."""
        return "guard"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Options: timeout (seconds, default 15), response (default utter_action_unavailable), warm_up (true)."""
        credentials = credentials or {}
        action_guard.configure(_seconds(credentials.get("timeout")),
                               str(credentials.get("response") or action_guard.FALLBACK_RESPONSE))
        return cls(warm_up=_flag(credentials.get("warm_up"), True))

    def __init__(self, warm_up: bool = True) -> None:
        """Not ready until warmed up (when warm_up); says so when the patches are missing."""
        self.warm_up = warm_up
        _Readiness.warmed = not warm_up
        if not all_installed():
            logger.error("Rasa is not patched in this process (start it with python -m scripts.rasa_server): "
                         "no action guard, no speed-ups; GET /webhooks/guard/ answers 503.")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The readiness route, the warm-up once the server has started, and closing the action connections."""
        bp = Blueprint("runtime_readiness", __name__)

        if self.warm_up:
            @bp.listener("after_server_start")
            async def warm(app: Any, _loop: Any) -> None:
                """Warm the loaded model up; ready afterwards, even if it failed."""
                try:
                    await warm_up(getattr(app.ctx, "agent", None))
                except Exception:  # a failed warm-up must not stop the server; the first user pays instead
                    logger.exception("Warm-up failed; the first answer will be slower.")
                finally:
                    _Readiness.warmed = True

        @bp.listener("after_server_stop")
        async def close_action_connections(_app: Any, _loop: Any) -> None:
            """Close the kept connections to the action server."""
            await action_client.close_sessions()

        @bp.route("/", methods=["GET"])
        async def probe(_: Request) -> HTTPResponse:
            """200 when ready, else 503; the body says why."""
            body = status()
            return response.json(body, status=200 if body["ready"] else 503)

        return bp
