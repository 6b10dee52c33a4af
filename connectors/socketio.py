"""Rasa 3.6's socket.io channel, fixed for the locked python-socketio 5.x and with the input rules.

credentials.yml names it ``connectors.socketio.SafeSocketIOInput``: same name, URL and options as
Rasa's ``socketio`` channel (including ``jwt_key``), plus ``max_message_chars``.

1. `enter_room` is a coroutine in python-socketio 5.x; the stock channel does not await it, so with
   session persistence the browser never joins its session's room and every reply is lost
   (RasaHQ/rasa#13027).
2. The stock `send_custom_json` passes the payload as keyword arguments to `emit`, which fails for
   payloads with keys such as `type`; here the payload is sent as the event's data.
3. The sender and length rules of connectors.input_rules: a message whose session id the tracker
   store cannot keep is dropped with a warning; the text is cleaned and cut to ``max_message_chars``.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from connectors.input_rules import MAX_MESSAGE_CHARS, clean_text, max_message_chars, valid_sender

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SocketIOOutput(rasa_socketio.SocketIOOutput):
    """Output channel that emits custom payloads as data."""

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """Send a custom payload as the bot event's data."""
        await self.sio.emit(self.bot_message_evt, json_message, room=recipient_id)


class SafeSocketIOInput(rasa_socketio.SocketIOInput):
    """The socketio channel (same name and credentials) with awaited rooms, safe payloads and the input rules."""

    max_message_chars: int = MAX_MESSAGE_CHARS

    @classmethod
    def name(cls) -> Text:
        """Same name, hence same URL prefix, as Rasa's socket.io channel."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Build from the socketio credentials plus max_message_chars."""
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key") or None,
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )
        channel.max_message_chars = max_message_chars(credentials)
        if channel.jwt_key:
            logger.info("socketio: connections need a JWT signed with SOCKETIO_JWT_SECRET")
        return channel

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        """The fixed output channel once the server exists."""
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def _guarded(self, on_new_message: OnNewMessage) -> OnNewMessage:
        """on_new_message for messages that pass the input rules; the others are dropped."""

        async def guarded(message: UserMessage) -> Any:
            """Apply the input rules, then hand the message on."""
            sender = valid_sender(message.sender_id)
            if sender is None or not isinstance(message.text, str):
                logger.warning("socketio message dropped: unusable session id or text")
                return None
            message.sender_id = sender
            message.text = clean_text(message.text, self.max_message_chars)
            return await on_new_message(message)

        return guarded

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Rasa's blueprint, with the session and message handlers replaced."""
        on_new_message = self._guarded(on_new_message)
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            """Join the session's room (awaited) and confirm the session id."""
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and 0 < len(requested) <= 128 else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: Text, data: Any) -> None:
            """Pass a user message to Rasa; ignore malformed events."""
            if not isinstance(data, dict):
                logger.warning("socketio event without a JSON object ignored")
                return
            text = data.get("message")
            if not isinstance(text, str):
                logger.warning("socketio message without text ignored")
                return
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not isinstance(sender_id, str) or not sender_id:
                    logger.warning("socketio message without session_id ignored")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(),
                                             metadata=metadata if isinstance(metadata, dict) else {}))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
