"""Follow-up actions about the measures of the previous answer: agency, platform, text, figures, validity, contacts."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase, Measure
from policies_kb.answers import (
    agencies_text, clean_text, deadlines_text, figures_text, has_substance, platforms_text, select,
)

from .answer import KBAction
from .context import latest_text, message_region, slot_measures
from .presenter import send_payload

CONTACTS_ID = "cnipa-contacts"


def names_new_subject(kb: KnowledgeBase, text: str, shown: List[Measure]) -> bool:
    """Whether a follow-up names a subject of its own rather than the measures just shown."""
    if not text or not has_substance(kb, text):
        return False
    if not shown:
        return True
    if kb.platforms_in(text) or kb.agencies_in(text):
        return True
    shown_topics = {topic for m in shown for topic in m.topics}
    return bool(kb.index.query_topics(text) - shown_topics)


def target_measures(kb: KnowledgeBase, tracker: Tracker) -> Tuple[List[Measure], List[Dict[Text, Any]], str]:
    """The measures a follow-up is about: those just shown, unless the message names another subject."""
    text = latest_text(tracker)
    if names_new_subject(kb, text, slot_measures(kb, tracker, "shown_measures")):
        explicit = message_region(kb, tracker)
        region = explicit or tracker.get_slot("region")
        selection = select(kb, text, region=region, region_from_context=not explicit)
        if selection.shown:
            events = [SlotSet("shown_measures", [m.id for m in selection.shown]),
                      SlotSet("pending_measures", [m.id for m in selection.remaining][:30]),
                      SlotSet("last_query", text), SlotSet("last_topic", None)]
            return selection.shown, events, text
    return slot_measures(kb, tracker, "shown_measures"), [], tracker.get_slot("last_query") or ""


class FollowUpAction(KBAction):
    """A follow-up: find the measures in question, then show one aspect of each."""

    @abstractmethod
    def aspect(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, measures: List[Measure],
               tracker: Tracker) -> List[Measure]:
        """Dispatch the aspect; return the measures actually shown (for the payload)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Resolve the measures and show the aspect, or ask for a question first."""
        kb = self.kb
        measures, events, query = target_measures(kb, tracker)
        if not measures:
            dispatcher.utter_message(response="utter_need_context")
            return events
        shown = self.aspect(dispatcher, kb, measures, tracker)
        send_payload(dispatcher, kb, shown, query, tracker.get_slot("region"))
        return events


def _common(kb: KnowledgeBase, measure: Measure) -> Dict[str, str]:
    """Values every follow-up line has."""
    return {"title": measure.title, "citation": kb.citation(measure), "agencies": agencies_text(kb, measure)}


class ActionShowResponsibleAgency(FollowUpAction):
    """这个是哪个部门负责的？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_responsible_agency"

    def aspect(self, dispatcher, kb, measures, tracker):
        """One line per measure with its 责任单位."""
        for measure in measures:
            dispatcher.utter_message(response="utter_agency_line", **_common(kb, measure))
        return measures


class ActionShowPlatforms(FollowUpAction):
    """去哪个平台办？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_platforms"

    def aspect(self, dispatcher, kb, measures, tracker):
        """The platforms each measure names, or its agency when it names none."""
        for measure in measures:
            platforms = platforms_text(measure)
            if platforms:
                dispatcher.utter_message(response="utter_platform_line", platforms=platforms, **_common(kb, measure))
            else:
                dispatcher.utter_message(response="utter_platform_none_line", **_common(kb, measure))
        return measures


class ActionShowOriginalText(FollowUpAction):
    """原文是怎么写的？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_original_text"

    def aspect(self, dispatcher, kb, measures, tracker):
        """The verbatim text of each measure."""
        for measure in measures:
            dispatcher.utter_message(response="utter_original_text", original=clean_text(measure), **_common(kb, measure))
        return measures


class ActionShowFigures(FollowUpAction):
    """有没有具体的目标数字？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_figures"

    def aspect(self, dispatcher, kb, measures, tracker):
        """Targets of the measures; else the closest measures on the same question that have figures."""
        with_figures = [m for m in measures if m.targets]
        if not with_figures:
            dispatcher.utter_message(response="utter_figures_none")
            query = tracker.get_slot("last_query") or ""
            regions = {kb.region_of(m) for m in measures}
            hits = kb.search(query, topic_hint=tracker.get_slot("last_topic"), limit=30) if query else []
            with_figures = [h.measure for h in hits if h.measure.targets and kb.region_of(h.measure) in regions][:2]
        for measure in with_figures:
            note = kb.validity_note(measure)
            dispatcher.utter_message(response="utter_figures_line", figures=figures_text(measure),
                                     validity=f"\n· 时效：{note}" if note else "", **_common(kb, measure))
        return with_figures


class ActionShowValidity(FollowUpAction):
    """截止到什么时候？现在还有效吗？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_validity"

    def aspect(self, dispatcher, kb, measures, tracker):
        """Validity note and stated deadlines of each measure."""
        for measure in measures:
            note = kb.validity_note(measure) or kb.document(measure).validity_note
            stated = deadlines_text(measure)
            dispatcher.utter_message(response="utter_validity_line", validity=note,
                                     deadlines=f"\n· 文中期限：{stated}" if stated else "", **_common(kb, measure))
        return measures


class ActionShowContacts(FollowUpAction):
    """联系人电话多少？"""

    def name(self) -> Text:
        """Action name."""
        return "action_show_contacts"

    def aspect(self, dispatcher, kb, measures, tracker):
        """The 2017 notice's contacts when it is in question; else the agencies to ask."""
        contacts: Optional[Measure] = kb.get(CONTACTS_ID)
        if contacts and any(m.document_id == contacts.document_id for m in measures):
            dispatcher.utter_message(response="utter_contacts", contacts=clean_text(contacts), citation=kb.citation(contacts))
            return [contacts]
        dispatcher.utter_message(response="utter_contacts_none")
        for measure in measures:
            dispatcher.utter_message(response="utter_agency_line", **_common(kb, measure))
        return measures
