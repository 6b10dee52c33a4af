"""A plain keyword-search baseline: BM25 over the paragraphs of the four source documents.

- Paragraphs: the non-empty lines of each ``policies_kb/sources/*.txt`` (headings, addressees and page
  footers included: nothing is curated).
- Tokens: jieba's default dictionary (a private ``jieba.Tokenizer()``, so no KB vocabulary leaks in
  from ``policies_kb``), precise mode; tokens without a letter or digit (punctuation, spaces) are
  dropped, Latin letters are lower-cased. No stop words, no synonyms.
- BM25 with k1 = 1.5, b = 0.75 and the non-negative idf ``ln(1 + (N - n + 0.5) / (n + 0.5))``; each
  distinct query term counts once. The answer is the best paragraph (ties: the earlier paragraph).
- A paragraph's measures: every measure whose lines overlap the paragraph's line, where a measure
  occupies the lines from ``Measure.source_line`` to the last line of ``Measure.text`` in its source,
  plus its own heading line when the text sits under one (``（一）服务支撑`` above the body of
  ``cnipa-support-1``: the previous non-empty line, holding just the article and the measure's title).
  Other headings, the addressees and the page furniture belong to no measure.
- Abstention: the baseline always has a best paragraph, so it "stays silent" only when the best score
  is at or below ``ABSTAIN_THRESHOLD`` = 0, i.e. when no query term occurs in any paragraph. The
  threshold is fixed here once and is not tuned on the evaluation set.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

K1 = 1.5
B = 0.75
ABSTAIN_THRESHOLD = 0.0


# ---------------------------------------------------------------------------------------------
# Tokens and BM25
# ---------------------------------------------------------------------------------------------
class JiebaTokens:
    """jieba with its default dictionary only."""

    def __init__(self) -> None:
        import jieba

        self._jieba = jieba.Tokenizer()
        self._ready = False

    def __call__(self, text: str) -> list[str]:
        if not self._ready:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._jieba.initialize()
            self._ready = True
        return [t.lower() for t in (w.strip() for w in self._jieba.cut(text or "")) if is_term(t)]


def is_term(token: str) -> bool:
    """A token worth indexing: it has at least one letter or digit (CJK counts as a letter)."""
    return any(ch.isalnum() for ch in token)


class BM25:
    """Okapi BM25 over pre-tokenised documents."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self.n_docs = len(documents)
        self.lengths = [len(d) for d in documents]
        self.avgdl = (sum(self.lengths) / self.n_docs) if self.n_docs and sum(self.lengths) else 1.0
        self.tf = [Counter(d) for d in documents]
        self.df: Counter = Counter(term for d in documents for term in set(d))

    def idf(self, term: str) -> float:
        """ln(1 + (N - n + 0.5) / (n + 0.5)): positive, largest for rare terms."""
        n = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - n + 0.5) / (n + 0.5))

    def score(self, query: Iterable[str], index: int) -> float:
        """BM25 score of one document for a query (each distinct term once)."""
        tf = self.tf[index]
        norm = self.k1 * (1.0 - self.b + self.b * self.lengths[index] / self.avgdl)
        total = 0.0
        for term in dict.fromkeys(query):
            f = tf.get(term, 0)
            if f:
                total += self.idf(term) * f * (self.k1 + 1.0) / (f + norm)
        return total

    def scores(self, query: Sequence[str]) -> list[float]:
        """Scores of every document."""
        return [self.score(query, i) for i in range(self.n_docs)]

    def best(self, query: Sequence[str]) -> tuple[int, float]:
        """Index and score of the best document (the earliest on ties); (-1, 0.0) with no documents."""
        best_i, best_s = -1, 0.0
        for i, s in enumerate(self.scores(query)):
            if best_i < 0 or s > best_s:
                best_i, best_s = i, s
        return best_i, best_s


# ---------------------------------------------------------------------------------------------
# Paragraphs and measures
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Paragraph:
    """A non-empty line of a source document and the measures it belongs to."""

    document_id: str
    line: int  # 1-based
    text: str
    measure_ids: tuple[str, ...]


def split_paragraphs(text: str) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of every non-empty line."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def measure_span(source: str, text: str, source_line: int) -> tuple[int, int]:
    """First and last line (1-based, inclusive) of a measure in its source.

    Starts at ``source_line``; the end is where ``text`` ends when it is found verbatim from the start
    of that line on, else ``source_line`` plus the line breaks inside ``text``.
    """
    start_line = max(1, source_line)
    lines = source.split("\n")
    offset = sum(len(line) + 1 for line in lines[: start_line - 1])
    pos = source.find(text, offset) if text else -1
    if pos >= 0:
        first = source.count("\n", 0, pos) + 1
        last = source.count("\n", 0, pos + len(text)) + 1
        return min(first, start_line), last
    return start_line, start_line + (text or "").count("\n")


def heading_line(source: str, first: int, title: str) -> int | None:
    """The measure's own heading: the previous non-empty line when it is just an article and the title."""
    if not title:
        return None
    lines = source.split("\n")
    for n in range(first - 1, 0, -1):
        line = lines[n - 1].strip()
        if line:
            return n if title in line and len(line) <= len(title) + 8 else None
    return None


def build_paragraphs(sources: Mapping[str, str], measures: Iterable[Any]) -> list[Paragraph]:
    """Paragraphs of each document (document id → source text) with the measures overlapping each line.

    ``measures`` are objects with ``id``, ``document_id``, ``source_line``, ``text`` and optionally
    ``title`` (``policies_kb.Measure``).
    """
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for m in measures:
        if m.document_id in sources and m.source_line:
            source = sources[m.document_id]
            first, last = measure_span(source, m.text, m.source_line)
            first = heading_line(source, first, getattr(m, "title", "")) or first
            spans.setdefault(m.document_id, []).append((first, last, m.id))
    out = []
    for doc_id, text in sources.items():
        for line, para in split_paragraphs(text):
            ids = tuple(mid for first, last, mid in spans.get(doc_id, []) if first <= line <= last)
            out.append(Paragraph(doc_id, line, para, ids))
    return out


@dataclass(frozen=True)
class BaselineAnswer:
    """The baseline's answer to one text."""

    paragraph: Paragraph | None
    score: float
    abstained: bool

    @property
    def measure_ids(self) -> tuple[str, ...]:
        """Measures of the best paragraph (none when the baseline abstains)."""
        return () if self.abstained or self.paragraph is None else self.paragraph.measure_ids

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        p = self.paragraph
        return {"document": p.document_id if p else None, "line": p.line if p else None,
                "paragraph": p.text if p else None, "measure_ids": list(self.measure_ids),
                "score": round(self.score, 4), "abstained": self.abstained}


class KeywordBaseline:
    """BM25 over the paragraphs; ``answer(text)`` → best paragraph, its document and score."""

    def __init__(self, paragraphs: Sequence[Paragraph], tokenizer: Any = None,
                 threshold: float = ABSTAIN_THRESHOLD, k1: float = K1, b: float = B) -> None:
        self.paragraphs = list(paragraphs)
        self.tokenize = tokenizer or JiebaTokens()
        self.threshold = threshold
        self.bm25 = BM25([self.tokenize(p.text) for p in self.paragraphs], k1=k1, b=b)

    @classmethod
    def from_kb(cls, kb: Any, sources_dir: Path | None = None, **kwargs: Any) -> KeywordBaseline:
        """The baseline over the KB's four source files."""
        from policies_kb.paths import SOURCES_DIR

        folder = Path(sources_dir or SOURCES_DIR)
        sources = {doc.id: (folder / doc.source).read_text(encoding="utf-8") for doc in kb.documents.values()}
        return cls(build_paragraphs(sources, kb.measures), **kwargs)

    def answer(self, text: str) -> BaselineAnswer:
        """The best paragraph for a question."""
        index, score = self.bm25.best(self.tokenize(text))
        paragraph = self.paragraphs[index] if index >= 0 else None
        return BaselineAnswer(paragraph, score, abstained=paragraph is None or score <= self.threshold)


def score_baseline(case: Any, answer: BaselineAnswer) -> bool:
    """policy: the best paragraph belongs to a cite_any (or cite_first) measure; unstated: never (a paragraph
    cannot say that the documents do not state something); otherwise: the baseline abstained."""
    if case.category == "unstated":
        return False
    if case.is_policy:
        return bool(set(answer.measure_ids) & set(getattr(case, "cite_first", ()) or case.cite_any))
    return answer.abstained
