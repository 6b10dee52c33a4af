"""Dispatching KB answers: the same message layout for every action that shows measures."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase, Measure
from policies_kb.answers import Selection, measure_values, other_regions, payload

REGION_BUTTON_TITLES = {"上海": "只看上海", "大同": "只看大同", "全国": "看国家层面"}


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
