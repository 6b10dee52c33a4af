"""The answer part of the evaluation printed: accuracies per category, topic and turn, then every failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from evaluation.scoring import ConversationScore, TurnScore, rate
from evaluation.textout import frac, one_line, pct, table
from evaluation.traces import trace_text

logger = logging.getLogger(__name__)



def print_answers(singles: Sequence[TurnScore], convs: Sequence[ConversationScore],
                  single_summary: dict[str, Any], multi_summary: dict[str, Any],
                  baseline_single: dict[str, bool]) -> None:
    """Accuracies per category and topic, then every failure."""
    s = single_summary
    print(f"single-turn: {frac(s['overall'])}   strict (first citation expected): {frac(s['strict'])}   "
          f"by payload ids: {frac(s['payload'])}")
    rows = [[cat, r["n"], pct(r["accuracy"]), pct(r["strict_accuracy"]),
             pct(rate(baseline_single[x.id] for x in singles if x.category == cat)["accuracy"])]
            for cat, r in s["by_category"].items()]
    print("\nby category\n" + table(["category", "n", "assistant", "strict", "baseline"], rows))
    rows = [[prefix, r["n"], pct(r["accuracy"]), pct(r["strict_accuracy"]),
             pct(rate(baseline_single[x.id] for x in singles if x.prefix == prefix)["accuracy"])]
            for prefix, r in s["by_prefix"].items()]
    print("\nby topic prefix\n" + table(["prefix", "n", "assistant", "strict", "baseline"], rows))

    failures = [x for x in singles if not x.correct]
    print(f"\nsingle-turn failures ({len(failures)}):")
    for x in failures:
        print_failure(x)
    strict_only = [x for x in singles if x.correct and not x.strict_correct]
    print(f"\ncorrect but not strictly (the first citation is not in cite_any) ({len(strict_only)}):")
    for x in strict_only:
        print(f"- {x.id}  {x.text}\n    first cited {x.cited[0]}; cited {', '.join(x.cited)}; expected {', '.join(x.expected)}")
    disagree = [x for x in singles if x.correct != x.payload_correct]
    if disagree:
        print(f"\nvisible text and payload disagree ({len(disagree)}):")
        for x in disagree:
            print(f"- {x.id}: text {'correct' if x.correct else 'wrong'} (cites [{', '.join(x.cited)}]"
                  f"{'; ' + x.reason if x.reason else ''}), payload {'correct' if x.payload_correct else 'wrong'} "
                  f"([{', '.join(x.payload)}])")

    m = multi_summary
    print(f"\nmulti-turn: conversations {frac(m['conversations'])}   strict {frac(m['conversations_strict'])}   "
          f"by payload {frac(m['conversations_payload'])}   turns {frac(m['turns'])}")
    print("\nper turn position\n" + table(["turn", "n", "assistant", "strict"],
                                          [[k, r["n"], pct(r["accuracy"]), pct(r["strict_accuracy"])]
                                           for k, r in m["turns_by_position"].items()]))
    failed = [c for c in convs if not c.correct]
    print(f"\nfailed conversations ({len(failed)}):")
    for conv in failed:
        print(f"- {conv.id}")
        for t in conv.turns:
            mark = "ok " if t.correct else "ERR"
            cited = ", ".join(t.cited) or "-"
            line = f"    [{mark}] {t.id.rsplit('#', 1)[1]}. {t.text}  → cited {cited}"
            if not t.correct:
                expected = ", ".join(t.expected) if t.expected else f"nothing ({t.category})"
                line += f"\n          expected {expected}; {t.reason}\n          bot: {one_line(t.visible_text)}"
                if t.trace:
                    line += f"\n          {trace_text(t)}"
            print(line)
    print_turn_disagreements(convs)


def print_turn_disagreements(convs: Sequence[ConversationScore]) -> None:
    """Conversation turns where the visible text and the payload give different verdicts."""
    turns = [t for c in convs for t in c.turns if t.correct != t.payload_correct]
    if turns:
        print(f"\nconversation turns where visible text and payload disagree ({len(turns)}): "
              + ", ".join(f"{t.id} (text {'ok' if t.correct else 'wrong'}, payload {'ok' if t.payload_correct else 'wrong'})"
                          for t in turns))


def print_failure(x: TurnScore) -> None:
    """One failed case: text, expected ids, cited ids, bot text."""
    expected = ", ".join(x.expected) if x.expected else f"nothing ({x.category})"
    print(f"- {x.id} [{x.category}] {x.text}\n    expected: {expected}\n    cited:    {', '.join(x.cited) or '-'}"
          f"{'   payload: ' + ', '.join(x.payload) if x.payload != x.cited else ''}   ({x.reason})\n"
          f"    bot: {one_line(x.visible_text)}" + (f"\n    {trace_text(x)}" if x.trace else ""))
