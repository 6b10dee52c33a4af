"""Ranked search over measures for Chinese questions: jieba words, character bigrams, synonyms.

Scoring is BM25 per field (title and keywords weigh most, then topics and names, then the text),
plus a smaller character-bigram channel for words jieba splits differently, plus boosts for the
topic the question is about and for agencies, platforms and beneficiaries it names.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import jieba

from .model import Measure, Registry

logger = logging.getLogger(__name__)

STOPWORDS = frozenset(
    """的 了 和 与 及 或 等 是 在 有 为 对 将 把 被 要 就 都 也 还 又 而 并 其 之 这 那 这个 那个 这些 那些
    我 我们 你 你们 他们 咱 咱们 公司 单位 本 什么 怎么 怎么样 怎样 如何 哪些 哪个 哪里 哪儿 多少 吗 呢 吧 啊 呀
    么 嘛 请问 请 问 一下 想 想要 需要 能 能否 能不能 可以 可不可以 是否 有没有 有无 没有 不 会 该 应该
    具体 相关 有关 方面 情况 问题 一些 一个 一 个 些 上 下 里 中 从 到 给 让 去 来 做 搞 办 找 用 看 说
    支持 政策 规定 文件 措施 内容 介绍 了解 咨询 知道 告诉 帮 帮忙 谢谢 你好 ， 。 ？ ！ 、 ； ： “ ” （ ） ( )
    , . ? ! ; : 《 》 〔 〕 … — - ~ 啥 咋 咋办 怎么办 呗 哈 嗯 哦""".split()
)
FIELD_WEIGHTS = {"title": 3.5, "keywords": 2.5, "topics": 1.5, "names": 0.8, "text": 1.0}
BIGRAM_WEIGHT = 0.35
K1, B = 1.2, 0.6
SUBWORD_WEIGHT = 0.35  # a query word that is part of a longer query word (中小 in 中小企业) counts less
K1F = 3.0  # saturation of the combined (BM25F) term frequency over all fields
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")


TopicHint = Union[str, Sequence[str], None]


def as_topics(hint: TopicHint) -> List[str]:
    """A topic hint as a list: one topic, several (comma-separated or a sequence), or none."""
    if not hint:
        return []
    if isinstance(hint, str):
        return [part for part in hint.split(",") if part]
    return [part for part in hint if part]


@dataclass(frozen=True)
class SearchHit:
    """A measure with its score and the query terms it matched."""

    measure: Measure
    score: float
    matched: Tuple[str, ...] = ()


@dataclass
class _FieldIndex:
    """Term frequencies of one field across all measures."""

    tf: List[Counter] = field(default_factory=list)
    lengths: List[int] = field(default_factory=list)

    @property
    def avg(self) -> float:
        """Average field length (at least 1)."""
        return max(1.0, sum(self.lengths) / max(1, len(self.lengths)))

    def length_norms(self) -> List[float]:
        """BM25's length normalisation (1 - b + b * length / average) of every measure."""
        avg = self.avg
        return [1 - B + B * length / avg for length in self.lengths]


class Tokenizer:
    """A private jieba tokenizer loaded with the KB's vocabulary."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._vocabulary = sorted({w for w in vocabulary if w and len(w) >= 2})
        self._ready = False

    def _initialise(self) -> None:
        """Load jieba's dictionary and the KB words once."""
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            for word in self._vocabulary:
                self._jieba.add_word(word, freq=2000)
            self._ready = True

    def dictionary_words(self, text: str) -> List[str]:
        """The text cut into dictionary words only (no HMM guesses), every character kept."""
        if not self._ready:
            self._initialise()
        return list(self._jieba.cut(text, HMM=False))

    def frequency(self, word: str) -> int:
        """The dictionary's count of a word (0 when it has none)."""
        if not self._ready:
            self._initialise()
        return int(self._jieba.FREQ.get(word) or 0)

    def words(self, text: str) -> List[str]:
        """Search-mode words of a text, lower-cased, without stopwords and punctuation."""
        if not self._ready:
            self._initialise()
        out = []
        for word in self._jieba.cut_for_search(text):
            word = word.strip().lower()
            if word and word not in STOPWORDS and CJK_RUN.search(word):
                out.append(word)
        return out


def bigrams(text: str) -> List[str]:
    """Character bigrams of each CJK run (and whole Latin/number runs)."""
    grams = []
    for run in CJK_RUN.findall(text.lower()):
        if not re.match(r"[\u4e00-\u9fff]", run):
            grams.append(run)
            continue
        grams += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
    return grams


GAP = "…"  # in a synonym variant: up to MAX_GAP characters of anything (查…专利 matches 查查同行申请的专利)
MAX_GAP = 8


def gapped_pattern(variant: str) -> "re.Pattern[str]":
    """The pattern of a gapped variant: its parts in order, at most MAX_GAP characters apart, within a clause."""
    return re.compile(f"[^，,。；;？?！!]{{0,{MAX_GAP}}}".join(re.escape(part) for part in variant.split(GAP)))


def kb_vocabulary(registry: Registry) -> Set[str]:
    """Domain words for the tokenizer: names, aliases, topic terms, synonyms, keywords."""
    words: Set[str] = set()
    for agency in registry.agencies.values():
        words.update(agency.names())
    for platform in registry.platforms.values():
        words.update(platform.names())
    for topic in registry.topics.values():
        words.update(topic.terms)
    for canonical, variants in registry.synonyms.items():
        words.add(canonical)
        words.update(v for v in variants if GAP not in v)
    for measure in registry.measures:
        words.update(measure.keywords)
        words.update(measure.beneficiaries)
    return {w for w in words if not re.search(r"[\s（）()“”]", w)}


class SearchIndex:
    """BM25F-style index over the measures of a registry."""

    def __init__(self, registry: Registry, tokenizer: Tokenizer) -> None:
        self.registry = registry
        self.tokenizer = tokenizer
        self.measures = list(registry.measures)
        self._fields: Dict[str, _FieldIndex] = {name: _FieldIndex() for name in FIELD_WEIGHTS}
        self._grams = _FieldIndex()
        self._df: Counter = Counter()
        self._gram_df: Counter = Counter()
        self._variants = sorted(
            ((variant, canonical) for canonical, variants in registry.synonyms.items() for variant in variants),
            key=lambda pair: len(pair[0]), reverse=True,
        )
        self._gapped = {variant: gapped_pattern(variant) for variant, _ in self._variants if GAP in variant}
        self._topic_terms = {tid: topic.terms for tid, topic in registry.topics.items()}
        # filled by build(): term -> [(measure position, BM25F pseudo term frequency)], idf per term,
        # and bigram -> [(measure position, tf, K1 * length normalisation)], idf per bigram
        self._postings: Dict[str, List[Tuple[int, float]]] = {}
        self._term_idf: Dict[str, float] = {}
        self._gram_postings: Dict[str, List[Tuple[int, int, float]]] = {}
        self._gram_idf: Dict[str, float] = {}
        self._built = False
        self._lock = threading.Lock()

    def _field_texts(self, measure: Measure) -> Dict[str, str]:
        """The searchable text of each field of a measure."""
        topics = self.registry.topics
        names = [ref.as_written for ref in measure.agencies] + [ref.as_written for ref in measure.platforms]
        for ref in measure.platforms:
            platform = self.registry.platforms.get(ref.platform_id)
            if platform:
                names += [platform.name, *platform.user_aliases]
        return {
            "title": f"{measure.title} {' '.join(measure.section_path[-1:])}",
            "keywords": " ".join(measure.keywords + measure.beneficiaries),
            "topics": " ".join(topics[t].label for t in measure.topics if t in topics),
            "names": " ".join(names),
            "text": measure.text,
        }

    def build(self) -> None:
        """Tokenise every measure once."""
        with self._lock:
            if self._built:
                return
            for measure in self.measures:
                seen: Set[str] = set()
                for name, text in self._field_texts(measure).items():
                    words = self.tokenizer.words(text)
                    self._fields[name].tf.append(Counter(words))
                    self._fields[name].lengths.append(len(words))
                    seen.update(words)
                self._df.update(seen)
                grams = bigrams(measure.title + " " + measure.text)
                self._grams.tf.append(Counter(grams))
                self._grams.lengths.append(len(grams))
                self._gram_df.update(set(grams))
            self._build_postings()
            self._built = True

    def _build_postings(self) -> None:
        """Precompute each term's per-measure weights so a query only visits the measures containing it."""
        norms = {name: index.length_norms() for name, index in self._fields.items()}
        for doc in range(len(self.measures)):
            pseudo_tf: Dict[str, float] = {}
            for name, index in self._fields.items():  # field by field, as a sum over the fields would add
                for term, tf in index.tf[doc].items():
                    pseudo_tf[term] = pseudo_tf.get(term, 0) + FIELD_WEIGHTS[name] * (tf / norms[name][doc])
            for term, value in pseudo_tf.items():
                self._postings.setdefault(term, []).append((doc, value))
        self._term_idf = {term: self._idf(df) for term, df in self._df.items()}
        gram_norms = [K1 * norm for norm in self._grams.length_norms()]
        for doc, counts in enumerate(self._grams.tf):
            for gram, tf in counts.items():
                self._gram_postings.setdefault(gram, []).append((doc, tf, gram_norms[doc]))
        self._gram_idf = {gram: self._idf(df) for gram, df in self._gram_df.items()}

    def expand(self, query: str) -> Tuple[List[str], List[str], List[str]]:
        """Query words, the policy terms of the synonym variants it contains, and those variants' own words."""
        canonical_words: List[str] = []
        variant_words: List[str] = []
        for variant, canonical in self._variants:
            if self._variant_in(variant, query):
                canonical_words += self.tokenizer.words(canonical) or [canonical]
                variant_words += [w for part in variant.split(GAP) for w in self.tokenizer.words(part)]
        return self.tokenizer.words(query), canonical_words, variant_words

    def _variant_in(self, variant: str, query: str) -> bool:
        """Whether the query holds a synonym variant (a gapped one, 查…专利, with its parts in order)."""
        pattern = self._gapped.get(variant)
        return bool(pattern.search(query)) if pattern else variant in query

    def has_term(self, term: str) -> bool:
        """Whether any measure has the term (after build)."""
        self.build()
        return term in self._postings

    def query_topics(self, query: str) -> Set[str]:
        """Topics whose signal terms the query contains (after synonym expansion)."""
        expanded = query + " " + " ".join(c for v, c in self._variants if self._variant_in(v, query))
        found = set()
        for topic, terms in self._topic_terms.items():
            if topic == "overview":
                continue
            if any(term.lower() in expanded.lower() for term in terms if len(term) >= 2):
                found.add(topic)
        return found

    def _idf(self, df: int) -> float:
        """Probabilistic IDF, floored at a small positive value."""
        n = len(self.measures)
        return max(0.05, math.log(1 + (n - df + 0.5) / (df + 0.5)))

    def query_weights(self, query: str) -> Tuple[Counter, Counter]:
        """Weight of each query word (synonym variants and words inside longer words count less) and its bigrams."""
        words, canonical, variants = self.expand(query)
        longer = sorted(set(words), key=len, reverse=True)
        weighted: Counter = Counter()
        for word in words:
            inside = any(len(other) > len(word) and word in other for other in longer)
            weighted[word] = (0.5 if word in variants else 1.0) * (SUBWORD_WEIGHT if inside else 1.0)
        for term in canonical:
            weighted[term] = 1.0
        return weighted, Counter(bigrams(query))

    def score_all(self, query: str) -> List[Tuple[float, Set[str]]]:
        """Lexical score and matched terms for every measure: BM25F over the fields plus the bigram channel."""
        self.build()
        weighted, grams = self.query_weights(query)
        scores = [0.0] * len(self.measures)
        matched: List[Set[str]] = [set() for _ in self.measures]
        for term, weight in weighted.items():
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self._term_idf[term]
            for doc, pseudo_tf in postings:
                matched[doc].add(term)
                scores[doc] += weight * idf * pseudo_tf * (K1F + 1) / (pseudo_tf + K1F)
        for gram in grams:
            idf = self._gram_idf.get(gram)
            if idf is None:
                continue
            for doc, tf, norm in self._gram_postings[gram]:
                scores[doc] += BIGRAM_WEIGHT * (idf * tf * (K1 + 1) / (tf + norm))
        return list(zip(scores, matched))

    def search(self, query: str, candidates: Optional[Sequence[int]] = None, topic_hint: TopicHint = None,
               platform_ids: Sequence[str] = (), agency_ids: Sequence[str] = (),
               beneficiary_terms: Sequence[str] = (), limit: int = 10) -> List[SearchHit]:
        """Ranked measures for a question, restricted to candidate positions if given."""
        scored = self.score_all(query)
        allowed = set(range(len(self.measures))) if candidates is None else set(candidates)
        top = max((scored[i][0] for i in allowed), default=0.0)
        if top <= 0 and not (topic_hint or platform_ids or agency_ids):
            return []
        topics = self.query_topics(query)
        hints = set(as_topics(topic_hint))
        hits = []
        for doc in allowed:
            measure = self.measures[doc]
            score, matched = scored[doc]
            bonus = 0.0
            if hints and hints.intersection(measure.topics):
                bonus += 0.30 * top * (1.0 if measure.topics[0] in hints else 0.7)
            overlap = topics.intersection(measure.topics)
            if overlap:
                bonus += 0.2 * top * len(overlap)
            if platform_ids and {ref.platform_id for ref in measure.platforms}.intersection(platform_ids):
                bonus += 0.6 * top + 1.0
            if agency_ids and {ref.agency_id for ref in measure.agencies}.intersection(agency_ids):
                bonus += 0.3 * top + 0.5
            if "targets" in topics and measure.targets:
                bonus += 0.25 * top
            if beneficiary_terms and any(term in b for term in beneficiary_terms for b in measure.beneficiaries):
                bonus += 0.08 * top
            total = score + bonus
            if total > 0:
                hits.append(SearchHit(measure, round(total, 4), tuple(sorted(matched))))
        hits.sort(key=lambda hit: (-hit.score, hit.measure.id))
        return hits[:limit]
