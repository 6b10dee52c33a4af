"""What a question asks about a subject, and whether the provisions state it (policies_kb.aspects)."""

from __future__ import annotations

import pytest

from policies_kb.answers import focus_on_aspect, select
from policies_kb.aspects import BY_ID, asked_aspect, stating


@pytest.mark.parametrize("question, aspect", [
    ("专利导航服务收费吗", "fee"),
    ("指导站的地址在哪儿", "address"),
    ("去哪里办", None),  # a platform question, answered by the platforms a provision names
    ("通过以后奖励多少", "amount"),
    ("开放许可的使用费有没有统一的价", "fee"),
    ("转让价格该怎么定，有人指导吗", "pricing"),
    ("优先审查一般要多久能批下来", "duration"),
    ("试点城市申报需要提交哪些材料", "materials"),
    ("申报试点城市要什么条件", "conditions"),
    ("开放许可怎么申请", "procedure"),
    ("贴息能补多少", "amount"),
    ("什么是专利密集型产品", "definition"),
    ("专利开源到底是个啥东西", "definition"),
    ("上海这条政策是啥", None),  # asks for the policy, not a definition
    ("维权援助中心电话多少", "contact"),
    ("试点城市申报什么时候截止", "deadline"),
    ("上海有没有专利质押贷款贴息", None),
    ("知识产权保险费用有补贴吗", None),  # a subsidy question, not a fee question
    ("首批的试点期是几年到几年", "period"),
    ("这个试点时间有多长", "period"),
    ("服务站多长时间来一次企业", None),  # a frequency, not how long it takes
    ("宣讲会一年搞几次", None),
    ("获评后资助有多少", "amount"),
    ("入库项目大概能奖多少钱", "amount"),
    ("专家评选时怎么打分", "scoring"),
    ("这个咋申请", "procedure"),  # colloquial 咋/啥 read as 怎么/什么
    ("报名要准备啥", "materials"),
    ("需要哪些证明", "materials"),
    ("能提供哪些服务", None),  # services of the measure, not materials to hand in
    ("企业要满足啥才能报", "conditions"),
    ("要自己掏钱吗", "fee"),
    ("做一次要花多少钱", "fee"),  # paying asks a fee; 补多少钱 asks an amount
    ("能补多少钱", "amount"),
    ("能拿到多少补贴", "amount"),
    ("办结时限是多少", "duration"),
    ("热线号码是多少", "contact"),
    ("百城百品是个啥", "definition"),
    ("评审的权重怎么分配", "scoring"),
])
def test_the_asked_aspect_is_detected(question: str, aspect) -> None:
    found = asked_aspect(question)
    assert (found.id if found else None) == aspect


def test_the_pilot_city_notice_states_its_conditions_materials_and_deadline(kb) -> None:
    assert BY_ID["conditions"].states(kb.get("cnipa-condition-1"))
    assert BY_ID["materials"].states(kb.get("cnipa-procedure-1"))
    assert BY_ID["deadline"].states(kb.get("cnipa-procedure-2"))
    assert BY_ID["contact"].states(kb.get("cnipa-contacts"))
    assert not BY_ID["amount"].states(kb.get("shgov-26"))  # 给予贴息, no figure
    assert not BY_ID["fee"].states(kb.get("datong-3"))
    assert not BY_ID["fee"].states(kb.get("datong-4")) and BY_ID["pricing"].states(kb.get("datong-4"))  # 许可使用费定价指导


def test_a_provision_whose_text_states_the_aspect_comes_before_one_that_only_sits_under_its_heading(kb) -> None:
    listed = stating(BY_ID["materials"], [kb.get("cnipa-procedure-4"), kb.get("cnipa-procedure-2")])
    assert [m.id for m in listed] == ["cnipa-procedure-2", "cnipa-procedure-4"]


def test_an_unstated_aspect_is_reported_and_a_stated_one_comes_first(kb) -> None:
    question = "上海专利质押贷款贴息比例是多少"
    selection, aspect, stated = focus_on_aspect(kb, select(kb, question, region="上海"), question)
    assert aspect.id == "amount" and not stated and selection.shown

    question = "试点城市申报需要提交什么材料"
    selection, aspect, stated = focus_on_aspect(kb, select(kb, question), question)
    assert aspect.id == "materials" and stated
    assert BY_ID["materials"].states(selection.shown[0])


def test_neighbouring_matters_are_not_covered(kb) -> None:
    from policies_kb.answers import is_covered

    for question in ["商标续展怎么办理", "软件著作权登记要多久", "专利权评价报告怎么申请", "研发费用加计扣除"]:
        assert not is_covered(kb, kb.normalise(question)), question
    assert is_covered(kb, "商标品牌建设有什么支持")


def test_the_award_words_of_an_amount_question_are_not_its_subject(kb) -> None:
    """有奖励吗 奖多少钱 after an answer: 奖励 asks the amount, it names no new subject."""
    from policies_kb.answers import aspect_of_follow_up

    shown = [kb.get("shgov-11")]
    aspect = aspect_of_follow_up(kb, kb.normalise("拿到这个认定有没有奖励，奖多少"), shown)
    assert aspect is not None and aspect.id == "amount"
    assert not stating(aspect, shown)


def test_the_pilot_period_is_stated_by_the_notice(kb) -> None:
    assert BY_ID["period"].of_document and BY_ID["period"].states(kb.get("cnipa-procedure-overview"))


def test_investing_at_a_valuation_is_not_setting_a_price(kb) -> None:
    """作价入股 names a way to invest; it says nothing of how a price is set (定价指导 does)."""
    assert not BY_ID["pricing"].states(kb.get("shgov-6"))
    assert BY_ID["pricing"].states(kb.get("shgov-18"))


def test_the_support_a_document_lists_under_its_heading_comes_first(kb) -> None:
    """四、政策支撑 states what support a pilot city gets; a heading-only aspect orders within the lead document."""
    question = kb.normalise("评上试点城市以后国家给哪些支持")
    focused, aspect, _ = focus_on_aspect(kb, select(kb, question), question)
    assert aspect.id == "support" and focused.shown[0].id.startswith("cnipa-support")
    question = kb.normalise("大同对专利导航有哪些支持")
    selection = select(kb, question, region="大同")
    focused, _, _ = focus_on_aspect(kb, selection, question)
    assert [m.id for m in focused.shown] == [m.id for m in selection.shown]


def test_a_fee_stated_by_another_provision_does_not_answer(kb) -> None:
    """做一次导航要花多少钱: the navigation provisions state no fee; an information service's 免费 is not theirs."""
    question = kb.normalise("大同的专利导航服务基地做一次导航要花多少钱")
    selection = select(kb, question, region="大同")
    focused, aspect, stated = focus_on_aspect(kb, selection, question)
    assert aspect.id == "fee" and not stated and focused.shown == selection.shown
