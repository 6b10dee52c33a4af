"""What the documents do not cover although a question sounds close (policies_kb.scope, data/neighbours.yml,
data/places.yml)."""

from __future__ import annotations

from pathlib import Path

from policies_kb.answers import is_covered, outside_subject


def test_neighbouring_matters_are_found_but_not_inside_a_kb_term(kb) -> None:
    assert kb.neighbours_in("商标续展怎么办理") == ["续展"]
    assert "许可合同备案" in kb.neighbours_in("专利实施许可合同备案怎么办")
    assert kb.neighbours_in("开放许可备案了以后怎么办") == []  # 许可备案 straddles the KB term 开放许可
    assert is_covered(kb, "开放许可备案了以后怎么办")


def test_another_places_policy_is_outside_unless_a_documents_region_is_named(kb) -> None:
    assert kb.other_places_in("深圳对专利质押有贴息吗") == ["深圳"]
    assert outside_subject(kb, "北京中关村的知识产权质押贷款贴息比例是多少")
    assert kb.other_places_in("我们在杭州，想了解上海的质押贴息") == []
    assert kb.other_places_in("长三角一体化里江苏那边的专利互认") == []


def test_a_neighbour_or_place_found_in_a_source_is_a_validation_problem(tmp_data: Path, problems) -> None:
    path = tmp_data / "neighbours.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("[续展,", "[续展, 专利导航,"), encoding="utf-8")
    places = tmp_data / "places.yml"
    places.write_text(places.read_text(encoding="utf-8").replace("[北京,", "[北京, 新疆,"), encoding="utf-8")
    found = problems(tmp_data)
    assert any("neighbour term '专利导航'" in p for p in found)
    assert any("place '新疆'" in p for p in found)


def test_a_region_word_that_is_also_an_agency_name_still_names_the_region(kb) -> None:
    assert kb.region_in("试点城市 专利许可转让") == "全国"
    assert kb.region_in("上海 国家知识产权局") == "上海"


def test_a_neighbour_told_in_the_story_before_the_question_does_not_reject_it(kb) -> None:
    """保荐人说… is background when the asking sentence names a subject of its own; asked, it is not covered."""
    told = kb.normalise("我们准备冲科创板，保荐人说我们的专利布局有点薄弱。拟上市企业知识产权服务站能帮忙排查风险吗？")
    assert not kb.neighbours_in(told)
    assert kb.neighbours_in(kb.normalise("我们准备冲科创板。保荐机构怎么选？"))
    assert kb.neighbours_in(kb.normalise("我们的商标快到期了，要续展。上海有什么支持？"))  # the question names no subject
