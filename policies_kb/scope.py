"""What the documents do not cover although a question sounds close: neighbouring IP matters, other places.

The lists are data (``data/neighbours.yml``, ``data/places.yml``), checked against the sources by the
validator; these functions find them in a (normalised) question.
"""

from __future__ import annotations

import re
from typing import Any, List

MAX_TERM_LENGTH = 12  # longest KB term worth checking around a neighbour term


SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
ASKING = re.compile(r"[？?]|吗|怎么|怎样|如何|什么|啥|哪|多少|几|是否|有没有|能不能|可不可以|要不要")


def asked_part(text: str) -> str:
    """The sentences of a message that ask something; a story told before the question (保荐人说我们…。) is left out."""
    sentences = SENTENCE.findall(text or "")
    asking = [s for s in sentences if ASKING.search(s)]
    return "".join(asking) if asking and len(asking) < len(sentences) else (text or "")


def neighbours_in(kb: Any, text: str) -> List[str]:
    """Neighbour terms in the question (its asking sentences, when they name a subject of their own); an
    occurrence that straddles a KB term (许可备案 in 开放许可备案) is part of that term, not a neighbour."""
    asked = asked_part(text)
    if asked != text and kb.index.query_topics(asked):  # the question names its own subject: the story is background
        text = asked
    found = []
    for term in kb.registry.neighbours:
        start = text.find(term)
        while start >= 0:
            if not straddles_kb_term(kb.vocabulary, text, start, start + len(term)):
                found.append(term)
                break
            start = text.find(term, start + 1)
    return found


def straddles_kb_term(vocabulary: List[str], text: str, start: int, end: int) -> bool:
    """Whether a KB term occurs overlapping [start, end) partly (neither inside it nor around it)."""
    offset = max(0, start - MAX_TERM_LENGTH)
    window = text[offset:end + MAX_TERM_LENGTH]
    for term in vocabulary:
        position = window.find(term)
        while position >= 0:
            t_start, t_end = offset + position, offset + position + len(term)
            overlaps = t_start < end and start < t_end
            nested = (start <= t_start and t_end <= end) or (t_start <= start and end <= t_end)
            if overlaps and not nested:
                return True
            position = window.find(term, position + 1)
    return False


def other_places_in(kb: Any, text: str) -> List[str]:
    """Places outside the documents' regions in the text, unless it also names one of theirs or a shared
    scope (长三角); agency and platform names are not read for places."""
    text = kb.mask_names(text)
    if kb.region_in(text) or any(word in text for word in kb.registry.shared_scope):
        return []
    return [place for place in kb.registry.other_places if place in text]
