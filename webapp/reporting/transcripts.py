"""One conversation's transcript as the staff page shows it, with the turns the report flags."""

from __future__ import annotations

import logging
from typing import Any

from .days import format_time
from .events import EventRow, read_events
from .flags import FLAG_ACTIONS, FLAG_INTENTS, FLAG_RESPONSES, UNHELPFUL, UNHELPFUL_INTENT

logger = logging.getLogger(__name__)

TRANSCRIPT_TYPES = ("user", "bot", "action", "session_started", "restart")


def transcript_entry(event: EventRow) -> dict[str, Any] | None:
    """One event of a transcript, as the staff page shows it (action_listen is left out)."""
    base = {"id": event.id, "type": event.type_name, "timestamp": event.timestamp, "time": format_time(event.timestamp)}
    if event.type_name == "user":
        intent = (event.data.get("parse_data") or {}).get("intent") or {}
        return {**base, "text": event.text, "intent": event.intent, "confidence": intent.get("confidence"),
                "channel": event.data.get("input_channel"),
                "flag": FLAG_INTENTS.get(event.intent or "") or (UNHELPFUL if event.intent == UNHELPFUL_INTENT else None)}
    if event.type_name == "bot":
        payload = event.data.get("data") or {}
        custom = payload.get("custom") if isinstance(payload, dict) else None
        buttons = payload.get("buttons") if isinstance(payload, dict) else None
        measures = []
        if isinstance(custom, dict) and isinstance(custom.get("measures"), list):
            measures = [{"id": m.get("id"), "citation": m.get("citation"), "title": m.get("title")}
                        for m in custom["measures"] if isinstance(m, dict)]
        return {**base, "text": event.text, "measures": measures, "response": event.response,
                "flag": FLAG_RESPONSES.get(event.response or ""),
                "buttons": [b.get("title") for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []}
    if event.type_name == "action":
        if event.action_name in (None, "action_listen"):
            return None
        return {**base, "action": event.action_name, "flag": FLAG_ACTIONS.get(event.action_name)}
    return base


def conversation(db_url: str, sender_id: str, limit: int = 2000) -> list[dict[str, Any]]:
    """The transcript of one conversation (the last `limit` entries)."""
    rows = read_events(db_url, sender_id=sender_id, types=TRANSCRIPT_TYPES)
    entries = [entry for entry in (transcript_entry(row) for row in rows) if entry]
    return entries[-limit:]
