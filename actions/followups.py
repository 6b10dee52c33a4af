"""Follow-up actions about the measures of the previous answer: agency, platform, text, figures, validity, contacts."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase, Measure
from policies_kb.answers import (
    PAGE_SIZE, Selection, agencies_text, aspect_of_follow_up, clean_text, deadlines_text, figures_text, focus_words, is_covered,
    names_new_subject, outside_subject, platforms_text, select,
)

from policies_kb.aspects import BY_ID, stating

from .answer import KBAction, answer_aspect_of_shown, answer_question, same_documents, say_not_covered
from .context import latest_text, message_region, slot_measures
from .presenter import send_payload

CONTACTS_ID = "cnipa-contacts"
OTHER_ONES = re.compile(r"还有哪些|别的|其他|另外|其余")  # 还有别的数字指标吗: not those just shown
WHOM_TO_CONTACT = re.compile(r"找谁|问谁|咨询谁|联系谁|打给谁|打哪个|找哪个人|找什么人")


def _selection_events(selection: Selection, query: str, topic: Optional[str]) -> List[Dict[Text, Any]]:
    """Slot events that make a follow-up's new selection the one later follow-ups are about."""
    return [SlotSet("shown_measures", [m.id for m in selection.shown]),
            SlotSet("pending_measures", [m.id for m in selection.remaining][:30]),
            SlotSet("last_query", query), SlotSet("last_topic", topic)]


def target_measures(kb: KnowledgeBase, tracker: Tracker) -> Tuple[List[Measure], List[Dict[Text, Any]], str]:
    """The measures a follow-up is about.

    Those just shown, unless the message names another subject (then its own answer), another region
    (那上海有没有具体目标？: the last question in that region), or one of the shown or pending measures
    by a word of its own (托管那块怎么说的: that measure).
    """
    text = latest_text(kb, tracker)
    shown = slot_measures(kb, tracker, "shown_measures")
    explicit = message_region(kb, tracker)
    last_query = tracker.get_slot("last_query") or ""
    singled_out = focus_words(kb, text, shown + slot_measures(kb, tracker, "pending_measures")) if shown else []
    if singled_out and not explicit:
        return singled_out[:PAGE_SIZE], [SlotSet("shown_measures", [m.id for m in singled_out[:PAGE_SIZE]])], last_query
    if names_new_subject(kb, text, shown):
        region = explicit or tracker.get_slot("region")
        selection = select(kb, text, region=region, region_from_context=not explicit)
        if selection.shown:
            return selection.shown, _selection_events(selection, text, None), text
    last_topic = tracker.get_slot("last_topic")
    in_region = [m for m in shown if kb.region_of(m) == explicit]
    if explicit and in_region and len(in_region) < len(shown):  # 上海那个平台…, after an answer on several regions
        return in_region, [SlotSet("shown_measures", [m.id for m in in_region])], last_query
    if explicit and last_query and explicit not in {kb.region_of(m) for m in shown}:
        selection = select(kb, last_query, region=explicit, topic_hint=last_topic)
        if selection.shown:
            events = _selection_events(selection, last_query, last_topic) + [SlotSet("region", explicit)]
            return selection.shown, events, last_query
    return shown, [], last_query


class FollowUpAction(KBAction):
    """A follow-up: find the measures in question, then show one aspect of each.

    A message that asks another aspect the documents may not state (这个具体怎么申请？ read as "original
    text") is answered as that aspect of the measures shown: stated, or said not stated.
    """

    handles: frozenset = frozenset()  # the asked aspects (policies_kb.aspects) this action itself answers

    @abstractmethod
    def aspect(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, measures: List[Measure],
               tracker: Tracker) -> List[Measure]:
        """Dispatch the aspect; return the measures actually shown (for the payload)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Resolve the measures and show the aspect; with no earlier answer, answer the message as a question."""
        kb = self.kb
        text = latest_text(kb, tracker)
        if text and outside_subject(kb, text):
            say_not_covered(dispatcher, kb, text)
            return []
        aspect = aspect_of_follow_up(kb, text, slot_measures(kb, tracker, "shown_measures"))
        if aspect and aspect.id not in self.handles:
            return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
        measures, events, query = target_measures(kb, tracker)
        if not measures:
            if text and not tracker.get_slot("last_query") and is_covered(kb, text) and kb.search(text, limit=1):
                return answer_question(dispatcher, kb, tracker, text, None)
            dispatcher.utter_message(response="utter_need_context")
            return events
        shown = self.aspect(dispatcher, kb, measures, tracker)
        send_payload(dispatcher, kb, shown, query, tracker.get_slot("region"))
        if shown and [m.id for m in shown] != [m.id for m in measures]:  # later follow-ups are about these
            events = [e for e in events if e.get("name") != "shown_measures"]
            events.append(SlotSet("shown_measures", [m.id for m in shown]))
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
        """One line per measure with its 责任单位; asked whom to contact (找谁/问谁), also the contacts a document
        of theirs lists."""
        for measure in measures:
            dispatcher.utter_message(response="utter_agency_line", **_common(kb, measure))
        if not WHOM_TO_CONTACT.search(latest_text(kb, tracker)):
            return measures
        contacts = [m for m in stating(BY_ID["contact"], kb.filter()) if m.document_id in {x.document_id for x in measures}
                    and m not in measures]
        for measure in contacts:
            dispatcher.utter_message(response="utter_contacts", contacts=clean_text(measure), citation=kb.citation(measure))
        return measures + contacts


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

    handles = frozenset({"amount"})

    def name(self) -> Text:
        """Action name."""
        return "action_show_figures"

    def aspect(self, dispatcher, kb, measures, tracker):
        """Targets of the measures; else (or asked for other figures: 还有别的指标吗) the closest measures on the
        same question that have figures."""
        others = OTHER_ONES.search(latest_text(kb, tracker))
        with_figures = [] if others else [m for m in measures if m.targets]
        if not with_figures:
            query = tracker.get_slot("last_query") or ""
            regions = {kb.region_of(m) for m in measures}
            hits = kb.search(query, topic_hint=tracker.get_slot("last_topic"), limit=30) if query else []
            with_figures = [h.measure for h in hits if h.measure.targets and kb.region_of(h.measure) in regions
                            and not (others and h.measure in measures)][:PAGE_SIZE if others else 2]
            if others and not with_figures:  # the rest of the same documents, in their order
                documents = {m.document_id for m in measures}
                with_figures = [m for m in kb.measures if m.document_id in documents and m.targets
                                and m not in measures][:PAGE_SIZE]
            if not others or not with_figures:
                dispatcher.utter_message(response="utter_figures_none")
        for measure in with_figures:
            note = kb.validity_note(measure)
            dispatcher.utter_message(response="utter_figures_line", figures=figures_text(measure),
                                     validity=f"\n· 时效：{note}" if note else "", **_common(kb, measure))
        return with_figures


class ActionShowValidity(FollowUpAction):
    """截止到什么时候？现在还有效吗？"""

    handles = frozenset({"deadline", "duration"})

    def name(self) -> Text:
        """Action name."""
        return "action_show_validity"

    def aspect(self, dispatcher, kb, measures, tracker):
        """Validity note and stated deadlines of each measure (those of the documents' dated provisions first
        when the measures themselves state none: 截止到什么时候 after 申报对象)."""
        if not any(m.deadlines for m in measures):
            dated = [m for m in same_documents(kb, measures, tracker.get_slot("last_query") or "") if m.deadlines]
            measures = dated[:1] + measures
        for measure in measures:
            note = kb.validity_note(measure) or kb.document(measure).validity_note
            stated = deadlines_text(measure)
            dispatcher.utter_message(response="utter_validity_line", validity=note,
                                     deadlines=f"\n· 文中期限：{stated}" if stated else "", **_common(kb, measure))
        return measures


class ActionShowContacts(FollowUpAction):
    """联系人电话多少？"""

    handles = frozenset({"contact"})

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
