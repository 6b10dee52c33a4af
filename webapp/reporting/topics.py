"""The report: unanswered questions grouped by topic (intent → topic words → top search hit → 其他), counted by reason."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from .days import REPORT_TZ, format_time
from .events import read_events
from .flags import OUT_OF_SCOPE, REASON_LABELS, REASON_ORDER
from .unanswered import OTHER_LABEL, OTHER_TOPIC, Question, find_unanswered

logger = logging.getLogger(__name__)

# A search hit decides the topic only when it is a clear match (one matched word is often noise).
MIN_HIT_SCORE = 20.0
MIN_HIT_TERMS = 2


def classify(question: Question, kb: Any) -> tuple[str, str]:
    """(topic id, label) a question is about: intent → topic words → top search hit → 其他."""
    topics = kb.topics
    by_intent = {t.intent: t.id for t in topics.values() if t.intent}
    if question.intent in by_intent:
        tid = by_intent[question.intent]
        return tid, topics[tid].label
    text = kb.normalise(question.text[:500])
    named = kb.index.query_topics(text)
    hits = kb.search(text, limit=1) if text else []
    if named:
        preferred = [t for t in (hits[0].measure.topics if hits else ()) if t in named]
        tid = preferred[0] if preferred else next(t for t in topics if t in named)
        return tid, topics[tid].label
    clear_hit = hits and hits[0].score >= MIN_HIT_SCORE and len(hits[0].matched) >= MIN_HIT_TERMS
    if clear_hit and question.reasons != [OUT_OF_SCOPE] and hits[0].measure.topics:
        tid = hits[0].measure.topics[0]
        if tid in topics:
            return tid, topics[tid].label
    return OTHER_TOPIC, OTHER_LABEL


def build_report(questions: Sequence[Question], kb: Any, since: dt.date | None = None,
                 until: dt.date | None = None) -> dict[str, Any]:
    """Questions grouped by topic (largest group first, 其他 last), with counts per reason."""
    groups: dict[str, dict[str, Any]] = {}
    reasons = {reason: 0 for reason in REASON_ORDER}
    for question in questions:
        question.topic, question.topic_label = classify(question, kb)
        group = groups.setdefault(question.topic, {"topic": question.topic, "topic_label": question.topic_label,
                                                   "count": 0, "items": []})
        group["count"] += 1
        group["items"].append({
            "question": question.text, "sender_id": question.sender_id, "timestamp": question.timestamp,
            "time": format_time(question.timestamp), "reason": question.reason,
            "reasons": [r for r in REASON_ORDER if r in question.reasons], "intent": question.intent,
            "event_id": question.event_id,
        })
        for reason in question.reasons:
            reasons[reason] += 1
    ordered = sorted(groups.values(), key=lambda g: (g["topic"] == OTHER_TOPIC, -g["count"], g["topic_label"]))
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "timezone": "UTC+8（北京时间）",
        "generated_at": dt.datetime.now(REPORT_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "total": len(questions),
        "reasons": reasons,
        "reason_labels": REASON_LABELS,
        "groups": ordered,
    }


def unanswered_report(db_url: str, kb: Any, since: dt.date | None = None,
                      until: dt.date | None = None) -> dict[str, Any]:
    """Read the tracker store and build the report for the period."""
    events = read_events(db_url, since, until)
    return build_report(find_unanswered(events, since, until), kb, since, until)
