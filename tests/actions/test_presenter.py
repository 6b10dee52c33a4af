"""actions.presenter: the `utter_measure` slot values and the widget payload (moved from policies_kb.answers)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from actions.presenter import measure_values, payload
from policies_kb import load_kb


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_measure_values_fill_every_slot_of_utter_measure(kb, domain):
    values = measure_values(kb, kb.get("shgov-26"), 2, dt.date(2026, 1, 1), "专利质押贷款贴息")
    template = " ".join(v["text"] for v in domain["responses"]["utter_measure"])
    placeholders = set(re.findall(r"{(\w+)}", template))
    assert placeholders and placeholders <= set(values)
    assert values["rank"] == "2" and values["region"] == "上海"
    assert values["citation"] == kb.citation(kb.get("shgov-26"))
    assert all(isinstance(v, str) for v in values.values())


def test_measure_without_platform_says_so(kb):
    values = measure_values(kb, kb.get("shgov-25"), 1)
    assert values["platforms"] == "本条未指定具体平台"
    assert "· 目标与数字：" in values["details"]


def test_inferred_agencies_are_marked_in_the_chat(kb):
    assert measure_values(kb, kb.get("shipa-16"), 1)["agencies"].endswith("（文件未列明责任单位，据条文推定）")


def test_payload_lists_ids_citations_and_text(kb):
    measures = [kb.get("shgov-26"), kb.get("shipa-16")]
    data = payload(kb, measures, "贴息", "上海")
    assert data["type"] == "kb_answer" and data["query"] == "贴息" and data["region"] == "上海"
    assert [m["id"] for m in data["measures"]] == ["shgov-26", "shipa-16"]
    assert data["measures"][1]["agencies_inferred"] is True and data["measures"][0]["agencies_inferred"] is False
    assert set(data["measures"][0]) == {"id", "title", "citation", "short_citation", "document", "article", "region",
                                        "agencies", "agencies_inferred", "platforms", "text"}
