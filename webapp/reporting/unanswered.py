"""Selecting the unanswered questions among the events of each conversation, each once with all its reasons."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from .days import period_bounds
from .events import EventRow
from .flags import (
    FLAG_ACTIONS, FLAG_INTENTS, FLAG_RESPONSES, LOOKBACK_TURNS, NOT_QUESTIONS, REASON_ORDER, UNHELPFUL, UNHELPFUL_INTENT,
)

logger = logging.getLogger(__name__)

OTHER_TOPIC = "other"
OTHER_LABEL = "其他"


@dataclass
class Question:
    """A user message the assistant did not answer well."""

    sender_id: str
    timestamp: float
    text: str
    intent: str | None
    event_id: int
    reasons: list[str] = field(default_factory=list)
    topic: str = OTHER_TOPIC
    topic_label: str = OTHER_LABEL

    @property
    def reason(self) -> str:
        """All reasons, most specific first, joined by 、."""
        return "、".join(r for r in REASON_ORDER if r in self.reasons)

    def add(self, reason: str) -> None:
        """Record a reason once."""
        if reason not in self.reasons:
            self.reasons.append(reason)


def _by_sender(events: Iterable[EventRow]) -> dict[str, list[EventRow]]:
    """Events grouped per conversation, in id order."""
    out: dict[str, list[EventRow]] = {}
    for event in events:
        out.setdefault(event.sender_id, []).append(event)
    for rows in out.values():
        rows.sort(key=lambda e: e.id)
    return out


def _is_question(event: EventRow) -> bool:
    """A user turn that asks something (not a button payload, not chit-chat or feedback)."""
    text = event.text.strip()
    return bool(text) and not text.startswith("/") and event.intent not in NOT_QUESTIONS


def find_unanswered(events: Iterable[EventRow], since: dt.date | None = None,
                    until: dt.date | None = None) -> list[Question]:
    """The unanswered questions among the events, in time order, each once with all its reasons."""
    start, end = period_bounds(since, until)
    found: dict[int, Question] = {}
    for rows in _by_sender(events).values():
        users = [i for i, e in enumerate(rows) if e.type_name == "user"]
        for n, i in enumerate(users):
            event = rows[i]
            reasons = []
            if event.intent in FLAG_INTENTS:
                reasons.append(FLAG_INTENTS[event.intent])
            stop = users[n + 1] if n + 1 < len(users) else len(rows)
            for later in rows[i + 1:stop]:
                if later.type_name == "action" and later.action_name in FLAG_ACTIONS:
                    reasons.append(FLAG_ACTIONS[later.action_name])
                elif later.type_name == "bot" and later.response in FLAG_RESPONSES:
                    reasons.append(FLAG_RESPONSES[later.response])
            if event.intent == UNHELPFUL_INTENT:
                for j in reversed(users[max(0, n - LOOKBACK_TURNS):n]):
                    if _is_question(rows[j]):
                        _question(found, rows[j]).add(UNHELPFUL)
                        break
                continue
            if reasons and event.text.strip():
                question = _question(found, event)
                for reason in reasons:
                    question.add(reason)
    out = [q for q in found.values()
           if (start is None or q.timestamp >= start) and (end is None or q.timestamp < end)]
    out.sort(key=lambda q: (q.timestamp, q.event_id))
    return out


def _question(found: dict[int, Question], event: EventRow) -> Question:
    """The Question for a user event (created once)."""
    if event.id not in found:
        found[event.id] = Question(sender_id=event.sender_id, timestamp=event.timestamp, text=event.text.strip(),
                                   intent=event.intent, event_id=event.id)
    return found[event.id]
