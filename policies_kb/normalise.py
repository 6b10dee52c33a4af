"""Input as people type it: traditional script, full-width letters, proposal-style titles, pinyin typos.

Every change keeps the text's length (a character for a character, a dropped wrapper for spaces), so a
position found in the normalised text (an NLU entity) holds in the original as well. Quotes shown to
users always come from the KB, never from the normalised question.

- Traditional characters become simplified ones (OpenCC ``t2s``).
- Full-width letters, digits and the ideographic space become their ASCII forms; 五年 becomes 5年.
- A proposal-style title, 关于…的建议/提案/议案, keeps only its subject.
- A pinyin-input typo of a KB term (质压 for 质押, 专例 for 专利) becomes the term: a run of characters
  that the dictionary leaves as single characters (but for a rare word across its edge: 那大|铜) and that
  reads like exactly one term of the vocabulary (the term's characters by their most common toneless
  reading, a typed character by any of its readings: 导行 reads dao-hang as 导航 does) is replaced by that term.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

logger = logging.getLogger(__name__)

PROPOSAL = re.compile(r"^(\s*关于)(.{2,}?)((?:的)?(?:建议|提案|议案)[。.!！]?\s*)$")
CJK = re.compile(r"[\u4e00-\u9fff]")
SMALL_NUMBER_YEARS = re.compile(r"(?<![十百千万零〇两一二三四五六七八九])([一二三四五六七八九])(?=年)")
DIGITS = dict(zip("一二三四五六七八九", "123456789"))
MAX_TERM = 10
TERMS = ""  # the key under which a trie node keeps the terms that end there

Segmenter = Callable[[str], List[str]]  # words of a text in order, dictionary words only (jieba, HMM off)
Frequency = Callable[[str], int]  # a dictionary word's frequency (jieba's counts)
RARE_WORD = 500  # a word this rare (of jieba's 60 million) that straddles a typo's edge does not hide it: 那大|铜 in 那大铜呢


def fold_width(text: str) -> str:
    """Full-width letters and digits as ASCII, the ideographic space as a space (one character each)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\u3000":
            out.append(" ")
        elif 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def arabic_years(text: str) -> str:
    """五年 → 5年, as the documents write periods (授权超过5年); one character for one."""
    return SMALL_NUMBER_YEARS.sub(lambda m: DIGITS[m.group(1)], text)


def strip_proposal(text: str) -> str:
    """关于加强…的建议 → its subject, the wrapper blanked with spaces."""
    match = PROPOSAL.match(text)
    if not match:
        return text
    head, subject, tail = match.groups()
    return " " * len(head) + subject + " " * len(tail)


def load_readings(path: Path) -> Dict[str, Tuple[str, ...]]:
    """Character → its toneless pinyin readings, from a ``char<TAB>reading,reading`` file."""
    readings: Dict[str, Tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        char, _, values = line.partition("\t")
        if char and values:
            readings[char] = tuple(values.split(","))
    return readings


class TextNormaliser:
    """Normalises a question before NLU and search (see the module docstring)."""

    def __init__(self, vocabulary: Iterable[str], readings: Dict[str, Tuple[str, ...]],
                 segment: Optional[Segmenter] = None, frequency: Optional[Frequency] = None) -> None:
        self._readings = readings
        self._segment = segment or list
        self._frequency = frequency or (lambda word: RARE_WORD)
        self._vocabulary = {w for w in vocabulary if 2 <= len(w) <= MAX_TERM and all(CJK.match(c) for c in w)}
        self._trie: dict = {}  # reading → {reading → …, TERMS: {term, …}}: the terms by their characters' first readings
        for term in self._vocabulary:
            node = self._trie
            for ch in term:
                node = node.setdefault(readings.get(ch, (ch,))[0], {})
            node.setdefault(TERMS, set()).add(term)
        self._converter = None
        self._lock = threading.Lock()

    def to_simplified(self, text: str) -> str:
        """Traditional characters as simplified ones, keeping the length."""
        if self._converter is None:
            with self._lock:
                if self._converter is None:
                    import opencc

                    self._converter = opencc.OpenCC("t2s")
        converted = self._converter.convert(text)
        if len(converted) == len(text):
            return converted
        return "".join(c if len(c := self._converter.convert(ch)) == 1 else ch for ch in text)

    def _candidates(self, text: str) -> List[Tuple[int, str]]:
        """(start, term) for every run of CJK characters that reads like exactly one vocabulary term."""
        found: List[Tuple[int, str]] = []
        for start in range(len(text)):
            nodes = [self._trie]
            for length, ch in enumerate(text[start:start + MAX_TERM], start=1):
                if not CJK.match(ch):
                    break
                child = [node.get(reading) for node in nodes for reading in self._readings.get(ch, (ch,))]
                nodes = [node for node in child if node is not None]  # a typed polyphone (导行) reads every way
                if not nodes:
                    break
                if length >= 2:
                    terms = set().union(*(node.get(TERMS, set()) for node in nodes))
                    if len(terms) == 1:
                        found.append((start, terms.pop()))
        return found

    def _word_spans(self, text: str) -> List[Tuple[int, int, str]]:
        """(start, end, word) of the dictionary segmentation; none when it does not cover the text exactly."""
        spans, position = [], 0
        for word in self._segment(text):
            spans.append((position, position + len(word), word))
            position += len(word)
        return spans if position == len(text) else []

    def _unjoined(self, spans: List[Tuple[int, int, str]], start: int, end: int) -> bool:
        """Whether the dictionary joins no characters of [start, end) into a word, but for a rare word that reaches
        one character into it from outside."""
        if not spans:
            return False
        for w_start, w_end, word in spans:
            if w_end <= start or w_start >= end or len(word) == 1:
                continue
            edge = (w_start < start) != (w_end > end) and min(w_end, end) - max(w_start, start) == 1  # one character in
            if not (edge and self._frequency(word) < RARE_WORD):
                return False
        return True

    def fix_typos(self, text: str) -> str:
        """Runs of characters the dictionary cannot join into words, that read like one KB term, become it."""
        candidates = self._candidates(text)
        if not candidates:
            return text
        spans = self._word_spans(text)
        chars = list(text)
        taken = [False] * len(chars)
        for start, term in sorted(candidates, key=lambda c: (-len(c[1]), c[0])):
            end = start + len(term)
            typed = text[start:end]
            if any(taken[start:end]) or typed in self._vocabulary or not self._unjoined(spans, start, end):
                continue
            if not any(a == b for a, b in zip(typed, term)):  # a typo keeps one character (质压, 导行), 是刚 is not 提纲
                continue
            chars[start:end] = list(term)
            taken[start:end] = [True] * len(term)
        return "".join(chars)

    def __call__(self, text: str) -> str:
        """The normalised text, as long as the original."""
        if not text:
            return text or ""
        out = self.fix_typos(strip_proposal(arabic_years(fold_width(self.to_simplified(text)))))
        if len(out) != len(text):  # every step keeps the length; never hand back a shifted text
            logger.warning("normalisation changed the length; original text kept")
            return text
        return out
