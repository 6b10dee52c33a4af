"""Turns whose meaning depends on the conversation: low NLU confidence, "out of scope", "what can you do".

The words alone do not decide: "收费吗？" after an answer asks about the measures just shown, and
"能提供哪些服务？" after an answer about a service station asks about the station, not the assistant.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policies_kb import KnowledgeBase
from policies_kb.answers import (
    CONFIDENT_SCORE, PAGE_SIZE, SUBSTANCE_SCORE, Selection, aspect_of_follow_up, focus_words, has_substance,
    is_covered, names_new_subject, outside_subject,
)

from .answer import (
    ActionAnswerOtherRegion, ActionShowMoreMeasures, KBAction, answer_aspect_of_shown, answer_question, only_region_words,
    say_not_covered,
)
from .followups import (
    WHOM_TO_CONTACT, ActionShowContacts, ActionShowFigures, ActionShowOriginalText, ActionShowPlatforms, ActionShowResponsibleAgency,
    ActionShowValidity,
)
from .context import latest_intent, latest_text, message_region, slot_measures, topics_for_intent
from .presenter import send_measures

logger = logging.getLogger(__name__)

FALLBACK_TOPIC_CONFIDENCE = 0.2  # below the NLU fallback threshold, a topic this likely still guides the search
ADDRESSES_ASSISTANT = re.compile(r"你|您|助手|机器人|小助|客服|系统")
SHORT_FOLLOW_UP = 16  # characters: a longer message is a question of its own
SMALL_TALK_WORDS = re.compile(r"你好|您好|在吗|在不在|谢谢|多谢|感谢|谢啦|谢了|再见|拜拜|辛苦了?|好的|好嘞|行吧|明白了?|了解了?|知道了|"
                              r"[哈嗯啊呀吧了哦噢]|ok|OK|[\s，,。.！!～~、]")
QUESTION_FORM = re.compile(r"[？?]|吗|怎么|怎样|如何|什么|啥|哪|谁|多少|几|是否|有没有|能不能|可不可以|行不行|会不会|是不是|能.{0,6}不$")
NOT_ASKING = re.compile(r"没有?(?:什么|啥)|不怎么|知道.{0,4}(?:怎么|咋)|什么忙")  # 没什么用, 不怎么样: a verdict
ABOUT_THE_CHAT = re.compile(r"人工|真人|有人在|有人吗|在线|机器|AI|自动回复|聊天|说话|回复我")  # 有人在线吗: about the service
SMALL_TALK_RESPONSES = {"greet": "utter_greet", "goodbye": "utter_goodbye", "thank": "utter_thank", "ask_whoami": "utter_whoami"}
WHO_IS_RESPONSIBLE = re.compile(r"谁(?:在)?(?:负责|管|牵头|主管)|归谁|哪个部门|哪些部门|哪几个部门|哪个单位|哪家单位|哪几家单位|牵头")
FOLLOW_UP_ACTIONS = {
    "ask_responsible_agency": ActionShowResponsibleAgency, "ask_platform": ActionShowPlatforms,
    "ask_original_text": ActionShowOriginalText, "ask_figures": ActionShowFigures,
    "ask_deadline_validity": ActionShowValidity, "ask_contacts": ActionShowContacts,
    "ask_more": ActionShowMoreMeasures, "ask_other_region": ActionAnswerOtherRegion,
}


def asks_something(text: str) -> bool:
    """Whether a message read as small talk or feedback is a question about the policies: question words beyond the
    small-talk ones, not a verdict (没什么用), not addressed to the assistant or about the service (你是谁, 有人在线吗)."""
    rest = NOT_ASKING.sub("", SMALL_TALK_WORDS.sub("", text or ""))
    return (len(rest) >= 4 and bool(QUESTION_FORM.search(rest)) and not ADDRESSES_ASSISTANT.search(rest)
            and not ABOUT_THE_CHAT.search(rest))


def is_policy_question(kb: KnowledgeBase, text: str, intent: str) -> bool:
    """Whether a message read as small talk asks about the policies: a question form beyond the small talk, or
    (greeting, thanks, goodbye) a question that names a KB subject even when it addresses the assistant."""
    if asks_something(text):
        return True
    return intent != "ask_whoami" and bool(QUESTION_FORM.search(text or "")) and has_substance(kb, text)


def ranked_intents(tracker: Tracker) -> List[Tuple[str, float]]:
    """The NLU ranking without nlu_fallback: (intent, confidence), best first."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return [(r.get("name") or "", float(r.get("confidence") or 0.0)) for r in ranking if r.get("name") != "nlu_fallback"]


class ActionAnswerOutOfScope(KBAction):
    """NLU says "out of scope": still a follow-up about an aspect of the last answer (能补多少？), else not covered."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Answer the aspect of the shown measures, or say the documents do not cover it."""
        kb = self.kb
        text = latest_text(kb, tracker)
        aspect = aspect_of_follow_up(kb, text, slot_measures(kb, tracker, "shown_measures"))
        if aspect and len(text) <= SHORT_FOLLOW_UP * 2:
            return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
        follow_up = follow_up_action(kb, tracker, text, ranked_intents(tracker)[1:3])
        if follow_up is not None:  # 找谁？ read as out of scope, with a follow-up intent next
            return await follow_up.run(dispatcher, tracker, domain)
        singled_out = answer_singled_out(dispatcher, kb, tracker, text)  # 银行 考核, after a financing answer
        if singled_out is not None:
            return singled_out
        say_not_covered(dispatcher, kb, text)
        return []


class ActionAnswerCapabilities(KBAction):
    """"能提供哪些服务？": about the measures just shown when there are some and the assistant is not addressed."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_capabilities"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Restate the shown measures (what they provide), or say what the assistant can do."""
        kb = self.kb
        text = latest_text(kb, tracker)
        shown = slot_measures(kb, tracker, "shown_measures")
        if shown and text and len(text) <= SHORT_FOLLOW_UP and not ADDRESSES_ASSISTANT.search(text):
            aspect = aspect_of_follow_up(kb, text, shown)
            if aspect:  # 报名有什么门槛？ read as "what can you do"
                return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
            follow_up = follow_up_action(kb, tracker, text, ranked_intents(tracker)[1:3])
            if follow_up is not None:  # 问谁？ read as "what can you do", with a follow-up intent next
                return await follow_up.run(dispatcher, tracker, domain)
            pending = slot_measures(kb, tracker, "pending_measures")
            send_measures(dispatcher, kb, Selection(shown, pending, tracker.get_slot("region")),
                          tracker.get_slot("last_query") or text)
            return []
        dispatcher.utter_message(response="utter_capabilities")
        return []


def follow_up_action(kb: KnowledgeBase, tracker: Tracker, text: str, candidates: List[Tuple[str, float]]
                     ) -> Optional[KBAction]:
    """The follow-up action for a short message the NLU is unsure of, when there is an answer to follow up on
    and one of the candidate intents is a follow-up intent it gives some weight."""
    if len(text) > SHORT_FOLLOW_UP or not slot_measures(kb, tracker, "shown_measures") or outside_subject(kb, text):
        return None
    if message_region(kb, tracker) and only_region_words(text):  # 上海呢？具体有哪些措施？
        return ActionAnswerOtherRegion(lambda: kb)
    if WHOM_TO_CONTACT.search(text) or WHO_IS_RESPONSIBLE.search(text):  # 问谁？ 这个谁在管？
        return ActionShowResponsibleAgency(lambda: kb)
    for name, confidence in candidates:
        action = FOLLOW_UP_ACTIONS.get(name)
        if action is not None and confidence >= FALLBACK_TOPIC_CONFIDENCE:
            return action(lambda: kb)
    return None


def answer_singled_out(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker, text: str
                       ) -> Optional[List[Dict[Text, Any]]]:
    """A short message with a word of its own from some of the shown or pending measures: show those measures.

    None when the message is long, leaves the documents, or singles out nothing."""
    shown = slot_measures(kb, tracker, "shown_measures")
    if not shown or len(text) > SHORT_FOLLOW_UP or outside_subject(kb, text):
        return None
    region = message_region(kb, tracker)
    singled_out = [m for m in focus_words(kb, text, shown + slot_measures(kb, tracker, "pending_measures"))
                   if not region or kb.region_of(m) == region][:PAGE_SIZE]  # 上海在导航上…: not Datong's
    if not singled_out:
        return None
    send_measures(dispatcher, kb, Selection(singled_out, [], tracker.get_slot("region")),
                  tracker.get_slot("last_query") or text)
    return [SlotSet("shown_measures", [m.id for m in singled_out])]


def likely_topics(kb: KnowledgeBase, ranked: List[Tuple[str, float]]) -> Optional[str]:
    """The KB topics of the most likely topic-family intent, if the NLU gives it some weight."""
    for name, confidence in ranked[:2]:
        topics = topics_for_intent(kb, name)
        if topics and confidence >= FALLBACK_TOPIC_CONFIDENCE:
            return topics
    return None


class ActionAnswerFallback(KBAction):
    """Low NLU confidence: answer from the KB when the text and a likely topic point to provisions, else offer options."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Search the KB with the text and answer or offer the best provisions as buttons."""
        kb = self.kb
        text = latest_text(kb, tracker)
        ranked = ranked_intents(tracker)
        if not text:
            dispatcher.utter_message(response="utter_default")
            return []
        shown = slot_measures(kb, tracker, "shown_measures")
        aspect = aspect_of_follow_up(kb, text, shown)
        if aspect:
            return answer_aspect_of_shown(dispatcher, kb, tracker, aspect)
        singled_out = answer_singled_out(dispatcher, kb, tracker, text)  # 县级市也行?
        if singled_out is not None:
            return singled_out
        follow_up = follow_up_action(kb, tracker, text, ranked[:1])
        if follow_up is not None:
            return await follow_up.run(dispatcher, tracker, domain)
        if outside_subject(kb, text):
            say_not_covered(dispatcher, kb, text)
            return []
        topics = likely_topics(kb, ranked)
        substance = has_substance(kb, text)
        last_query = tracker.get_slot("last_query")
        if shown and last_query and message_region(kb, tracker) not in {None, *(kb.region_of(m) for m in shown)}:
            return await ActionAnswerOtherRegion(lambda: kb).run(dispatcher, tracker, domain)  # 大同在评估这块有什么说法吗
        if (shown and last_query and (substance or asks_something(text)) and len(text) <= SHORT_FOLLOW_UP
                and not names_new_subject(kb, text, shown)):  # 有钱拿吗？ after a loan answer: that loan's money
            return answer_question(dispatcher, kb, tracker, f"{last_query} {text}", tracker.get_slot("last_topic"), text)
        if "out_of_scope" in [name for name, _ in ranked[:1]]:
            say_not_covered(dispatcher, kb, text)
            return []
        if not substance and not (topics and is_covered(kb, text, topics)):
            dispatcher.utter_message(response="utter_default")
            return []
        hits = kb.search(text, topic_hint=topics, limit=PAGE_SIZE)
        named = bool(kb.documents_in(text))  # a document named: its best provision is the answer to show
        if hits and (hits[0].score >= CONFIDENT_SCORE or topics or named or (substance and hits[0].score >= SUBSTANCE_SCORE)):
            return answer_question(dispatcher, kb, tracker, text, topics)
        buttons = [{"title": hit.measure.title, "payload": hit.measure.title} for hit in hits]
        dispatcher.utter_message(response="utter_fallback_options", buttons=buttons)
        return []


class ActionAnswerSmallTalk(KBAction):
    """Greetings, thanks, goodbyes; a question the NLU took for one (这个48.4是怎么定出来的？) is answered instead."""

    def name(self) -> Text:
        """Action name."""
        return "action_answer_small_talk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Reply in kind, or hand a question to the low-confidence answer, which reads it with the conversation."""
        text = latest_text(self.kb, tracker)
        if is_policy_question(self.kb, text, latest_intent(tracker)):
            return await ActionAnswerFallback(self._kb_provider).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response=SMALL_TALK_RESPONSES.get(latest_intent(tracker), "utter_greet"))
        return []


FEEDBACK_MAX_CHARS = 12


class ActionHandleFeedback(KBAction):
    """有用 / 没用: thank or apologise; a long question mistaken for feedback is answered instead."""

    def name(self) -> Text:
        """Action name."""
        return "action_handle_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Acknowledge the feedback (it stays in the tracker), or answer a real question."""
        kb = self.kb
        text = latest_text(self.kb, tracker)
        if len(text) > FEEDBACK_MAX_CHARS and has_substance(kb, text):
            ranked = [r.get("name") for r in (tracker.latest_message or {}).get("intent_ranking", [])]
            topics = next((t for t in (topics_for_intent(kb, name) for name in ranked) if t), None)
            return answer_question(dispatcher, kb, tracker, text, topics)
        if asks_something(text):  # 县里能建不: a question, not a verdict on the answer
            return await ActionAnswerFallback(self._kb_provider).run(dispatcher, tracker, domain)
        helpful = latest_intent(tracker) == "feedback_helpful"
        dispatcher.utter_message(response="utter_feedback_thanks" if helpful else "utter_feedback_sorry")
        return []
