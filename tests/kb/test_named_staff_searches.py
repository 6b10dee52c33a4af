"""The staff searches the KB issue names: the right provision comes first, with its citation."""

from __future__ import annotations

import pytest

from policies_kb import load_kb

NAMED = [
    ("质押贷款贴息", {"shgov-26"}, "沪府办发〔2024〕7号"),
    ("海外维权援助", {"datong-9", "shipa-16"}, ""),
    ("专利导航服务基地", {"datong-3"}, "大同市市场监督管理局"),
    ("上海 开放许可", {"shgov-9"}, "沪府办发〔2024〕7号"),
    ("专利密集型产品 备案平台", {"datong-5", "shgov-11"}, ""),
    ("试点城市 申报条件", {"cnipa-condition-1", "cnipa-condition-2"}, "国知办发管字〔2017〕30号"),
    ("上海知识产权交易中心", {"shipa-12"}, "沪知局〔2023〕9号"),
]


@pytest.mark.parametrize("query,first,doc_ref", NAMED, ids=[q for q, _, _ in NAMED])
def test_named_search_puts_the_right_provision_first(query: str, first: set, doc_ref: str) -> None:
    """The first hit is one of the expected provisions and its citation names the document."""
    kb = load_kb()
    hits = kb.search(query, limit=3)
    assert hits and hits[0].measure.id in first, [h.measure.id for h in hits]
    assert doc_ref in kb.citation(hits[0].measure)
