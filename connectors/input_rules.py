"""What every input channel accepts from a user: the one message cap, usable sender ids, clean text.

``MAX_MESSAGE_CHARS`` is the one length cap of the project's input channels: the REST and socket.io
channels cut messages to it before NLU (``max_message_chars`` in credentials.yml may lower or raise
it per channel), the WeChat channel cuts the texts it forwards to Rasa. Without a cut, a
100,000-character Chinese message keeps a Rasa process busy for minutes (DIET attention is
quadratic) and then fails; 5,000 characters take ~7 s of NLU on a busy CPU, 2,000 about 1 s.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any, Mapping, Optional

from rasa_stores.events_table import SENDER_ID_LENGTH

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000  # characters of a user message that reach Rasa
MAX_SENDER_CHARS = SENDER_ID_LENGTH  # the tracker store's events.sender_id is VARCHAR(255)
_KEEP_CONTROLS = {"\n", "\t"}


def valid_sender(value: Any) -> Optional[str]:
    """The sender id as a string if the tracker store can keep it, else None.

    Strings and integers are accepted; the id must have 1–255 characters, none of them control
    characters, lone surrogates or other unprintable code points (PostgreSQL rejects NUL).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if not text or len(text) > MAX_SENDER_CHARS or not text.isprintable():
        return None
    return text


def clean_text(value: str, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """The user's text cut to max_chars, without control characters or lone surrogates."""
    text = value[: max_chars * 2]
    # lone surrogates (possible in JSON "\ud800") cannot be stored or tokenised: replace them
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = "".join(
        " " if unicodedata.category(ch) == "Cc" and ch not in _KEEP_CONTROLS else ch for ch in text
    )
    return text[:max_chars].strip()


def max_message_chars(credentials: Mapping[str, Any]) -> int:
    """max_message_chars from a channel's credentials (a positive integer), or MAX_MESSAGE_CHARS."""
    raw = credentials.get("max_message_chars")
    try:
        value = int(raw) if raw not in (None, "") else MAX_MESSAGE_CHARS
    except (TypeError, ValueError):
        logger.warning("max_message_chars=%r is not a number; using %d", raw, MAX_MESSAGE_CHARS)
        return MAX_MESSAGE_CHARS
    return value if value > 0 else MAX_MESSAGE_CHARS
