"""The BM25 keyword baseline run over the evaluation cases, and its figures beside the assistant's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from evaluation.baseline import ABSTAIN_THRESHOLD, K1, B, BaselineAnswer, KeywordBaseline, score_baseline
from evaluation.scoring import SILENT_CATEGORIES, Case, Conversation, breakdown, rate
from evaluation.textout import frac, table

logger = logging.getLogger(__name__)



def run_baseline(baseline: KeywordBaseline, cases: Sequence[Case], conversations: Sequence[Conversation]
                 ) -> tuple[dict[str, BaselineAnswer], dict[str, bool], dict[str, Any]]:
    """The baseline's answer to every case and turn, whether it is correct, and its figures."""
    answers: dict[str, BaselineAnswer] = {}
    correct: dict[str, bool] = {}
    for case in [*cases, *(t for c in conversations for t in c.turns)]:
        answers[case.id] = baseline.answer(case.text)
        correct[case.id] = score_baseline(case, answers[case.id])
    turns = [t for c in conversations for t in c.turns]
    figures = {
        "single_turn": rate(correct[c.id] for c in cases),
        "policy": rate(correct[c.id] for c in cases if c.is_policy),
        "silent_no_citation": rate(correct[c.id] for c in cases if c.category in SILENT_CATEGORIES),
        "by_category": breakdown(cases, lambda c: c.category, flag=lambda c: correct[c.id], strict=None),
        "by_prefix": breakdown(cases, lambda c: c.prefix, flag=lambda c: correct[c.id], strict=None),
        "multi_turn_conversations": rate(all(correct[t.id] for t in c.turns) for c in conversations),
        "multi_turn_turns": rate(correct[t.id] for t in turns),
        "multi_turn_silent_turns": rate(correct[t.id] for t in turns if t.category in SILENT_CATEGORIES),
        "settings": {"k1": K1, "b": B, "abstain_threshold": ABSTAIN_THRESHOLD,
                     "paragraphs": len(baseline.paragraphs),
                     "tokenizer": "jieba default dictionary, precise mode"},
    }
    return answers, correct, figures


def print_baseline(b: dict[str, Any], single: dict[str, Any], multi: dict[str, Any]) -> None:
    """Baseline figures beside the assistant's."""
    rows = [
        ["single-turn (all)", frac(single["overall"]), frac(b["single_turn"])],
        ["single-turn policy", frac(single["policy"]), frac(b["policy"])],
        ["out-of-scope/chitchat, no citation", frac(single["silent_no_citation"]), frac(b["silent_no_citation"])],
        ["multi-turn conversations", frac(multi["conversations"]), frac(b["multi_turn_conversations"])],
        ["multi-turn turns", frac(multi["turns"]), frac(b["multi_turn_turns"])],
    ]
    print(table(["", "assistant", "baseline"], rows))
    s = b["settings"]
    print(f"\nbaseline: {s['paragraphs']} paragraphs, k1={s['k1']}, b={s['b']}; it stays silent only when its best "
          f"score ≤ {s['abstain_threshold']} (no query word in any paragraph); each turn is scored alone (no context).")
