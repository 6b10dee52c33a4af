"""What kind of reply a failed turn got, counted per class: aggregate figures that a locked report may print.

A reply is named by the domain response whose fixed opening it starts with (``utter_not_covered``,
``utter_default``, ``utter_answer_intro`` …), read from domain.yml, so the table needs no case to be shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evaluation.scoring import TurnScore

OPENING_CHARS = 8  # the fixed opening a reply is recognised by
SLOT = re.compile(r"\{[^}]*\}")


def reply_openings(domain: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(opening, response name) for every response text that starts with OPENING_CHARS fixed characters."""
    openings = []
    for name, variants in (domain.get("responses") or {}).items():
        for variant in variants or []:
            text = (variant or {}).get("text") or ""
            fixed = SLOT.split(text, maxsplit=1)[0]
            if len(fixed) >= OPENING_CHARS:
                openings.append((fixed[:OPENING_CHARS], name))
    return sorted(set(openings), key=lambda pair: (-len(pair[0]), pair))


def reply_kind(visible: str, openings: Sequence[tuple[str, str]]) -> str:
    """The response a reply opens with, ``empty`` for no text, ``other`` when none matches."""
    text = (visible or "").strip()
    if not text:
        return "empty"
    return next((name for opening, name in openings if text.startswith(opening)), "other")


def failure_table(turns: Iterable[TurnScore], openings: Sequence[tuple[str, str]]) -> list[list[Any]]:
    """Rows of class, reply kind and count for the failed turns, most frequent first."""
    counts = Counter((t.cls or "-", reply_kind(t.visible_text, openings)) for t in turns if not t.correct)
    return [[cls, kind, n] for (cls, kind), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
