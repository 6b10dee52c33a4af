"""The indexed scoring (postings built once) equals BM25F computed the straightforward way, measure by measure."""

from __future__ import annotations

import math
from typing import List, Set, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies_kb.search import B, BIGRAM_WEIGHT, FIELD_WEIGHTS, K1, K1F, SearchIndex


def reference_scores(index: SearchIndex, query: str) -> List[Tuple[float, Set[str]]]:
    """Every measure scored term by term and field by field from the raw term counts (no postings)."""
    index.build()
    n = len(index.measures)

    def idf(df: int) -> float:
        return max(0.05, math.log(1 + (n - df + 0.5) / (df + 0.5)))

    def norm(field_index, doc: int) -> float:
        avg = max(1.0, sum(field_index.lengths) / max(1, len(field_index.lengths)))
        return 1 - B + B * field_index.lengths[doc] / avg

    weighted, grams = index.query_weights(query)
    results = []
    for doc in range(n):
        score, matched = 0.0, set()
        for term, weight in weighted.items():
            pseudo_tf = sum(FIELD_WEIGHTS[name] * (idx.tf[doc].get(term, 0) / norm(idx, doc)
                                                   if idx.tf[doc].get(term, 0) else 0.0)
                            for name, idx in index._fields.items())
            if pseudo_tf:
                matched.add(term)
                score += weight * idf(index._df.get(term, 0)) * pseudo_tf * (K1F + 1) / (pseudo_tf + K1F)
        for gram in grams:
            tf = index._grams.tf[doc].get(gram, 0)
            if tf:
                gram_idf = idf(index._gram_df.get(gram, 0))
                score += BIGRAM_WEIGHT * (gram_idf * tf * (K1 + 1) / (tf + K1 * norm(index._grams, doc)))
        results.append((score, matched))
    return results


QUESTIONS = [
    "专利质押贷款有贴息吗？",
    "我们是专精特新企业，申请专利能拿到资金补助吗？",
    "商标被人抢注了怎么维权",
    "海外知识产权纠纷应对指导中心在哪里",
    "试点城市申报截止到什么时候",
    "开放许可 专利 免费",
    "IPO 上市 知识产权 辅导",
    "天气怎么样",
    "",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_indexed_scores_equal_the_straightforward_formula(kb, question):
    assert kb.index.score_all(question) == reference_scores(kb.index, question)


def test_every_measure_title_scores_its_own_measure(kb):
    for measure in kb.registry.measures[:30]:
        scored = kb.index.score_all(measure.title)
        assert scored == reference_scores(kb.index, measure.title)
        position = kb.index.measures.index(measure)
        assert scored[position][0] > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("专利商标质押贷款融资补贴海外维权导航许可中小企业试点城市申报平台abcIPO12 ，？")),
               max_size=40))
def test_indexed_scores_equal_the_formula_on_generated_queries(kb, query):
    assert kb.index.score_all(query) == reference_scores(kb.index, query)
