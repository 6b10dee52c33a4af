"""Production hardening for Rasa 3.6: action-server failure handling (the input channels are in connectors/).

Everything here is opt-in through configuration; importing the module changes nothing.

credentials.yml (or deploy/credentials.prod.yml):

- ``channels.resilience.ActionFailureGuard``: no messages of its own; when Rasa creates it, custom
  action calls that fail (action server down, 5xx, timeout after ``timeout`` seconds) make the bot
  send ``response`` (default ``utter_action_unavailable``) instead of nothing. Rasa 3.6 has no hook
  for this (RasaHQ/rasa#7630), so the guard wraps ``RemoteAction.run``; the wrapper only changes
  what happens after a failure. ``GET /webhooks/guard/`` reports that it is active. With
  ``warm_up: true`` (the default) it also warms the model up once the server has started (channels/warmup.py).

The stores of endpoints.yml and endpoints.prod.yml are in rasa_stores/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Dict

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import action_client, graph_runner, speedups
from channels.action_reply import ActionReplyValidator
from channels.warmup import warm_up

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT = 15.0  # Rasa's own limit for an action call is 300 s
FALLBACK_RESPONSE = "utter_action_unavailable"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


# ------------------------------------------------------------------------ action server failures


class _GuardState:
    """What the installed wrapper uses (changed by later installs, e.g. in tests)."""

    timeout: float = DEFAULT_ACTION_TIMEOUT
    response: str = FALLBACK_RESPONSE
    installed: bool = False
    ready: bool = True  # False from the guard's creation until its warm-up has finished


def install_compiled_action_validation() -> None:
    """Check action-server replies with channels.action_reply (same acceptance as Rasa's jsonschema check).

    Rasa 3.6 rebuilds the validator and tries all 23 event schemas on every event of every reply:
    about 40% of its CPU per turn before the validator was compiled once, and 10% after (docs/bench.md).
    """
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction, "_compiled_validation", False):
        return
    validator = ActionReplyValidator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        """Validate one action-server reply."""
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += ". Failed to validate Action server response from API."
            raise

    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._compiled_validation = True


def install_action_guard(timeout: float = DEFAULT_ACTION_TIMEOUT, response_name: str = FALLBACK_RESPONSE) -> None:
    """Make failed custom action calls send `response_name` (idempotent)."""
    from rasa.core.actions.action import (
        ActionExecutionRejection,
        RemoteAction,
        create_bot_utterance,
    )

    _GuardState.timeout = float(timeout)
    _GuardState.response = response_name
    if _GuardState.installed:
        return
    original = RemoteAction.run

    async def run(self: RemoteAction, output_channel: OutputChannel, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), _GuardState.timeout)
        except ActionExecutionRejection:
            raise  # forms and validation actions rely on it
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the user gets a polite answer
            logger.warning("custom action %s failed (%s); answering with %s",
                           self.name(), type(exc).__name__, _GuardState.response)
            message = await nlg.generate(_GuardState.response, tracker, output_channel.name())
            if not message:
                return []
            message["utter_action"] = _GuardState.response
            return [create_bot_utterance(message)]

    run.__wrapped__ = original  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[assignment]
    _GuardState.installed = True
    logger.info("action guard active: failed custom actions answer with %s (timeout %.0f s)",
                _GuardState.response, _GuardState.timeout)


def uninstall_action_guard() -> None:
    """Restore Rasa's RemoteAction.run (tests)."""
    from rasa.core.actions.action import RemoteAction

    original = getattr(RemoteAction.run, "__wrapped__", None)
    if original is not None:
        RemoteAction.run = original  # type: ignore[assignment]
    _GuardState.installed = False


def _flag(value: Any, default: bool) -> bool:
    """A yes/no option of credentials.yml (true/false, yes/no, 1/0); default when absent."""
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "yes", "1", "on")


class ActionFailureGuard(InputChannel):
    """A channel entry that only installs the action guard; GET /webhooks/guard/ shows it."""

    @classmethod
    def name(cls) -> str:
        """URL prefix /webhooks/guard/."""
        return "guard"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Options: timeout (seconds, default 15), response (default utter_action_unavailable)."""
        credentials = credentials or {}
        try:
            timeout = float(credentials.get("timeout") or DEFAULT_ACTION_TIMEOUT)
        except (TypeError, ValueError):
            timeout = DEFAULT_ACTION_TIMEOUT
        return cls(timeout=timeout, response_name=str(credentials.get("response") or FALLBACK_RESPONSE),
                   warm_up=_flag(credentials.get("warm_up"), True))

    def __init__(self, timeout: float = DEFAULT_ACTION_TIMEOUT, response_name: str = FALLBACK_RESPONSE,
                 warm_up: bool = True) -> None:
        """Install the guard."""
        self.timeout = timeout if timeout > 0 else DEFAULT_ACTION_TIMEOUT
        self.response_name = response_name
        self.warm_up = warm_up
        _GuardState.ready = not warm_up
        install_action_guard(self.timeout, self.response_name)
        install_compiled_action_validation()
        speedups.install()
        # cheaper turns (docs/bench.md); fast_predict is imported here because it loads TensorFlow
        from channels import fast_predict

        action_client.install()
        fast_predict.install()
        graph_runner.install()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The readiness route, and the model warm-up once the server has started (channels/warmup.py).

        ``GET /webhooks/guard/`` answers 503 until the warm-up is over (``make run``, the tests, the
        benchmark and the deployments wait for 200 before sending users), then 200 with the guard's
        settings.
        """
        bp = Blueprint("resilience_guard", __name__)

        if self.warm_up:
            @bp.listener("after_server_start")
            async def warm(app: Any, _loop: Any) -> None:
                try:
                    await warm_up(getattr(app.ctx, "agent", None))
                except Exception:  # a failed warm-up must not stop the server; the first user pays instead
                    logger.exception("Warm-up failed; the first answer will be slower.")
                finally:
                    _GuardState.ready = True

        @bp.listener("after_server_stop")
        async def close_action_connections(_app: Any, _loop: Any) -> None:
            await action_client.close_sessions()

        @bp.route("/", methods=["GET"])
        async def status(_: Request) -> HTTPResponse:
            body = {"status": "ok" if _GuardState.ready else "warming_up", "ready": _GuardState.ready,
                    "action_guard": _GuardState.installed, "action_timeout": _GuardState.timeout,
                    "response": _GuardState.response}
            return response.json(body, status=200 if _GuardState.ready else 503)

        return bp
