"""The Rasa-side presenter: `utter_measure` slot values, the widget payload and the message layout of every answer."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase, Measure
from policies_kb.answers import (
    Selection, agencies_text, clean_text, figures_text, other_regions, platforms_text, query_words, summary,
)

logger = logging.getLogger(__name__)

REGION_BUTTON_TITLES = {"上海": "只看上海", "大同": "只看大同", "全国": "看国家层面"}


def measure_values(kb: KnowledgeBase, measure: Measure, rank: int, today: Optional[dt.date] = None,
                   query: str = "") -> Dict[str, str]:
    """Template values of one measure for the `utter_measure` response."""
    notes = []
    platforms = platforms_text(measure)
    figures = figures_text(measure)
    validity = kb.validity_note(measure, today)
    if platforms:
        notes.append(f"· 办理平台/机构：{platforms}")
    if figures:
        notes.append(f"· 目标与数字：{figures}")
    if validity:
        notes.append(f"· 时效：{validity}")
    return {
        "rank": str(rank),
        "title": measure.title,
        "region": kb.region_of(measure),
        "summary": summary(measure, query_words(kb, query)),
        "agencies": agencies_text(kb, measure),
        "platforms": platforms or "本条未指定具体平台",
        "details": ("\n" + "\n".join(notes)) if notes else "",
        "citation": kb.citation(measure),
    }


def payload(kb: KnowledgeBase, measures: Sequence[Measure], query: str, region: Optional[str]) -> Dict[str, object]:
    """The custom payload for the widget and the staff tools."""
    return {
        "type": "kb_answer",
        "query": query,
        "region": region,
        "measures": [
            {
                "id": m.id, "title": m.title, "citation": kb.citation(m), "short_citation": kb.short_citation(m),
                "document": m.document_id, "article": m.article, "region": kb.region_of(m),
                "agencies": [ref.as_written for ref in m.agencies],
                "agencies_inferred": all(ref.inferred for ref in m.agencies),
                "platforms": [ref.as_written for ref in m.platforms], "text": clean_text(m),
            }
            for m in measures
        ],
    }


def region_buttons(regions: Sequence[str]) -> List[Dict[str, str]]:
    """Buttons that re-ask the last question for another region."""
    return [
        {"title": REGION_BUTTON_TITLES[r], "payload": f'/ask_other_region{{"region":"{r}"}}'}
        for r in regions if r in REGION_BUTTON_TITLES
    ]


def send_payload(dispatcher: CollectingDispatcher, kb: KnowledgeBase, measures: Sequence[Measure],
                 query: str, region: Optional[str]) -> None:
    """The custom payload with ids and citations, for the widget and the staff tools."""
    if measures:
        dispatcher.utter_message(json_message=payload(kb, measures, query, region))


def send_measures(dispatcher: CollectingDispatcher, kb: KnowledgeBase, selection: Selection, query: str,
                  start_rank: int = 1, today: Optional[dt.date] = None, related: bool = False) -> None:
    """The intro, one message per measure, the payload and the follow-up hint with region buttons.

    ``related``: the measures are on the subject but do not answer what was asked (said just before).
    """
    measures = selection.shown
    regions_shown = list(dict.fromkeys(kb.region_of(m) for m in measures))
    scope = f"（{selection.region}）" if selection.region else (
        f"（涉及{'、'.join(regions_shown)}的文件）" if len(regions_shown) > 1 else f"（{regions_shown[0]}）")
    dispatcher.utter_message(response="utter_answer_intro_related" if related else "utter_answer_intro",
                             count=len(measures), scope=scope)
    for rank, measure in enumerate(measures, start=start_rank):
        dispatcher.utter_message(response="utter_measure", **measure_values(kb, measure, rank, today, query))
    send_payload(dispatcher, kb, measures, query, selection.region)
    if selection.region:
        dispatcher.utter_message(response="utter_answer_hint")
    else:
        dispatcher.utter_message(response="utter_answer_hint_regions",
                                 buttons=region_buttons(other_regions(kb, [], None)))


def selection_slots(selection: Selection, query: str, topic: Optional[str]) -> Dict[str, Any]:
    """Slot values that remember an answer for follow-ups."""
    return {
        "shown_measures": [m.id for m in selection.shown],
        "pending_measures": [m.id for m in selection.remaining][:30],
        "last_query": query,
        "last_topic": topic,
    }
