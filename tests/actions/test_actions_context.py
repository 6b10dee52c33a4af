"""Turns whose meaning depends on the conversation (actions.uncertain, the follow-ups and answer_question):
real trackers, the real domain and the real KB."""

from __future__ import annotations


from test_actions import payload_ids, responses, run, slots_of, tracker

from actions.answer import ActionAnswerOtherRegion, ActionAnswerPolicyQuestion, ActionShowMoreMeasures
from actions.followups import (
    ActionShowFigures, ActionShowOriginalText, ActionShowPlatforms, ActionShowResponsibleAgency, ActionShowValidity,
)
from actions.uncertain import ActionAnswerCapabilities, ActionAnswerFallback, ActionAnswerOutOfScope



FINANCING = {"shown_measures": ["shgov-26", "shipa-11", "shgov-25"], "pending_measures": ["shgov-27"],
             "last_query": "上海专利质押贷款贴息", "region": "上海", "last_topic": "financing"}


def test_an_aspect_of_the_last_answer_is_said_not_stated_with_whom_to_ask(kb, domain) -> None:
    messages, _ = run(ActionAnswerOutOfScope(lambda: kb), tracker("能补多少？", "out_of_scope", slots=FINANCING), domain)
    assert responses(messages) == ["utter_aspect_not_stated_follow_up"]
    assert "市知识产权局" in messages[0]["agencies"] and not payload_ids(messages)


def test_out_of_scope_without_context_cites_nothing(kb, domain) -> None:
    messages, _ = run(ActionAnswerOutOfScope(lambda: kb), tracker("能补多少？", "out_of_scope"), domain)
    assert responses(messages) == ["utter_not_covered"] and not payload_ids(messages)


def test_another_places_policy_is_not_covered_and_named(kb, domain) -> None:
    for text, action in [("深圳对专利质押贷款有贴息吗", ActionAnswerPolicyQuestion),
                         ("那北京有没有类似的政策？", ActionAnswerOtherRegion)]:
        messages, _ = run(action(lambda: kb), tracker(text, "ask_financing", slots=FINANCING), domain)
        assert responses(messages) == ["utter_place_not_covered"], text
        assert not payload_ids(messages)


def test_a_neighbouring_matter_is_not_covered(kb, domain) -> None:
    messages, _ = run(ActionAnswerPolicyQuestion(lambda: kb), tracker("商标续展要交多少钱", "ask_trademarks_gi"), domain)
    assert responses(messages) == ["utter_not_covered"]


def test_what_services_after_an_answer_is_about_the_answer(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-24"], "last_query": "科创板拟上市企业知识产权服务站"}
    messages, _ = run(ActionAnswerCapabilities(lambda: kb), tracker("能提供哪些服务？", "ask_capabilities", slots=slots), domain)
    assert payload_ids(messages) == ["shgov-24"]
    messages, _ = run(ActionAnswerCapabilities(lambda: kb), tracker("你能提供哪些服务？", "ask_capabilities", slots=slots), domain)
    assert responses(messages) == ["utter_capabilities"]


def test_a_follow_up_intent_with_no_earlier_answer_is_answered_as_a_question(kb, domain) -> None:
    messages, _ = run(ActionAnswerOtherRegion(lambda: kb),
                      tracker("上海有没有能按行业查专利资料的数据库？", "ask_other_region"), domain)
    assert "shipa-19" in payload_ids(messages)


def test_a_word_of_one_shown_measure_singles_it_out(kb, domain) -> None:
    slots = {"shown_measures": ["cnipa-pilot-6", "cnipa-pilot-4", "cnipa-pilot-5"], "last_query": "试点城市要开展哪些工作"}
    messages, events = run(ActionShowOriginalText(lambda: kb), tracker("托管那块原文怎么写的", "ask_original_text", slots=slots), domain)
    assert payload_ids(messages) == ["cnipa-pilot-4"]
    assert slots_of(events)["shown_measures"] == ["cnipa-pilot-4"]


def test_a_region_named_in_a_follow_up_switches_the_measures(kb, domain) -> None:
    slots = {"shown_measures": ["datong-5"], "last_query": "专利密集型产品备案", "region": "大同"}
    messages, events = run(ActionShowValidity(lambda: kb), tracker("那上海的呢，截止到什么时候", "ask_deadline_validity",
                                                                     slots=slots), domain)
    assert payload_ids(messages) and all(i.startswith(("shgov", "shipa")) for i in payload_ids(messages))
    assert slots_of(events)["region"] == "上海"


def test_who_to_ask_adds_the_documents_contacts(kb, domain) -> None:
    slots = {"shown_measures": ["cnipa-pilot-5"], "last_query": "试点城市公共服务"}
    messages, _ = run(ActionShowResponsibleAgency(lambda: kb), tracker("问谁？", "ask_responsible_agency", slots=slots), domain)
    assert "cnipa-contacts" in payload_ids(messages)


def test_a_deadline_follow_up_finds_the_documents_dated_provision(kb, domain) -> None:
    slots = {"shown_measures": ["cnipa-applicants"], "last_query": "试点城市申报对象"}
    messages, _ = run(ActionShowValidity(lambda: kb), tracker("截止到什么时候？", "ask_deadline_validity", slots=slots), domain)
    assert payload_ids(messages)[0] == "cnipa-procedure-2"


def test_a_likely_topic_lets_a_paraphrase_through_the_fallback(kb, domain) -> None:
    message = tracker("专利 闲着 租给 别人用", "nlu_fallback")
    message.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.45},
                                                {"name": "ask_licensing_and_trading", "confidence": 0.4}]
    messages, _ = run(ActionAnswerFallback(lambda: kb), message, domain)
    assert {"shipa-10", "shgov-9", "datong-4"} & set(payload_ids(messages))


def test_a_new_subject_with_an_aspect_is_a_new_question_not_a_follow_up(kb, domain) -> None:
    slots = {"shown_measures": ["shipa-16", "shipa-8", "datong-9"], "last_query": "企业遇到海外知识产权纠纷有什么帮助？"}
    messages, events = run(ActionAnswerPolicyQuestion(lambda: kb), tracker("专利导航服务怎么申请？", "ask_patent_navigation",
                                                                           slots=slots), domain)
    assert responses(messages)[0] == "utter_aspect_not_stated"
    assert {"shipa-6", "datong-3", "shgov-17"} & set(payload_ids(messages))
    assert slots_of(events)["last_query"] == "专利导航服务怎么申请？"


def test_which_department_does_not_add_contacts_but_whom_to_ask_does(kb, domain) -> None:
    slots = {"shown_measures": ["cnipa-pilot-5"], "last_query": "试点城市公共服务"}
    messages, _ = run(ActionShowResponsibleAgency(lambda: kb),
                      tracker("这个是哪个部门负责的？", "ask_responsible_agency", slots=slots), domain)
    assert payload_ids(messages) == ["cnipa-pilot-5"]


def test_a_short_keyword_follow_up_read_as_out_of_scope_shows_the_measure_it_names(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-26", "shgov-27"], "pending_measures": ["shgov-25", "shgov-28"],
             "last_query": "上海 质押融资 目标"}
    messages, events = run(ActionAnswerOutOfScope(lambda: kb), tracker("风险 补偿", "out_of_scope", slots=slots), domain)
    assert payload_ids(messages) == ["shgov-27"]
    assert slots_of(events)["shown_measures"] == ["shgov-27"]


def test_a_region_switch_that_asks_an_aspect_says_it_is_not_stated_there(kb, domain) -> None:
    slots = {"shown_measures": ["datong-13"], "last_query": "大同专精特新企业知识产权资金支持", "region": "大同",
             "last_topic": "subsidies"}
    messages, events = run(ActionAnswerOtherRegion(lambda: kb),
                           tracker("上海那边规定了具体金额吗", "ask_other_region", [{"entity": "region", "value": "上海"}],
                                   slots), domain)
    assert responses(messages)[:2] == ["utter_aspect_not_stated", "utter_answer_intro_related"]
    assert payload_ids(messages) and all(i.startswith(("shgov", "shipa")) for i in payload_ids(messages))
    assert slots_of(events)["region"] == "上海"


def test_a_first_question_that_names_a_region_and_little_else_is_answered_there(kb, domain) -> None:
    messages, events = run(ActionAnswerOtherRegion(lambda: kb),
                           tracker("全国层面有哪些扶持", "ask_other_region", [{"entity": "region", "value": "全国"}]), domain)
    assert payload_ids(messages) and all(i.startswith("cnipa") for i in payload_ids(messages))
    assert slots_of(events)["region"] == "全国"


def test_an_aspect_follow_up_read_as_what_can_you_do_is_answered_as_the_aspect(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-23"], "last_query": "上海知识产权运营人才培养", "region": "上海"}
    messages, _ = run(ActionAnswerCapabilities(lambda: kb), tracker("参加的资格要求呢", "ask_capabilities", slots=slots),
                      domain)
    assert responses(messages) == ["utter_aspect_not_stated_follow_up"]


def test_a_materials_follow_up_puts_the_provisions_whose_text_lists_them_first(kb, domain) -> None:
    slots = {"shown_measures": ["cnipa-applicants", "cnipa-condition-1"], "pending_measures": ["cnipa-procedure-4"],
             "last_query": "试点城市申报条件", "region": "全国"}
    messages, _ = run(ActionShowOriginalText(lambda: kb), tracker("需要交哪些东西", "ask_original_text", slots=slots),
                      domain)
    assert payload_ids(messages)[0] in {"cnipa-procedure-1", "cnipa-procedure-2"}


def test_an_unclear_short_message_after_an_answer_refines_that_subject(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-30", "shgov-25"], "last_query": "上海拿专利找银行贷款", "region": "上海",
             "last_topic": "financing"}
    messages, events = run(ActionAnswerFallback(lambda: kb), tracker("政府补钱吗", "nlu_fallback", slots=slots), domain)
    assert {"shgov-26", "shipa-11"} & set(payload_ids(messages))  # the loan's interest subsidy, not any money
    assert "政府补钱吗" in slots_of(events)["last_query"]


def test_whom_to_ask_the_nlu_is_unsure_of_names_the_agencies(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-26"], "last_query": "上海专利质押贷款贴息", "region": "上海"}
    messages, _ = run(ActionAnswerFallback(lambda: kb), tracker("那该找谁", "nlu_fallback", slots=slots), domain)
    assert responses(messages)[0] == "utter_agency_line" and payload_ids(messages) == ["shgov-26"]


def test_a_region_and_generic_words_the_nlu_is_unsure_of_switch_the_region(kb, domain) -> None:
    slots = {"shown_measures": ["datong-3"], "last_query": "大同专利导航服务", "region": "大同",
             "last_topic": "patent_navigation"}
    messages, events = run(ActionAnswerFallback(lambda: kb),
                           tracker("全国呢？都有哪些规定", "nlu_fallback", [{"entity": "region", "value": "全国"}], slots),
                           domain)
    assert payload_ids(messages) and all(i.startswith("cnipa") for i in payload_ids(messages))
    assert slots_of(events)["region"] == "全国"


def test_an_aspect_read_as_more_is_answered_as_the_aspect(kb, domain) -> None:
    messages, _ = run(ActionShowMoreMeasures(lambda: kb), tracker("最高补多少", "ask_more", slots=FINANCING), domain)
    assert responses(messages) == ["utter_aspect_not_stated_follow_up"]


def test_a_word_of_a_shown_measure_does_not_single_it_out_when_another_region_is_named(kb, domain) -> None:
    slots = {"shown_measures": ["datong-3"], "last_query": "大同专利导航", "region": "大同"}
    messages, _ = run(ActionAnswerFallback(lambda: kb),
                      tracker("上海的导航怎么安排", "nlu_fallback", [{"entity": "region", "value": "上海"}], slots), domain)
    assert payload_ids(messages) and "datong-3" not in payload_ids(messages)


def test_a_fee_follow_up_reads_only_the_measures_shown_not_a_free_service_elsewhere(kb, domain) -> None:
    slots = {"shown_measures": ["datong-11"], "last_query": "大同专利代理机构", "region": "大同"}
    messages, _ = run(ActionAnswerOutOfScope(lambda: kb), tracker("代理要收费吗", "out_of_scope", slots=slots), domain)
    assert responses(messages) == ["utter_aspect_not_stated_follow_up"]  # datong-10's 免费 is another service's


def test_a_follow_up_naming_one_region_of_a_several_region_answer_keeps_that_regions_measures(kb, domain) -> None:
    slots = {"shown_measures": ["datong-10", "shipa-19"], "last_query": "专利检索平台"}
    messages, events = run(ActionShowPlatforms(lambda: kb),
                           tracker("上海那边的叫什么", "ask_platform", [{"entity": "region", "value": "上海"}], slots), domain)
    assert payload_ids(messages) == ["shipa-19"] and slots_of(events)["shown_measures"] == ["shipa-19"]


PILOT_CONDITIONS = {"shown_measures": ["cnipa-condition-2", "cnipa-condition-1"], "pending_measures": [],
                    "last_query": "试点城市的园区要满足什么指标", "region": "全国", "last_topic": "pilot_city_application"}


def test_small_talk_is_answered_in_kind(kb, domain) -> None:
    from actions.uncertain import ActionAnswerSmallTalk

    for text, intent, response in [("好的，谢谢啦", "thank", "utter_thank"), ("拜拜", "goodbye", "utter_goodbye"),
                                   ("你好在吗", "greet", "utter_greet")]:
        messages, events = run(ActionAnswerSmallTalk(lambda: kb), tracker(text, intent, slots=PILOT_CONDITIONS), domain)
        assert responses(messages) == [response] and not payload_ids(messages) and not events, text


def test_a_question_read_as_small_talk_is_answered(kb, domain) -> None:
    """A goodbye or thanks intent on a question: the question is answered, in the conversation's context."""
    from actions.uncertain import ActionAnswerSmallTalk

    messages, _ = run(ActionAnswerSmallTalk(lambda: kb), tracker("贯标这块上海有什么要求？", "goodbye"), domain)
    assert "shipa-2" in payload_ids(messages)
    messages, _ = run(ActionAnswerSmallTalk(lambda: kb), tracker("48.4%是怎么算的", "thank", slots=PILOT_CONDITIONS),
                      domain)
    assert payload_ids(messages)[:1] == ["cnipa-condition-2"]


def test_a_short_question_read_as_feedback_is_a_follow_up(kb, domain) -> None:
    from actions.uncertain import ActionHandleFeedback

    slots = {"shown_measures": ["datong-3"], "pending_measures": [], "last_query": "大同的专利导航服务基地建在哪里",
             "region": "大同", "last_topic": "patent_navigation"}
    messages, _ = run(ActionHandleFeedback(lambda: kb), tracker("区县里也可以建吗", "feedback_unhelpful", slots=slots), domain)
    assert "datong-3" in payload_ids(messages)
    messages, _ = run(ActionHandleFeedback(lambda: kb), tracker("没啥用", "feedback_unhelpful", slots=slots), domain)
    assert responses(messages) == ["utter_feedback_sorry"]


def test_an_unsure_message_naming_another_region_asks_the_last_question_there(kb, domain) -> None:
    messages, events = run(ActionAnswerFallback(lambda: kb),
                           tracker("大同在质押这块是什么说法", "nlu_fallback", slots=FINANCING), domain)
    ids = payload_ids(messages)
    assert ids and {kb.region_of(kb.get(i)) for i in ids} == {"大同"}
    assert slots_of(events).get("region") == "大同"


def test_a_topic_word_alone_is_no_new_subject(kb) -> None:
    """评上 reads as 认定 (a topic signal), but the message's own best matches are not on that topic."""
    from policies_kb.answers import names_new_subject

    shown = [kb.get("cnipa-procedure-overview"), kb.get("cnipa-condition-2")]
    assert not names_new_subject(kb, kb.normalise("评上以后国家给哪些支持"), shown)
    assert names_new_subject(kb, kb.normalise("专利密集型产品认定有什么支持"), shown)


def test_a_follow_up_joined_to_the_last_question_asks_its_own_aspect(kb, domain) -> None:
    """The last question asked which years; the follow-up asks what support: the support provisions lead."""
    slots = {"shown_measures": ["cnipa-pilot-reporting", "cnipa-procedure-overview", "cnipa-condition-2"], "pending_measures": [],
             "last_query": "首批试点是哪几年", "region": "全国", "last_topic": "pilot_city_application"}
    messages, _ = run(ActionAnswerFallback(lambda: kb), tracker("选上以后国家给哪些支持", "nlu_fallback", slots=slots), domain)
    assert payload_ids(messages)[:1] and payload_ids(messages)[0].startswith("cnipa-support")


def test_other_figures_are_those_of_the_provisions_not_shown(kb, domain) -> None:
    slots = {"shown_measures": ["shgov-2"], "pending_measures": [], "region": "上海", "last_topic": None,
             "last_query": "上海的专利转化运用专项行动方案，高价值专利定了什么目标"}
    messages, _ = run(ActionShowFigures(lambda: kb), tracker("其他方面还定了哪些指标", "ask_figures", slots=slots), domain)
    ids = payload_ids(messages)
    assert ids and "shgov-2" not in ids and all(kb.get(i).targets for i in ids)
    messages, _ = run(ActionShowFigures(lambda: kb), tracker("有没有具体数字", "ask_figures", slots=slots), domain)
    assert payload_ids(messages) == ["shgov-2"]


def test_no_small_talk_or_feedback_example_is_taken_for_a_question(kb) -> None:
    """Every training example of the small-talk and feedback intents is answered in kind."""
    import yaml

    from actions.uncertain import asks_something
    from settings import PROJECT_ROOT

    data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "chitchat.yml").read_text(encoding="utf-8"))
    intents = {"greet", "goodbye", "thank", "ask_whoami", "feedback_helpful", "feedback_unhelpful"}
    examples = [line.strip()[2:] for block in data["nlu"] if block.get("intent") in intents
                for line in block["examples"].splitlines() if line.strip()]
    assert len(examples) > 600
    assert [text for text in examples if asks_something(kb.normalise(text))] == []
    from actions.uncertain import is_policy_question

    small_talk = [(line.strip()[2:], block["intent"]) for block in data["nlu"]
                  if block.get("intent") in intents - {"feedback_helpful", "feedback_unhelpful"}
                  for line in block["examples"].splitlines() if line.strip()]
    assert [text for text, intent in small_talk if is_policy_question(kb, kb.normalise(text), intent)] == []
    question = kb.normalise("你们这儿有专利质押贷款贴息的政策吗")  # addresses the assistant, names a subject
    assert not asks_something(question) and is_policy_question(kb, question, "greet")


def test_a_follow_up_read_as_who_are_you_is_answered(kb, domain) -> None:
    from actions.uncertain import ActionAnswerSmallTalk

    messages, _ = run(ActionAnswerSmallTalk(lambda: kb), tracker("这个具体是谁在管", "ask_whoami", slots=FINANCING), domain)
    assert "utter_agency_line" in responses(messages)
    messages, _ = run(ActionAnswerSmallTalk(lambda: kb), tracker("你到底是谁", "ask_whoami", slots=FINANCING), domain)
    assert responses(messages) == ["utter_whoami"]
