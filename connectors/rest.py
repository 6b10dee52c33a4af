"""Rasa's REST channel with input validation: 400 instead of 500, and the message cap before NLU.

credentials.yml names it ``connectors.rest.SafeRestInput``. Same URL as Rasa's REST channel
(``/webhooks/rest/webhook``); it answers 400 to bodies that are not a JSON object, requires a
``sender`` that fits the tracker store (1–255 printable characters) and a string ``message``, and
cuts the message to ``max_message_chars`` (default: connectors.input_rules.MAX_MESSAGE_CHARS).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, Optional

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from connectors.input_rules import MAX_MESSAGE_CHARS, clean_text, max_message_chars, valid_sender

logger = logging.getLogger(__name__)

_INPUT_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class SafeRestInput(RestInput):
    """Rasa's REST channel with input validation (400 instead of 500) and a length cut."""

    @classmethod
    def name(cls) -> str:
        """Same name, hence same URL, as Rasa's REST channel."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Build from credentials (max_message_chars, optional)."""
        return cls(max_message_chars=max_message_chars(credentials or {}))

    def __init__(self, max_message_chars: int = MAX_MESSAGE_CHARS) -> None:
        """Remember the length cut."""
        self.max_message_chars = max_message_chars

    @staticmethod
    def _body(req: Request) -> Dict[str, Any]:
        """The JSON object of the request (Sanic answers 400 to invalid JSON itself)."""
        body = req.json
        if not isinstance(body, dict):
            raise InvalidUsage("the body must be a JSON object with 'sender' and 'message'")
        return body

    async def _extract_sender(self, req: Request) -> Optional[str]:
        """The sender id; missing or unusable → 400."""
        sender = valid_sender(self._body(req).get("sender"))
        if sender is None:
            raise InvalidUsage("'sender' must be a string of 1-255 printable characters")
        return sender

    def _extract_message(self, req: Request) -> Optional[str]:
        """The message text, cleaned and cut; not a string → 400."""
        message = self._body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        return clean_text(message, self.max_message_chars)

    def _extract_input_channel(self, req: Request) -> str:
        """A short lower-case channel name given by the client, else 'rest'."""
        value = self._body(req).get("input_channel")
        return value if isinstance(value, str) and _INPUT_CHANNEL_NAME.match(value) else self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[str, Any]]:
        """Metadata must be a JSON object (or absent)."""
        metadata = self._body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        return metadata
