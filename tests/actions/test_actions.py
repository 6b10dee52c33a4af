"""Every custom action run on real trackers (Tracker.from_dict) with the real domain and KB."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerOtherRegion, ActionAnswerPolicyQuestion, ActionShowMoreMeasures
from actions.followups import (
    ActionShowContacts, ActionShowFigures, ActionShowOriginalText, ActionShowPlatforms,
    ActionShowResponsibleAgency, ActionShowValidity,
)
from actions.uncertain import ActionAnswerFallback

CITATION = re.compile(r"〔20\d\d〕|大同市市场监督管理局、大同市工业和信息化局《")



def tracker(text: str, intent: str, entities: Optional[List[dict]] = None, slots: Optional[dict] = None) -> Tracker:
    """A tracker whose latest user message is `text` with the given intent and entities."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    state = {
        "sender_id": "test-user",
        "slots": {"region": None, "shown_measures": None, "pending_measures": None, "last_query": None,
                  "last_topic": None, **(slots or {})},
        "latest_message": message,
        "events": [{"event": "user", "text": text, "parse_data": message}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return Tracker.from_dict(state)


def run(action, tracker_: Tracker, domain: Dict[str, Any]):
    """Run an action; return (dispatched messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, domain))
    return dispatcher.messages, events


def slots_of(events: List[dict]) -> Dict[str, Any]:
    """Slot values set by the events."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: List[dict]) -> List[str]:
    """Response names dispatched, in order."""
    return [m.get("response") for m in messages if m.get("response")]


def payload_ids(messages: List[dict]) -> List[str]:
    """Measure ids of the custom payload."""
    for message in messages:
        custom = message.get("custom") or {}
        if custom.get("type") == "kb_answer":
            return [m["id"] for m in custom["measures"]]
    return []


def test_every_dispatched_response_exists_in_the_domain(domain, kb):
    """Actions only use responses the domain defines."""
    messages, _ = run(ActionAnswerPolicyQuestion(lambda: kb), tracker("专利质押贷款有贴息吗", "ask_financing"), domain)
    for name in responses(messages):
        assert name in domain["responses"], name


def test_answer_shows_measures_with_citations_and_remembers_them(domain, kb):
    """A financing question gets at most three measures, each with its citation, and slots for follow-ups."""
    messages, events = run(ActionAnswerPolicyQuestion(lambda: kb),
                           tracker("上海专利质押贷款有贴息吗？", "ask_financing", [{"entity": "region", "value": "上海"}]), domain)
    measures = [m for m in messages if m.get("response") == "utter_measure"]
    assert 1 <= len(measures) <= 3
    assert measures[0]["title"] and measures[0]["citation"].startswith("《")
    assert "沪府办发〔2024〕7号" in measures[0]["citation"] or "沪知局〔2023〕9号" in measures[0]["citation"]
    ids = payload_ids(messages)
    assert ids[0] == "shgov-26"
    assert all(kb.region_of(kb.get(i)) == "上海" for i in ids)
    slots = slots_of(events)
    assert slots["shown_measures"] == ids and slots["region"] == "上海" and slots["last_topic"] == "financing"


def test_answer_without_region_offers_region_buttons(domain, kb):
    """No region in the question or conversation: answer, then offer region buttons."""
    messages, _ = run(ActionAnswerPolicyQuestion(lambda: kb), tracker("专利导航有什么支持", "ask_patent_navigation"), domain)
    hint = [m for m in messages if m.get("response") == "utter_answer_hint_regions"]
    assert hint and {b["payload"] for b in hint[0]["buttons"]} >= {'/ask_other_region{"region":"大同"}'}
    assert responses(messages)[0] == "utter_answer_intro"


def test_other_region_reasks_last_question_for_datong(domain, kb):
    """那大同那边呢？ re-runs the last question restricted to Datong."""
    slots = {"last_query": "专利质押贷款有贴息吗", "last_topic": "financing", "shown_measures": ["shgov-26"], "region": "上海"}
    messages, events = run(ActionAnswerOtherRegion(lambda: kb),
                           tracker("那大同那边呢？", "ask_other_region", [{"entity": "region", "value": "大同"}], slots), domain)
    ids = payload_ids(messages)
    assert ids and ids[0] == "datong-6"
    assert all(i.startswith("datong-") for i in ids)
    assert slots_of(events)["region"] == "大同"


def test_more_shows_the_next_page(domain, kb):
    """还有吗 shows the pending measures and keeps the rest."""
    slots = {"last_query": "专利质押贷款", "shown_measures": ["shgov-26"], "pending_measures": ["shgov-25", "shgov-30", "shipa-11", "datong-6"]}
    messages, events = run(ActionShowMoreMeasures(lambda: kb), tracker("还有吗", "ask_more", slots=slots), domain)
    assert payload_ids(messages) == ["shgov-25", "shgov-30", "shipa-11"]
    assert slots_of(events)["pending_measures"] == ["datong-6"]


def test_more_without_context_asks_for_a_question(domain, kb):
    """还有吗 as the first message asks for a question first and cites nothing."""
    messages, _ = run(ActionShowMoreMeasures(lambda: kb), tracker("还有吗", "ask_more"), domain)
    assert responses(messages) == ["utter_need_context"]


def test_agency_follow_up_names_the_responsible_units(domain, kb):
    """这个是哪个部门负责的？ lists the 责任单位 of the shown measures with their citations."""
    slots = {"shown_measures": ["shgov-26", "datong-6"], "last_query": "专利质押贷款贴息"}
    messages, _ = run(ActionShowResponsibleAgency(lambda: kb), tracker("这个是哪个部门负责的？", "ask_responsible_agency", slots=slots), domain)
    lines = [m for m in messages if m.get("response") == "utter_agency_line"]
    assert [line["title"] for line in lines] == [kb.get("shgov-26").title, kb.get("datong-6").title]
    assert "各区政府" in lines[0]["agencies"] and "推定" not in lines[0]["agencies"]
    assert "推定" in lines[1]["agencies"]
    assert payload_ids(messages) == ["shgov-26", "datong-6"]


def test_follow_up_with_its_own_subject_searches_afresh(domain, kb):
    """专利导航归哪个部门负责？ with no context answers about patent navigation."""
    messages, events = run(ActionShowResponsibleAgency(lambda: kb), tracker("专利导航归哪个部门负责？", "ask_responsible_agency"), domain)
    ids = payload_ids(messages)
    assert ids and "patent_navigation" in kb.get(ids[0]).topics
    assert slots_of(events)["shown_measures"] == ids


def test_platform_follow_up(domain, kb):
    """去哪个平台办？ names the platforms, or the agency when the measure names none."""
    slots = {"shown_measures": ["datong-5", "shgov-26"]}
    messages, _ = run(ActionShowPlatforms(lambda: kb), tracker("去哪个平台办？", "ask_platform", slots=slots), domain)
    assert responses(messages)[:2] == ["utter_platform_line", "utter_platform_none_line"]
    assert "国家专利密集型产品备案认定试点平台" in messages[0]["platforms"]


def test_original_text_is_verbatim(domain, kb):
    """原文是怎么写的？ returns the measure text as in the source (indentation aside)."""
    slots = {"shown_measures": ["shgov-25"]}
    messages, _ = run(ActionShowOriginalText(lambda: kb), tracker("原文是怎么写的？", "ask_original_text", slots=slots), domain)
    assert messages[0]["original"] == kb.get("shgov-25").text
    assert "沪府办发〔2024〕7号" in messages[0]["citation"]


def test_figures_follow_up_finds_targets_nearby(domain, kb):
    """有没有具体的目标数字？ after measures without figures shows the nearest measure with figures."""
    slots = {"shown_measures": ["shgov-26"], "last_query": "上海专利质押贷款", "last_topic": "financing", "region": "上海"}
    messages, _ = run(ActionShowFigures(lambda: kb), tracker("有没有具体的目标数字？", "ask_figures", slots=slots), domain)
    assert responses(messages)[0] == "utter_figures_none"
    figures = [m for m in messages if m.get("response") == "utter_figures_line"]
    assert figures and "300亿元" in figures[0]["figures"]


def test_validity_of_the_2017_notice_says_closed(domain, kb):
    """还有效吗？ for the pilot-city notice says the application window closed."""
    slots = {"shown_measures": ["cnipa-procedure-2"]}
    messages, _ = run(ActionShowValidity(lambda: kb), tracker("现在还能申报吗，还有效吗？", "ask_deadline_validity", slots=slots), domain)
    assert "已结束" in messages[0]["validity"] and "7月31日前" in messages[0]["deadlines"]


def test_contacts_for_pilot_city_and_elsewhere(domain, kb):
    """联系人 gives the 2017 notice's contacts, and says plainly when a measure names none."""
    pilot, _ = run(ActionShowContacts(lambda: kb), tracker("联系人电话多少", "ask_contacts", slots={"shown_measures": ["cnipa-condition-1"]}), domain)
    assert "010-62086559" in pilot[0]["contacts"] and "国知办发管字〔2017〕30号" in pilot[0]["citation"]
    other, _ = run(ActionShowContacts(lambda: kb), tracker("联系人电话多少", "ask_contacts", slots={"shown_measures": ["shgov-9"]}), domain)
    assert responses(other)[0] == "utter_contacts_none"
    assert payload_ids(other) == ["shgov-9"]


def test_fallback_without_subject_cites_nothing(domain, kb):
    """Gibberish at low confidence gets the default answer and no citation."""
    messages, events = run(ActionAnswerFallback(lambda: kb), tracker("asdf qwer 啊啊啊", "nlu_fallback"), domain)
    assert responses(messages) == ["utter_default"] and events == []
    assert not payload_ids(messages)


def test_fallback_with_a_clear_subject_answers(domain, kb):
    """A clear KB subject at low NLU confidence is still answered from the KB."""
    messages, _ = run(ActionAnswerFallback(lambda: kb), tracker("国家专利密集型产品备案认定试点平台", "nlu_fallback"), domain)
    ids = payload_ids(messages)
    assert ids and any("patent_intensive_products" in kb.get(i).topics for i in ids)


def test_empty_and_huge_messages_do_not_crash(domain, kb):
    """Empty and very long input get a clear answer, never an exception."""
    for text in ["", " ", "专利" * 20000]:
        messages, _ = run(ActionAnswerPolicyQuestion(lambda: kb), tracker(text, "ask_financing"), domain)
        assert messages


def test_feedback_is_acknowledged(domain, kb):
    """有用 / 没用 get a short acknowledgement and no citation."""
    from actions.uncertain import ActionHandleFeedback

    helpful, _ = run(ActionHandleFeedback(lambda: kb), tracker("有用", "feedback_helpful"), domain)
    unhelpful, _ = run(ActionHandleFeedback(lambda: kb), tracker("/feedback_unhelpful", "feedback_unhelpful"), domain)
    assert responses(helpful) == ["utter_feedback_thanks"] and responses(unhelpful) == ["utter_feedback_sorry"]


def test_long_question_mistaken_for_feedback_is_answered(domain, kb):
    """A real question that NLU took for 没用 (it contains 没) is answered from the KB."""
    from actions.uncertain import ActionHandleFeedback

    state = tracker("我们的专利授权好几年了一直没实施，高校那边的存量专利政策怎么规定", "feedback_unhelpful")
    messages, _ = run(ActionHandleFeedback(lambda: kb), state, domain)
    assert payload_ids(messages)


def test_more_when_everything_was_shown_recaps_with_citations(domain, kb):
    """还有吗 with nothing left says so and recaps what was shown, with citations."""
    slots = {"last_query": "商标品牌", "shown_measures": ["datong-7"], "pending_measures": []}
    messages, _ = run(ActionShowMoreMeasures(lambda: kb), tracker("还有吗", "ask_more", slots=slots), domain)
    assert responses(messages) == ["utter_no_more", "utter_recap_line"]
    assert "大同市市场监督管理局" in messages[1]["citation"]


def test_question_the_documents_do_not_address_is_not_answered(domain, kb):
    """A question misread as a topic, with only a weak incidental match, gets 'not covered' and no citation."""
    messages, events = run(ActionAnswerPolicyQuestion(lambda: kb), tracker("集成电路布图设计怎么登记", "ask_patent_intensive_products"), domain)
    assert responses(messages) == ["utter_not_covered"] and not payload_ids(messages) and events == []
