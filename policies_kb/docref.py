"""A document named by description instead of its 文号: 上海市知识产权局2023年那个意见, 2017年那个试点城市的通知.

Each document is described by its own record: the issuers (and the agencies' other names), the year, the
kind of document its title ends with (意见, 通知, 方案 …), the region, and the words (3+ characters) of its titles that no
other document's title has. A question that speaks of a document (意见, 通知, 方案, 文件 …) and whose
features point to one document clearly more than to any other is scoped to that document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Set

DOCUMENT_NOUN = re.compile(r"意见|通知|方案|文件|措施|办法|规划|决定|文$|那个文|这个文|[0-9]+号文")
KIND = re.compile(r"(意见|通知|实施方案|方案|措施|办法|规划|决定)(?:》)?$")
YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
MIN_SCORE = 3  # distinctive title word (2) + one more feature, or issuer (2) + one more
WEIGHTS = {"title": 2, "issuer": 2, "year": 1, "kind": 1, "region": 1}


@dataclass(frozen=True)
class DocumentFeatures:
    """What describes each document, computed once per knowledge base."""

    distinctive: Dict[str, List[str]]  # document id → words (3+ characters) only its titles and 文号 prefix have
    issuers: Dict[str, Set[str]]  # document id → agency ids of its issuers
    issuer_names: List[str]  # every name of every issuer, longest first (blanked before title words are read)


def document_features(kb: Any) -> DocumentFeatures:
    """The features of every document of a knowledge base.

    Title words are jieba's words of the titles plus the KB's own terms found in them (专精特新, 试点城市).
    """
    vocabulary = [w for w in kb.vocabulary if len(w) >= 4]
    texts = {doc_id: f"{doc.title} {doc.short_title}" for doc_id, doc in kb.documents.items()}
    distinctive, issuers = {}, {}
    for doc_id, doc in kb.documents.items():
        own = set(kb.tokenizer.words(texts[doc_id])) | {w for w in vocabulary if w in texts[doc_id]}
        if doc.doc_number and "〔" in doc.doc_number:
            own.add(doc.doc_number.split("〔")[0])
        others = " ".join(t for other, t in texts.items() if other != doc_id)
        distinctive[doc_id] = sorted(w for w in own if len(w) >= 3 and w not in others)
        issuers[doc_id] = {a.id for name in doc.issuers for a in [kb.resolve_agency(name)] if a}
    names = {n for ids in issuers.values() for agency_id in ids for n in kb.agencies[agency_id].names()}
    return DocumentFeatures(distinctive, issuers, sorted(names, key=len, reverse=True))


def without_issuers(features: DocumentFeatures, text: str) -> str:
    """The text with the issuers' names blanked: 上海市知识产权局 does not speak of a title with 知识产权局 in it."""
    for name in features.issuer_names:
        if name in text:
            text = text.replace(name, " " * len(name))
    return text


def title_words_named(masked: str, words: List[str]) -> List[str]:
    """The distinctive title words a text contains, not counting one inside another (专精特新 in 专精特新中小企业)."""
    found = [w for w in words if w in masked]
    return [w for w in found if not any(w != other and w in other for other in found)]


def document_scores(kb: Any, text: str, features: DocumentFeatures) -> Dict[str, int]:
    """How strongly the text describes each document (0 when it does not speak of a document at all).

    It speaks of a document when it says 意见/通知/方案/文件 …, or names two words only one title has
    (战略推进工程 … 试点城市).
    """
    if not text:
        return {}
    masked = without_issuers(features, text)
    if not DOCUMENT_NOUN.search(text) and not any(
            len(title_words_named(masked, words)) >= 2 for words in features.distinctive.values()):
        return {}
    agency_ids = {a.id for a in kb.agencies_in(text)}
    years = set(YEAR.findall(text))
    region = kb.region_in(text)
    scores: Dict[str, int] = {}
    for doc_id, doc in kb.documents.items():
        score = WEIGHTS["title"] * len(title_words_named(masked, features.distinctive.get(doc_id, [])))
        if features.issuers[doc_id] & agency_ids:
            score += WEIGHTS["issuer"]
        if str(doc.date.year) in years:
            score += WEIGHTS["year"]
        kind = KIND.search(doc.title)
        if kind and kind.group(1) in text:
            score += WEIGHTS["kind"]
        if region and region == doc.region:
            score += WEIGHTS["region"]
        scores[doc_id] = score
    return scores


def described_documents(kb: Any, text: str, features: DocumentFeatures) -> List[str]:
    """The one document a question describes, if its features point there clearly."""
    scores = document_scores(kb, text, features)
    if not scores:
        return []
    ranked: Sequence = sorted(scores.items(), key=lambda item: -item[1])
    best_id, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    if best >= MIN_SCORE and best > second:
        return [best_id]
    # a word only this document's title has (试点城市 …的文件), and nothing pointing elsewhere
    named_by_title = bool(title_words_named(without_issuers(features, text), features.distinctive.get(best_id, [])))
    return [best_id] if named_by_title and second == 0 else []
