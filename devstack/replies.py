"""Talk to a running assistant through its REST channel and read its replies as a person sees them."""

from __future__ import annotations

import logging
from typing import List

import requests

logger = logging.getLogger(__name__)


def say(rasa_url: str, sender: str, message: str, timeout: float = 30.0) -> List[dict]:
    """Send one message through the REST channel and return the bot's messages (raises on HTTP errors)."""
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=timeout)
    response.raise_for_status()
    return response.json()


def visible_text(messages: List[dict]) -> str:
    """What a person sees: the texts and the button titles."""
    parts: List[str] = []
    for message in messages:
        if message.get("text"):
            parts.append(message["text"])
        for button in message.get("buttons") or []:
            parts.append(str(button.get("title", "")))
    return "\n".join(parts)
