"""A document named by description instead of its 文号 (policies_kb.docref)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("question, document", [
    ("上海市知识产权局2023年那个意见里怎么说融资", "shanghai-ipa-2023-9"),
    ("2017年那个试点城市的通知有什么条件", "cnipa-2017-30"),
    ("上海那个专项行动方案里的专利超市", "shanghai-gov-2024-7"),
    ("大同那个专精特新的文件讲了导航吗", "datong-2023-zjtx"),
    ("沪府办发2024年那个方案", "shanghai-gov-2024-7"),
])
def test_a_described_document_is_found(kb, question: str, document: str) -> None:
    assert kb.documents_in(question) == [document]


@pytest.mark.parametrize("question", [
    "上海的政策文件里关于专利导航的",  # two Shanghai documents: not one
    "专精特新企业有哪些融资支持",  # speaks of no document
    "国家知识产权局的文件",
])
def test_a_vague_mention_scopes_nothing(kb, question: str) -> None:
    assert kb.documents_in(question) == []


def test_a_described_document_scopes_the_search(kb) -> None:
    hits = kb.search("2017年那个试点城市的通知里对园区有什么要求")
    assert hits and all(h.measure.document_id == "cnipa-2017-30" for h in hits)
