"""A polite answer instead of silence when a custom action call fails.

Rasa 3.6 turns a failed call of the action server (server down, 5xx, no answer) into an exception:
it logs the error and the user gets nothing (RasaHQ/rasa#7630); its own time limit for an action
call is 300 s. Rasa has no hook for this, so ``PATCH`` wraps ``RemoteAction.run``: the call gets
``timeout`` seconds, and when it fails the bot sends the domain response ``response`` (default
``utter_action_unavailable``, “抱歉，政策查询服务暂时繁忙，请稍后再试。”) instead. The wrapper
changes only what happens after a failure: results and the rejections that forms rely on
(``ActionExecutionRejection``) pass through unchanged. rasa_runtime.install.install_all installs it
with the defaults; the readiness channel's ``timeout`` and ``response`` options (credentials.yml)
change them through ``configure``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, List

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.core.channels.channel import OutputChannel

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT = 15.0  # Rasa's own limit for an action call is 300 s
FALLBACK_RESPONSE = "utter_action_unavailable"


@dataclass
class GuardSettings:
    """What the installed wrapper uses: the time a call gets and the response sent when it fails."""

    timeout: float = DEFAULT_ACTION_TIMEOUT
    response: str = FALLBACK_RESPONSE


SETTINGS = GuardSettings()


def configure(timeout: float = DEFAULT_ACTION_TIMEOUT, response: str = FALLBACK_RESPONSE) -> GuardSettings:
    """Set the guard's time limit (a positive number of seconds, else the default) and fallback response."""
    SETTINGS.timeout = float(timeout) if timeout > 0 else DEFAULT_ACTION_TIMEOUT
    SETTINGS.response = response or FALLBACK_RESPONSE
    logger.info("action guard: failed custom actions answer with %s (timeout %.0f s)", SETTINGS.response,
                SETTINGS.timeout)
    return SETTINGS


async def run(self: RemoteAction, output_channel: OutputChannel, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
    """RemoteAction.run within SETTINGS.timeout; a failure becomes SETTINGS.response."""
    try:
        return await asyncio.wait_for(PATCH.original(self, output_channel, nlg, tracker, domain), SETTINGS.timeout)
    except ActionExecutionRejection:
        raise  # forms and validation actions rely on it
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the user gets a polite answer
        logger.warning("custom action %s failed (%s); answering with %s",
                       self.name(), type(exc).__name__, SETTINGS.response)
        message = await nlg.generate(SETTINGS.response, tracker, output_channel.name())
        if not message:
            return []
        message["utter_action"] = SETTINGS.response
        return [create_bot_utterance(message)]


PATCH = ClassPatch(RemoteAction, "run", run)
install, uninstall = PATCH.install, PATCH.uninstall
