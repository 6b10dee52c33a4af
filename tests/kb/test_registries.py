"""Agency and platform registries: names resolve, references exist, measures are linked both ways."""

from __future__ import annotations

import pytest

SHGOV_IDS = {f"shgov-{n}" for n in range(1, 31)}


@pytest.mark.parametrize("name, full_name", [
    ("市知识产权局", "上海市知识产权局"),
    ("市场监管部门", "大同市市场监督管理局"),
    ("市市场监管局", "大同市市场监督管理局"),
    ("市工信局", "大同市工业和信息化局"),
    ("中小企业主管部门", "大同市工业和信息化局"),
    ("金融监管总局上海监管局", "国家金融监督管理总局上海监管局"),
    ("各区政府", "上海市各区人民政府"),
    ("上海市经信委", "上海市经济和信息化委员会"),
    ("市经济信息化委", "上海市经济和信息化委员会"),
    ("工信部", "工业和信息化部"),
    ("国知局", "国家知识产权局"),
    ("sh-ipa", "上海市知识产权局"),
])
def test_agency_names_resolve(kb, name, full_name):
    agency = kb.resolve_agency(name)
    assert agency is not None and agency.name == full_name


@pytest.mark.parametrize("name, platform_id", [
    ("专利导航平台", "national-patent-navigation-platform"),
    ("国家专利导航综合服务平台", "national-patent-navigation-platform"),
    ("上海知识产权交易中心", "sh-ip-exchange"),
    ("上海技交所", "sh-tech-exchange"),
    ("专利密集型产品备案平台", "patent-intensive-product-platform"),
    ("试点平台", "patent-intensive-product-platform"),
    ("TISC", "tisc"),
    ("科创板知识产权服务站", "star-market-ip-station"),
    ("银河培训", "galaxy-training"),
])
def test_platform_names_resolve(kb, name, platform_id):
    platform = kb.resolve_platform(name)
    assert platform is not None and platform.id == platform_id


def test_unknown_names_do_not_resolve(kb):
    assert kb.resolve_agency("火星知识产权局") is None
    assert kb.resolve_platform("月球专利交易所") is None


def test_every_referenced_agency_and_platform_exists(kb):
    for measure in kb.measures:
        assert measure.agencies, measure.id
        for ref in measure.agencies:
            assert ref.agency_id in kb.agencies, (measure.id, ref)
            assert ref.as_written in kb.agencies[ref.agency_id].names(), (measure.id, ref)
        for ref in measure.platforms:
            assert ref.platform_id in kb.platforms, (measure.id, ref)
            assert ref.as_written in measure.text, (measure.id, ref)


def test_stated_agencies_are_in_the_responsibility_text(kb):
    for measure in kb.measures:
        for ref in measure.agencies:
            if not ref.inferred:
                assert ref.as_written in (measure.responsibility_text or ""), (measure.id, ref)


def test_inferred_agencies_only_where_no_responsibility_is_stated(kb):
    for measure in kb.measures:
        if measure.responsibility_text:
            assert not any(ref.inferred for ref in measure.agencies), measure.id
        else:
            assert all(ref.inferred for ref in measure.agencies), measure.id


def test_sh_ipa_is_responsible_for_every_shgov_measure(kb):
    named = {m.id for m in kb.measures_naming_agency("sh-ipa")}
    assert SHGOV_IDS <= named
    for measure_id in SHGOV_IDS:
        ref = next(r for r in kb.get(measure_id).agencies if r.agency_id == "sh-ipa")
        assert ref.as_written == "市知识产权局" and not ref.inferred


def test_measures_naming_agency_is_consistent_with_filter(kb):
    for agency_id in kb.agencies:
        assert kb.measures_naming_agency(agency_id) == kb.filter(agency=agency_id), agency_id
    assert {m.id for m in kb.measures_naming_agency("dt-amr")} <= {f"datong-{n}" for n in range(1, 17)}
    assert kb.measures_naming_agency("no-such-agency") == []


def test_exchange_centre_is_named_by_shipa_12(kb):
    assert "shipa-12" in {m.id for m in kb.measures_naming_platform("sh-ip-exchange")}
    refs = {r.platform_id: r.as_written for r in kb.get("shipa-12").platforms}
    assert refs["sh-ip-exchange"] == "上海知识产权交易中心"


def test_patent_navigation_platform_is_named_by_three_measures(kb):
    named = {m.id for m in kb.measures_naming_platform("national-patent-navigation-platform")}
    assert named == {"datong-3", "shgov-1", "shgov-7"}
    assert {m.id for m in kb.filter(platform="专利导航平台")} == named


def test_every_platform_is_named_by_some_measure(kb):
    unused = [p.id for p in kb.platforms.values() if not kb.measures_naming_platform(p.id)]
    assert unused == []


def test_agencies_named_by_no_measure_are_only_the_known_context_entries(kb):
    # 上海市人民政府办公厅 issues 沪府办发〔2024〕7号; 市经济开发区管委会 is an addressee of the Datong
    # document; 省（区、市）中小企业主管部门 recommends pilot cities together with prov-ipa.
    unnamed = {a.id for a in kb.agencies.values() if not kb.measures_naming_agency(a.id)}
    assert unnamed <= {"sh-gov-office", "dt-devzone", "prov-sme"}


@pytest.mark.parametrize("alias, registry, ident", [
    ("专利导航平台", "platform", "national-patent-navigation-platform"),
    ("上海市经信委", "agency", "sh-eitc"),
    ("上海市知产局", "agency", "sh-ipa"),
    ("市卫健委", "agency", "sh-health"),
    ("人行上海分行", "agency", "sh-pboc"),
    ("大同市场监管局", "agency", "dt-amr"),
    ("一网交易", "platform", "sh-one-network-trading"),
    ("海外维权互助基金", "platform", "overseas-mutual-aid-fund"),
])
def test_user_aliases_resolve(kb, alias, registry, ident):
    resolved = kb.resolve_agency(alias) if registry == "agency" else kb.resolve_platform(alias)
    assert resolved is not None and resolved.id == ident


def test_names_in_a_question_are_found(kb):
    assert [a.id for a in kb.agencies_in("上海市经信委和市知识产权局管不管这个")] == ["sh-eitc", "sh-ipa"]
    assert [p.id for p in kb.platforms_in("专利导航平台和上海知识产权交易中心有什么区别")] == [
        "national-patent-navigation-platform", "sh-ip-exchange",
    ]
    assert [a.id for a in kb.agencies_in("省知识产权局", region="大同")] == ["sx-ipa"]


def test_registry_names_are_unambiguous_within_a_region(kb):
    seen = {}
    for agency in kb.agencies.values():
        for name in agency.names():
            other = seen.setdefault((agency.region, name), agency.id)
            assert other == agency.id, (name, other, agency.id)
    seen = {}
    for platform in kb.platforms.values():
        for name in platform.names():
            other = seen.setdefault(name, platform.id)
            assert other == platform.id, (name, other, platform.id)


def test_regions_of_registries_are_known(kb):
    assert {a.region for a in kb.agencies.values()} <= {"上海", "大同", "全国"}
    assert {p.region for p in kb.platforms.values()} <= {"上海", "大同", "全国"}
