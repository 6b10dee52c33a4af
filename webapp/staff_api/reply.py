"""GET /api/reply/<id>: a short Chinese answer to paste, built from KB fields only."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from policies_kb import KnowledgeBase, Measure
from policies_kb.labels import agency_name, join_names, platforms_text

from .lookups import find_measure

logger = logging.getLogger(__name__)


def _sentence(text: str) -> str:
    """Text ending with a full stop (Chinese punctuation kept)."""
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "；", "：")) else text + "。"


def build_reply(kb: KnowledgeBase, measure: Measure, today: dt.date) -> str:
    """A short Chinese answer to paste, built from KB fields only."""
    citation, text = kb.citation(measure), measure.text.strip()
    if citation.endswith(measure.title) and text.startswith(measure.title + "。"):
        text = text[len(measure.title) + 1:].strip() or text  # the citation already names the title
    parts = [f"根据{citation}：{_sentence(text)}"]
    named = join_names(ref.as_written for ref in measure.agencies if not ref.inferred)
    inferred = join_names(agency_name(kb, ref) for ref in measure.agencies if ref.inferred)
    if named:
        parts.append(f"责任单位：{named}。")
    elif inferred:
        parts.append(f"责任单位：本条未单独列明（相关单位：{inferred}）。")
    platforms = platforms_text(measure)
    if platforms:
        parts.append(f"办理平台：{platforms}。")
    note = kb.validity_note(measure, today)
    if note:
        parts.append(_sentence(note))
    return "".join(parts)


def reply_payload(kb: KnowledgeBase, measure_id: str, today: dt.date) -> dict[str, Any]:
    """GET /api/reply/<id>: the paste-ready answer."""
    measure = find_measure(kb, measure_id)
    return {"id": measure.id, "citation": kb.citation(measure), "text": build_reply(kb, measure, today)}
