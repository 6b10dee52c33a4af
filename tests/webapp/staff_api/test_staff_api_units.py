"""webapp.staff_api's modules on their own: parameters, token, validity filter and the paste-ready reply."""

from __future__ import annotations

import datetime as dt

import pytest

from policies_kb import load_kb
from policies_kb.labels import VALIDITY_LABELS
from webapp.staff_api import ApiError, build_reply, dumps
from webapp.staff_api.auth import check_token, presented_token
from webapp.staff_api.params import int_param, period_args, text_param
from webapp.staff_api.records import status_of
from webapp.staff_api.search import VALIDITY_CHOICES, VALIDITY_FILTERS

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_text_and_int_parameters_are_bounded():
    assert text_param({"q": ["  专利  "]}, "q") == "专利" and text_param({"q": " "}, "q") is None
    with pytest.raises(ApiError) as err:
        text_param({"q": "x" * 101}, "q")
    assert err.value.status == 400 and "过长" in err.value.message
    assert int_param({"limit": "7"}, "limit", 20, 1, 200) == 7 and int_param({}, "limit", 20, 1, 200) == 20
    for bad in ("0", "201", "１", "9" * 30, "-3"):
        with pytest.raises(ApiError):
            int_param({"limit": bad}, "limit", 20, 1, 200)


def test_period_must_not_end_before_it_starts():
    assert period_args({"since": "2026-11-01", "until": "2026-11-30"}) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    with pytest.raises(ApiError):
        period_args({"since": "2026-12-01", "until": "2026-11-30"})


def test_token_from_either_header_and_compared_exactly():
    assert presented_token({"authorization": "Bearer abc"}) == "abc"
    assert presented_token({"x-staff-token": " abc "}) == "abc" and presented_token({}) is None
    check_token("abc", "abc")
    with pytest.raises(ApiError) as err:
        check_token("abc", "abd")
    assert err.value.status == 401
    with pytest.raises(ApiError) as err:
        check_token("", "abc")
    assert err.value.status == 503


def test_validity_filter_uses_the_one_wording():
    assert list(VALIDITY_CHOICES) == [VALIDITY_LABELS["in_force"], VALIDITY_LABELS["targets_past"],
                                      VALIDITY_LABELS["expired"]]
    assert VALIDITY_FILTERS["现行"] == {"in_force", "targets_future"} and VALIDITY_FILTERS["expired"] == {"expired"}


def test_status_of_a_deadline():
    assert status_of(TODAY, TODAY) == "future" and status_of(TODAY - dt.timedelta(days=1), TODAY) == "past"
    assert status_of(None, TODAY) == "undated"


def test_reply_names_stated_agencies_or_says_they_are_inferred(kb):
    stated = build_reply(kb, kb.get("shgov-25"), TODAY)
    assert stated.startswith("根据") and "责任单位：市知识产权局、金融监管总局上海监管局、中国人民银行上海市分行。" in stated
    inferred = build_reply(kb, kb.get("shipa-16"), TODAY)
    assert "责任单位：本条未单独列明（相关单位：上海市知识产权局）。" in inferred
    assert "办理平台：知识产权服务万里行。" in build_reply(kb, kb.get("shipa-10"), TODAY)


def test_json_keeps_chinese_readable():
    assert dumps({"a": "专利"}) == '{"a":"专利"}'
