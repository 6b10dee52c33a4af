"""Actions that answer a policy question, its other-region variant, "还有吗", and low confidence."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase, Measure
from policies_kb.answers import (
    PAGE_SIZE, Selection, agencies_text, aspect_of_follow_up, discriminating_topics, focus_on_aspect, has_substance,
    is_covered, outside_subject, select, stating,
)
from policies_kb.aspects import Aspect, asked_aspect, states_itself

from .context import latest_intent, latest_text, message_region, slot_measures, topics_for_intent
from .kb_store import KBProvider, default_kb
from .presenter import send_measures, selection_slots

logger = logging.getLogger(__name__)


def slot_events(values: Dict[str, Any]) -> List[Dict[Text, Any]]:
    """SlotSet events for a mapping of slot values."""
    return [SlotSet(name, value) for name, value in values.items()]


class KBAction(Action, ABC):
    """Base of the actions that use the knowledge base (passed in; loaded lazily by default)."""

    def __init__(self, kb_provider: KBProvider = default_kb) -> None:
        self._kb_provider = kb_provider

    @abstractmethod
    def name(self) -> Text:
        """Action name."""

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base."""
        return self._kb_provider()


def answer_aspect_of_shown(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker,
                           aspect: Aspect) -> List[Dict[Text, Any]]:
    """能补多少？收费吗？about the measures just shown: those that state it (for an aspect a document states once,
    also the document's other provisions on the same subject), or plainly "not stated" and whom to ask (the
    measures were cited in the answer just before; they are not listed again)."""
    shown = slot_measures(kb, tracker, "shown_measures")
    pending = slot_measures(kb, tracker, "pending_measures")
    query = tracker.get_slot("last_query") or ""
    candidates = list(dict.fromkeys(shown + pending[:PAGE_SIZE] + same_documents(kb, shown, query))
                      ) if aspect.of_document else shown
    stated = [m for m in stating(aspect, candidates) if m in shown or states_itself(aspect, m)]
    region = tracker.get_slot("region")
    if stated:
        send_measures(dispatcher, kb, Selection(stated[:PAGE_SIZE], [], region), query)
        return [SlotSet("shown_measures", [m.id for m in stated[:PAGE_SIZE]])]
    agencies = "、".join(dict.fromkeys(agencies_text(kb, m) for m in shown))
    dispatcher.utter_message(response="utter_aspect_not_stated_follow_up", aspect=aspect.label, agencies=agencies)
    return []


def same_documents(kb: KnowledgeBase, shown: List[Measure], query: str) -> List[Measure]:
    """The other provisions of the shown measures' documents on their own topics (not the topic every provision
    of a document has), best match of the last question first."""
    documents = {m.document_id for m in shown}
    topics = {t for m in shown for t in (discriminating_topics(kb, m) or m.topics)}
    ranked = [h.measure for h in kb.search(query, limit=60) if h.measure.document_id in documents] if query else []
    return [m for m in ranked if m not in shown and topics.intersection(m.topics)]


def say_not_covered(dispatcher: CollectingDispatcher, kb: KnowledgeBase, text: str) -> None:
    """Not in the documents: naming the place when the question is about another place's policy."""
    places = kb.other_places_in(text)
    if places and not kb.neighbours_in(text):
        dispatcher.utter_message(response="utter_place_not_covered", place=places[0])
    else:
        dispatcher.utter_message(response="utter_not_covered")


def answer_question(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker, query: str,
                    topic: str | None, asking: str | None = None) -> List[Dict[Text, Any]]:
    """Search, show the best measures and remember them; shared by every answering action. ``asking`` is the
    message whose aspect is asked when the query joins it to the question before (else the query itself)."""
    asking = query if asking is None else asking
    aspect = aspect_of_follow_up(kb, asking, slot_measures(kb, tracker, "shown_measures"))
    if aspect:
        return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
    if not is_covered(kb, query, topic):
        say_not_covered(dispatcher, kb, query)
        return []
    explicit = message_region(kb, tracker)
    region = explicit or tracker.get_slot("region")
    selection = select(kb, query, region=region, region_from_context=not explicit, topic_hint=topic)
    if not selection.shown and explicit:
        dispatcher.utter_message(response="utter_region_none", region=explicit)
        selection = select(kb, query, topic_hint=topic)
    if not selection.shown:
        dispatcher.utter_message(response="utter_default")
        return []
    if selection.region_relaxed and region:
        dispatcher.utter_message(response="utter_region_relaxed", region=region)
    aspect, stated = asked_aspect(asking), True
    if aspect:
        selection, aspect, stated = focus_on_aspect(kb, selection, query, topic, aspect)
    if aspect and not stated:
        dispatcher.utter_message(response="utter_aspect_not_stated", aspect=aspect.label)
    send_measures(dispatcher, kb, selection, query, related=bool(aspect and not stated))
    events = slot_events(selection_slots(selection, query, topic))
    if explicit:
        events.append(SlotSet("region", explicit))
    return events


class ActionAnswerPolicyQuestion(KBAction):
    """Answer a policy question with the best measures, their agencies, platforms and citations."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_policy_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Answer the latest question."""
        query = latest_text(self.kb, tracker) or tracker.get_slot("last_query") or ""
        topic = topics_for_intent(self.kb, latest_intent(tracker))
        return answer_question(dispatcher, self.kb, tracker, query, topic)


class ActionAnswerOtherRegion(KBAction):
    """Re-ask the previous question for another region (那大同那边呢？)."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_other_region"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Answer the last question again, restricted to the region now named."""
        kb = self.kb
        text = latest_text(self.kb, tracker)
        last_query = tracker.get_slot("last_query")
        topic = tracker.get_slot("last_topic")
        region = message_region(kb, tracker)
        if text and not region and outside_subject(kb, text):
            say_not_covered(dispatcher, kb, text)
            return []
        if text and has_substance(kb, text) and not only_region_words(text):
            return answer_question(dispatcher, kb, tracker, text, topic)
        if not last_query:
            if text and region and not only_region_words(text):  # 国家层面有啥支持？ as the first question
                return answer_in_region(dispatcher, kb, text, region)
            if text and not only_region_words(text):  # no earlier answer: this is a question of its own
                return answer_question(dispatcher, kb, tracker, text, None)
            dispatcher.utter_message(response="utter_need_context")
            return [SlotSet("region", region)] if region else []
        aspect = asked_aspect(text) if text else None
        if region:
            selection = select(kb, last_query, region=region, topic_hint=topic)
            if not selection.shown:
                dispatcher.utter_message(response="utter_region_none", region=region)
                return [SlotSet("region", region)]
            if aspect:  # 那上海有没有说具体能给多少？: the aspect of the last question's subject there
                selection, aspect, stated = focus_on_aspect(kb, selection, f"{last_query}，{text}", topic, aspect)
                if not stated:
                    dispatcher.utter_message(response="utter_aspect_not_stated", aspect=aspect.label)
                send_measures(dispatcher, kb, selection, last_query, related=not stated)
                return slot_events(selection_slots(selection, last_query, topic)) + [SlotSet("region", region)]
        else:
            shown = slot_measures(kb, tracker, "shown_measures")
            seen_regions = {kb.region_of(m) for m in shown}
            selection = select(kb, last_query, topic_hint=topic, exclude=[m.id for m in shown])
            others = [m for m in selection.shown + selection.remaining if kb.region_of(m) not in seen_regions]
            if not others:
                dispatcher.utter_message(response="utter_no_more")
                return []
            selection = Selection(others[:PAGE_SIZE], others[PAGE_SIZE:], None)
        send_measures(dispatcher, kb, selection, last_query)
        events = slot_events(selection_slots(selection, last_query, topic))
        if region:
            events.append(SlotSet("region", region))
        return events


def answer_in_region(dispatcher: CollectingDispatcher, kb: KnowledgeBase, text: str, region: str
                     ) -> List[Dict[Text, Any]]:
    """A first question that names a region and little else (国家层面有啥支持？): that region's best provisions."""
    if outside_subject(kb, text):
        say_not_covered(dispatcher, kb, text)
        return []
    selection = select(kb, text, region=region)
    if not selection.shown:
        dispatcher.utter_message(response="utter_region_none", region=region)
        return [SlotSet("region", region)]
    send_measures(dispatcher, kb, selection, text)
    return slot_events(selection_slots(selection, text, None)) + [SlotSet("region", region)]


def only_region_words(text: str) -> bool:
    """A message such as “那大同那边呢？” that says nothing but a region."""
    import re

    rest = re.sub(r"上海|大同|山西|全国|国家|浦东|层面|那边|这边|地区|的|呢|吗|那|看|只看|政策|有没有|有什么|怎么样|如何|市|省|"
                  r"具体|哪些|措施|规定|怎么说|说法|[？?。！!，, ]", "", text)
    return len(rest) <= 2


class ActionShowMoreMeasures(KBAction):
    """Show the next measures of the previous answer (还有吗？)."""

    def name(self) -> Text:
        """Action name."""
        return "action_show_more_measures"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Show up to three more measures."""
        kb = self.kb
        pending = slot_measures(kb, tracker, "pending_measures")
        last_query = tracker.get_slot("last_query")
        aspect = aspect_of_follow_up(kb, latest_text(kb, tracker), slot_measures(kb, tracker, "shown_measures"))
        if aspect:  # 能贴几个点？ read as "more"
            return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
        if not last_query:
            dispatcher.utter_message(response="utter_need_context")
            return []
        if not pending:
            dispatcher.utter_message(response="utter_no_more")
            for measure in slot_measures(kb, tracker, "shown_measures"):
                dispatcher.utter_message(response="utter_recap_line", title=measure.title, citation=kb.citation(measure))
            return []
        selection = Selection(pending[:PAGE_SIZE], pending[PAGE_SIZE:], tracker.get_slot("region"))
        send_measures(dispatcher, kb, selection, last_query)
        return [SlotSet("shown_measures", [m.id for m in selection.shown]),
                SlotSet("pending_measures", [m.id for m in selection.remaining])]
