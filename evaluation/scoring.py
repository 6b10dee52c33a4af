"""Scoring of the assistant's answers on the held-out set (tests/eval/): cases, citations, accuracies.

Pure Python (no Rasa, no server): the runner (`evaluation.run_eval`) sends the questions and hands the
bot's messages to these functions.

Rules (tests/eval/README.md, as applied to what a user sees):

- The measures an answer *cites* are the measures whose full citation string (``kb.citation(m)``,
  e.g. ``《…》（沪府办发〔2024〕7号）第(二十六)项``) occurs in the visible text (texts and button
  titles), in order of first occurrence. A citation that only occurs inside a longer citation is not
  counted (so ``…第1条`` is never read out of ``…第11条``).
- policy: correct iff at least one cited id is in ``cite_any``; *strict*: iff the first cited id is.
- out_of_scope / chitchat: correct iff the visible text cites nothing: no full citation, no short
  citation (``kb.short_citation(m)``) and no 文号 year bracket such as ``〔2023〕``.
- The ids of the ``{"type": "kb_answer"}`` custom payload are scored too, as a diagnostic
  (``payload_correct``): the README defines citing by the payload, the lead's brief by the text; the
  two should agree, and every disagreement is worth a look.
- A conversation is correct iff every turn is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import (
    Any,
)

import yaml

POLICY = "policy"
UNSTATED = "unstated"
SILENT_CATEGORIES = ("out_of_scope", "chitchat")
CATEGORIES = (POLICY, UNSTATED, *SILENT_CATEGORIES)

# An explicit "the documents do not state it": the assistant's own wording (utter_aspect_not_stated,
# utter_figures_none, utter_contacts_none, a document's 未载明有效期限) and the usual variants. The mark on
# an inferred agency, （文件未列明责任单位，据条文推定）, is part of every such answer and says nothing about
# the aspect asked: it does not count.
NOT_STATED_RE = re.compile(r"(?:没有|未|并未|均未|都没有)(?:写明|载明|列明|规定|给出具体|明确规定)(?!责任单位)")

# A 文号's year bracket: 〔2023〕 (the standard form), also the look-alikes ［2023］ and [2023].
DOC_NUMBER_RE = re.compile(r"[〔［\[]\s*(?:19|20)\d{2}\s*[〕］\]]")


class EvalSetError(ValueError):
    """The evaluation set does not follow the schema of tests/eval/README.md."""


# ---------------------------------------------------------------------------------------------
# The evaluation set
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One question to score: a single-turn case or one turn of a conversation."""

    id: str
    text: str
    category: str
    cite_any: tuple[str, ...] = ()
    cite_first: tuple[str, ...] = ()  # when set, the first citation must be one of these (ranking)
    cls: str = ""  # failure class of the held-out set (paraphrase, unstated, followup, docref, ranking, typed …)
    persona: str = ""

    @property
    def prefix(self) -> str:
        """The topic prefix of the id (``fin`` for ``fin-001``, ``conv`` for a conversation turn)."""
        return self.id.split("-", 1)[0]

    @property
    def is_policy(self) -> bool:
        """Whether the case expects a citation."""
        return self.category == POLICY


@dataclass(frozen=True)
class Conversation:
    """Turns sent in order to one sender id."""

    id: str
    turns: tuple[Case, ...]
    persona: str = ""


def _case(raw: Mapping[str, Any], case_id: str, where: str) -> Case:
    """A case from its YAML mapping; unknown keys (style, notes) are ignored."""
    if not isinstance(raw, Mapping):
        raise EvalSetError(f"{where}: expected a mapping, got {type(raw).__name__}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise EvalSetError(f"{where}: missing text")
    cite_any = raw.get("cite_any") or []
    if not isinstance(cite_any, list) or not all(isinstance(i, str) for i in cite_any):
        raise EvalSetError(f"{where}: cite_any must be a list of ids")
    cite_first = raw.get("cite_first") or []
    if not isinstance(cite_first, list) or not all(isinstance(i, str) for i in cite_first):
        raise EvalSetError(f"{where}: cite_first must be a list of ids")
    category = raw.get("category") or (POLICY if cite_any else None)
    if category not in CATEGORIES:
        raise EvalSetError(f"{where}: category must be one of {', '.join(CATEGORIES)}, got {category!r}")
    if category == POLICY and not cite_any:
        raise EvalSetError(f"{where}: a policy case needs cite_any")
    if category in SILENT_CATEGORIES and cite_any:
        raise EvalSetError(f"{where}: a {category} case must not have cite_any")
    return Case(id=case_id, text=text, category=category, cite_any=tuple(cite_any), cite_first=tuple(cite_first),
                cls=str(raw.get("class") or ""), persona=str(raw.get("persona") or ""))


def parse_single_turn(data: Mapping[str, Any]) -> list[Case]:
    """The cases of single_turn.yml (already parsed)."""
    cases = []
    seen = set()
    for n, raw in enumerate((data or {}).get("cases") or [], start=1):
        case_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not case_id:
            raise EvalSetError(f"case #{n}: missing id")
        if case_id in seen:
            raise EvalSetError(f"case {case_id}: duplicate id")
        seen.add(case_id)
        cases.append(_case(raw, case_id, f"case {case_id}"))
    return cases


def parse_multi_turn(data: Mapping[str, Any]) -> list[Conversation]:
    """The conversations of multi_turn.yml (already parsed); turn ids are ``conv-01#1`` …"""
    conversations = []
    for n, raw in enumerate((data or {}).get("conversations") or [], start=1):
        conv_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not conv_id:
            raise EvalSetError(f"conversation #{n}: missing id")
        turns = raw.get("turns") or []
        if not turns:
            raise EvalSetError(f"conversation {conv_id}: no turns")
        persona = str(raw.get("persona") or "")
        conversations.append(Conversation(conv_id, tuple(
            _case(dict(turn, persona=turn.get("persona") or persona) if isinstance(turn, Mapping) else turn,
                  f"{conv_id}#{i}", f"conversation {conv_id} turn {i}") for i, turn in enumerate(turns, start=1)
        ), persona))
    return conversations


def load_single_turn(path: Path) -> list[Case]:
    """Read single_turn.yml."""
    return parse_single_turn(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def load_multi_turn(path: Path) -> list[Conversation]:
    """Read multi_turn.yml."""
    return parse_multi_turn(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def unknown_ids(cases: Iterable[Case], known: Iterable[str]) -> list[str]:
    """``case: id`` for every cite_any id the knowledge base does not have (a typo in the set)."""
    known = set(known)
    return [f"{case.id}: {i}" for case in cases for i in case.cite_any if i not in known]


# ---------------------------------------------------------------------------------------------
# Citations in a text
# ---------------------------------------------------------------------------------------------
def _occurrences(text: str, needle: str) -> Iterable[tuple[int, int]]:
    """Every (start, end) of needle in text, overlapping ones included."""
    start = text.find(needle)
    while start >= 0:
        yield start, start + len(needle)
        start = text.find(needle, start + 1)


def _ids_in(text: str, strings: Mapping[str, str]) -> list[str]:
    """Ids whose string occurs in text, by first occurrence; occurrences nested in a longer one are dropped."""
    spans = [(s, e, mid) for mid, needle in strings.items() if needle for s, e in _occurrences(text, needle)]
    kept = [(s, e, mid) for s, e, mid in spans
            if not any(os <= s and e <= oe and (oe - os) > (e - s) for os, oe, _ in spans)]
    ordered: list[str] = []
    for _, _, mid in sorted(kept, key=lambda span: (span[0], -(span[1] - span[0]), span[2])):
        if mid not in ordered:
            ordered.append(mid)
    return ordered


class CitationIndex:
    """Maps citation strings in a text back to measure ids."""

    def __init__(self, citations: Mapping[str, str], short_citations: Mapping[str, str] | None = None) -> None:
        self.citations = dict(citations)
        self.short_citations = dict(short_citations or {})

    @classmethod
    def from_kb(cls, kb: Any) -> CitationIndex:
        """The citations of every measure of a ``policies_kb.KnowledgeBase``."""
        return cls({m.id: kb.citation(m) for m in kb.measures}, {m.id: kb.short_citation(m) for m in kb.measures})

    def cited_ids(self, text: str) -> list[str]:
        """Measures whose full citation occurs in the text, in order of first occurrence."""
        return _ids_in(text or "", self.citations)

    def short_cited_ids(self, text: str) -> list[str]:
        """Measures whose short citation (文号 + article) occurs in the text."""
        return _ids_in(text or "", self.short_citations)


def doc_numbers(text: str) -> list[str]:
    """文号 year brackets (〔2023〕) in a text."""
    return DOC_NUMBER_RE.findall(text or "")


def payload_ids(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids in the ``{"type": "kb_answer"}`` custom payloads of the bot's messages, in order."""
    ids: list[str] = []
    for message in messages or []:
        custom = message.get("custom") if isinstance(message, Mapping) else None
        if isinstance(custom, Mapping) and custom.get("type") == "kb_answer":
            for measure in custom.get("measures") or []:
                mid = measure.get("id") if isinstance(measure, Mapping) else None
                if mid and mid not in ids:
                    ids.append(mid)
    return ids


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------
@dataclass
class TurnScore:
    """The score of one answer."""

    id: str
    text: str
    category: str
    expected: list[str]
    visible_text: str
    cited: list[str]
    payload: list[str]
    short_cited: list[str]
    doc_numbers: list[str]
    correct: bool
    strict_correct: bool
    payload_correct: bool
    reason: str = ""
    seconds: float = 0.0
    error: str = ""
    sender: str = ""
    cls: str = ""
    persona: str = ""
    # Diagnostics filled in by the runner when it can read the tracker store: the NLU intent and
    # confidence, the top non-fallback intent, and the actions the assistant ran for this message.
    trace: dict[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """The topic prefix of the id."""
        return self.id.split("-", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return asdict(self)


def score_answer(case: Case, visible: str, messages: Sequence[Mapping[str, Any]], index: CitationIndex,
                 seconds: float = 0.0, error: str = "") -> TurnScore:
    """Score the bot's reply to one case (see the module docstring for the rules)."""
    cited = index.cited_ids(visible)
    shorts = [i for i in index.short_cited_ids(visible) if i not in cited]
    numbers = doc_numbers(visible)
    in_payload = payload_ids(messages)
    expected = set(case.cite_any)
    first = set(case.cite_first)
    if case.category == UNSTATED:
        correct = bool(NOT_STATED_RE.search(visible or "")) and not error
        strict = correct
        payload_ok = correct
        reason = f"error: {error}" if error else ("" if correct else "no explicit 'not stated'")
    elif case.is_policy:
        correct = bool(expected & set(cited)) and (not first or (bool(cited) and cited[0] in first))
        strict = bool(cited) and cited[0] in (first or expected)
        payload_ok = bool(expected & set(in_payload)) and (not first or (bool(in_payload) and in_payload[0] in first))
        if error:
            reason = f"error: {error}"
        elif not cited:
            reason = "no citation" + (f" (payload: {', '.join(in_payload)})" if in_payload else "")
        elif not expected & set(cited):
            reason = "cited other measures"
        elif not strict:
            reason = f"first citation {cited[0]} not expected first"
        else:
            reason = ""
    else:
        correct = not cited and not shorts and not numbers and not error
        strict = correct
        payload_ok = not in_payload
        leaks = []
        if cited:
            leaks.append(f"cited {', '.join(cited)}")
        if shorts:
            leaks.append(f"short citation of {', '.join(shorts)}")
        if numbers and not cited and not shorts:
            leaks.append(f"文号 {' '.join(numbers)}")
        if error:
            leaks.append(f"error: {error}")
        reason = "; ".join(leaks)
    return TurnScore(id=case.id, text=case.text, category=case.category, expected=list(case.cite_any),
                     visible_text=visible, cited=cited, payload=in_payload, short_cited=shorts,
                     doc_numbers=numbers, correct=correct, strict_correct=strict, payload_correct=payload_ok,
                     reason=reason, seconds=round(seconds, 3), error=error, cls=case.cls, persona=case.persona)


@dataclass
class ConversationScore:
    """The score of one conversation: correct iff every turn is."""

    id: str
    turns: list[TurnScore] = field(default_factory=list)
    persona: str = ""

    @property
    def correct(self) -> bool:
        """Every turn correct."""
        return bool(self.turns) and all(t.correct for t in self.turns)

    @property
    def strict_correct(self) -> bool:
        """Every turn strictly correct."""
        return bool(self.turns) and all(t.strict_correct for t in self.turns)

    @property
    def payload_correct(self) -> bool:
        """Every turn correct by its payload."""
        return bool(self.turns) and all(t.payload_correct for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {"id": self.id, "correct": self.correct, "strict_correct": self.strict_correct,
                "payload_correct": self.payload_correct, "turns": [t.to_dict() for t in self.turns]}


def rate(flags: Iterable[bool]) -> dict[str, Any]:
    """``{"n", "correct", "accuracy"}``; accuracy is None when n is 0."""
    flags = list(flags)
    correct = sum(1 for f in flags if f)
    return {"n": len(flags), "correct": correct, "accuracy": (correct / len(flags)) if flags else None}


def breakdown(items: Sequence[Any], key: Callable[[Any], str],
              flag: Callable[[Any], bool] = lambda s: s.correct,
              strict: Callable[[Any], bool] | None = lambda s: s.strict_correct) -> dict[str, dict[str, Any]]:
    """Accuracy (and strict accuracy) per group, groups in order of first appearance."""
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    out = {}
    for name, members in groups.items():
        row = rate(flag(m) for m in members)
        if strict is not None:
            row["strict_accuracy"] = rate(strict(m) for m in members)["accuracy"]
        out[name] = row
    return out


def summarise_single(scores: Sequence[TurnScore]) -> dict[str, Any]:
    """Overall, strict, by-payload, per category and per topic prefix accuracy of single-turn scores."""
    silent = [s for s in scores if s.category in SILENT_CATEGORIES]
    policy = [s for s in scores if s.category == POLICY]
    return {
        "overall": rate(s.correct for s in scores),
        "strict": rate(s.strict_correct for s in scores),
        "payload": rate(s.payload_correct for s in scores),
        "policy": rate(s.correct for s in policy),
        "policy_strict": rate(s.strict_correct for s in policy),
        "silent_no_citation": rate(s.correct for s in silent),
        "by_category": breakdown(scores, lambda s: s.category),
        "by_prefix": breakdown(scores, lambda s: s.prefix),
        "by_class": breakdown(scores, lambda s: s.cls or "-"),
        "by_persona": breakdown(scores, lambda s: s.persona or "-"),
        "text_payload_disagreements": [s.id for s in scores if s.correct != s.payload_correct],
    }


def summarise_multi(conversations: Sequence[ConversationScore]) -> dict[str, Any]:
    """Conversation accuracy, per-turn accuracy and per-turn accuracy by category."""
    turns = [t for c in conversations for t in c.turns]
    return {
        "conversations": rate(c.correct for c in conversations),
        "conversations_strict": rate(c.strict_correct for c in conversations),
        "conversations_payload": rate(c.payload_correct for c in conversations),
        "turns": rate(t.correct for t in turns),
        "turns_strict": rate(t.strict_correct for t in turns),
        "turns_by_category": breakdown(turns, lambda t: t.category),
        "turns_by_class": breakdown(turns, lambda t: t.cls or "-"),
        "by_persona": breakdown(conversations, lambda c: c.persona or "-"),
        "turns_by_position": breakdown(turns, lambda t: f"turn {t.id.rsplit('#', 1)[1]}"),
        "silent_turns_no_citation": rate(t.correct for t in turns if t.category in SILENT_CATEGORIES),
        "text_payload_disagreements": [t.id for t in turns if t.correct != t.payload_correct],
    }
