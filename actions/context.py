"""Reading what the actions need from a tracker."""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker

from policies_kb import KnowledgeBase, Measure
from policies_kb.kb import MAX_QUERY_CHARS
from policies_kb.answers import question_region


def latest_text(kb: KnowledgeBase, tracker: Tracker) -> str:
    """The user's last message as the KB reads it (normalised, trimmed); a button payload gives no text."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else kb.normalise(text.strip()[:MAX_QUERY_CHARS]).strip()


def latest_intent(tracker: Tracker) -> str:
    """The name of the user's last intent."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def entity_value(tracker: Tracker, entity: str) -> Optional[str]:
    """The last value of an entity in the user's last message."""
    values = [e.get("value") for e in (tracker.latest_message or {}).get("entities", []) if e.get("entity") == entity]
    values = [v for v in values if isinstance(v, str) and v.strip()]
    return values[-1] if values else None


def message_region(kb: KnowledgeBase, tracker: Tracker) -> Optional[str]:
    """The region named in the last message, if any."""
    return question_region(kb, latest_text(kb, tracker), entity_value(tracker, "region"))


def slot_measures(kb: KnowledgeBase, tracker: Tracker, slot: str) -> List[Measure]:
    """Measures whose ids a list slot holds (unknown ids are skipped)."""
    ids = tracker.get_slot(slot) or []
    found = [kb.get(str(i)) for i in ids if isinstance(i, str)]
    return [m for m in found if m is not None]


def topics_for_intent(kb: KnowledgeBase, intent: str) -> Optional[str]:
    """The KB topics of a topic-family intent, comma-separated (as kept in the `last_topic` slot)."""
    topics = [topic.id for topic in kb.topics.values() if topic.intent == intent]
    return ",".join(topics) or None
