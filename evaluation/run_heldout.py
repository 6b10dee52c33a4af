"""Answer accuracy on the blind held-out set (tests/eval/heldout/), per failure class and persona, beside BM25.

    python -m evaluation.run_heldout --split dev  [--target URL]   # every miss listed with its reply
    python -m evaluation.run_heldout --split test [--target URL]   # locked: figures only, run counted

The dev split is read and tuned on. The test split is locked: this runner prints only its aggregate
figures (no case, no reply), writes no per-case file for it, and appends one line per run to
``tests/eval/heldout/locked_runs.log`` so that the number of runs is on record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.baseline import KeywordBaseline
from evaluation.heldout import HELDOUT_DIR, round_of
from evaluation.answers_report import print_failure
from evaluation.baseline_run import run_baseline
from evaluation.client import RestClient, run_answers
from evaluation.failure_kinds import failure_table, reply_openings
from evaluation.fingerprints import fingerprint
from evaluation.textout import frac, one_line, pct, section, table
from evaluation.traces import attach_traces, trace_text
from evaluation.scoring import (
    SILENT_CATEGORIES, CitationIndex, ConversationScore, TurnScore, load_multi_turn, load_single_turn, rate,
    summarise_multi, summarise_single,
)

ROOT = Path(__file__).resolve().parent.parent
LOCKED_LOG = HELDOUT_DIR / "locked_runs.log"
TARGETS = {"single_turn": 0.97, "multi_turn": 0.95, "oos_no_citation": 1.0, "unstated": 0.95}


def group_rows(singles: Sequence[TurnScore], key: str, baseline: dict[str, bool]) -> list[list[Any]]:
    """Rows of group, n, assistant, baseline for one attribute of the single-turn scores."""
    groups: dict[str, list[TurnScore]] = {}
    for score in singles:
        groups.setdefault(getattr(score, key) or "-", []).append(score)
    return [[name, len(members), pct(rate(s.correct for s in members)["accuracy"]),
             pct(rate(baseline[s.id] for s in members)["accuracy"])] for name, members in sorted(groups.items())]


def figures(singles: Sequence[TurnScore], convs: Sequence[ConversationScore], baseline: dict[str, bool]
            ) -> dict[str, Any]:
    """The headline figures of a run (assistant and baseline)."""
    turns = [t for c in convs for t in c.turns]
    silent = [s for s in singles if s.category in SILENT_CATEGORIES]
    unstated = [s for s in singles if s.category == "unstated"]
    oos = [s for s in singles if s.category == "out_of_scope"]
    return {
        "single_turn": rate(s.correct for s in singles),
        "single_turn_strict": rate(s.strict_correct for s in singles),
        "conversations": rate(c.correct for c in convs),
        "turns": rate(t.correct for t in turns),
        "out_of_scope_no_citation": rate(s.correct for s in oos),
        "silent_no_citation": rate(s.correct for s in silent),
        "unstated_said_not_stated": rate(s.correct for s in unstated),
        "baseline_single_turn": rate(baseline[s.id] for s in singles),
        "baseline_conversations": rate(all(baseline[t.id] for t in c.turns) for c in convs),
    }


def print_figures(result: dict[str, Any], singles: Sequence[TurnScore], convs: Sequence[ConversationScore],
                  baseline: dict[str, bool]) -> None:
    """Headline figures, then accuracy per class and per persona beside the baseline."""
    f = result
    print(table(["figure", "assistant", "baseline", "target"], [
        ["single-turn", frac(f["single_turn"]), pct(f["baseline_single_turn"]["accuracy"]), f"≥ {pct(TARGETS['single_turn'])}"],
        ["single-turn strict (first citation)", frac(f["single_turn_strict"]), "", ""],
        ["conversations (every turn right)", frac(f["conversations"]), pct(f["baseline_conversations"]["accuracy"]), f"≥ {pct(TARGETS['multi_turn'])}"],
        ["conversation turns", frac(f["turns"]), "", ""],
        ["not covered: no citation", frac(f["out_of_scope_no_citation"]), "", "100%"],
        ["unstated aspect: says 'not stated'", frac(f["unstated_said_not_stated"]), "0.0%", f"≥ {pct(TARGETS['unstated'])}"],
    ]))
    turns = [t for c in convs for t in c.turns]
    print("\nsingle-turn by class\n" + table(["class", "n", "assistant", "baseline"], group_rows(singles, "cls", baseline)))
    print("\nsingle-turn by persona\n" + table(["persona", "n", "assistant", "baseline"], group_rows(singles, "persona", baseline)))
    print("\nconversation turns by class\n" + table(["class", "n", "assistant", "baseline"], group_rows(turns, "cls", baseline)))
    print("\nby writing round\n" + table(["round", "single-turn", "conversations"], round_rows(singles, convs)))
    by_persona: dict[str, list[ConversationScore]] = {}
    for conv in convs:
        by_persona.setdefault(conv.persona or "-", []).append(conv)
    print("\nconversations by persona\n" + table(["persona", "n", "assistant"], [
        [name, len(members), pct(rate(c.correct for c in members)["accuracy"])] for name, members in sorted(by_persona.items())]))


def round_rows(singles: Sequence[TurnScore], convs: Sequence[ConversationScore]) -> list[list[Any]]:
    """Rows of round, single-turn and conversation accuracy per writing round."""
    rounds = sorted({round_of(s.id) for s in singles} | {round_of(c.id) for c in convs})
    return [[r, frac(rate(s.correct for s in singles if round_of(s.id) == r)),
             frac(rate(c.correct for c in convs if round_of(c.id) == r))] for r in rounds]


def print_failure_kinds(singles: Sequence[TurnScore], convs: Sequence[ConversationScore]) -> None:
    """Failed single-turn cases and conversation turns counted by class and by the reply they got (no case shown)."""
    import yaml

    openings = reply_openings(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8")))
    for title, turns in (("single-turn", singles), ("conversation turns", [t for c in convs for t in c.turns])):
        rows = failure_table(turns, openings)
        if rows:
            print(f"\nfailed {title} by class and reply")
            print(table(["class", "reply", "n"], rows))


def print_misses(singles: Sequence[TurnScore], convs: Sequence[ConversationScore]) -> None:
    """Every miss of the dev split with its reply."""
    misses = [s for s in singles if not s.correct]
    print(f"\nsingle-turn misses ({len(misses)}):")
    for score in misses:
        print(f"  <{score.cls}/{score.persona}>", end="")
        print_failure(score)
    failed = [c for c in convs if not c.correct]
    print(f"\nfailed conversations ({len(failed)}):")
    for conv in failed:
        print(f"- {conv.id} <{conv.persona}>")
        for t in conv.turns:
            line = f"    [{'ok ' if t.correct else 'ERR'}] {t.id.rsplit('#', 1)[1]}. <{t.cls}> {t.text}  → cited {', '.join(t.cited) or '-'}"
            if not t.correct:
                line += (f"\n          expected {', '.join(t.expected) or 'nothing'} ({t.category}); {t.reason}"
                         f"\n          bot: {one_line(t.visible_text)}")
                if t.trace:
                    line += f"\n          {trace_text(t)}"
            print(line)


def record_locked_run(result: dict[str, Any], target: str, model: Path | None) -> int:
    """Append one line per locked run to the log; the number of this run."""
    LOCKED_LOG.parent.mkdir(parents=True, exist_ok=True)
    previous = LOCKED_LOG.read_text(encoding="utf-8").splitlines() if LOCKED_LOG.is_file() else []
    number = sum(1 for line in previous if line.startswith("run ")) + 1
    prints = fingerprint(model)
    line = (f"run {number} {dt.datetime.now().astimezone().isoformat(timespec='seconds')} target={target} "
            f"single={frac(result['single_turn'])} conversations={frac(result['conversations'])} "
            f"oos_no_citation={frac(result['out_of_scope_no_citation'])} "
            f"unstated={frac(result['unstated_said_not_stated'])} "
            f"code={prints.get('actions', '')}/{prints.get('policies_kb', '')} model={prints.get('model', '')}\n")
    with LOCKED_LOG.open("a", encoding="utf-8") as log:
        log.write(line)
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.run_heldout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--target", help="URL of a running Rasa server instead of a fresh stack")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "eval-heldout")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--traditional", action="store_true",
                        help="send every question converted to traditional script (OpenCC s2t): it must score as in simplified")
    return parser.parse_args(argv)


def in_traditional(cases: list, conversations: list) -> tuple[list, list]:
    """The cases and conversations with their texts in traditional script (OpenCC s2t)."""
    import dataclasses

    import opencc

    converter = opencc.OpenCC("s2t")
    convert = lambda case: dataclasses.replace(case, text=converter.convert(case.text))  # noqa: E731
    return ([convert(c) for c in cases],
            [dataclasses.replace(conv, turns=tuple(convert(t) for t in conv.turns)) for conv in conversations])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one split; 0 when it ran, 1 when the assistant could not be reached."""
    args = parse_args(argv)
    from policies_kb import load_kb
    from devstack.local import Stack
    from devstack.processes import MODEL
    from devstack.replies import visible_text

    path = HELDOUT_DIR / f"{args.split}.yml"
    cases, conversations = load_single_turn(path), load_multi_turn(path)
    if args.traditional:
        cases, conversations = in_traditional(cases, conversations)
    kb = load_kb()
    index = CitationIndex.from_kb(kb)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    script = " in traditional script" if args.traditional else ""
    section(f"Held-out {args.split} split{script}: {len(cases)} questions, {len(conversations)} conversations")
    stack = None
    if args.target:
        client = RestClient(args.target, args.timeout)
    else:
        workdir = out / "stack"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        try:
            stack = Stack(workdir=workdir).start()
        except RuntimeError as exc:
            print(f"could not start the assistant: {exc}", file=sys.stderr)
            return 1
        client = RestClient(stack.rasa_url, args.timeout)
    t0 = time.monotonic()
    try:
        singles, convs = run_answers(client, cases, conversations, index, visible_text)
    finally:
        if stack is not None:
            stack.stop()
    if stack is not None and args.split == "dev":
        attach_traces(singles, convs, stack.tracker_db)
    _, baseline, _ = run_baseline(KeywordBaseline.from_kb(kb), cases, conversations)
    result = figures(singles, convs, baseline)
    print(f"answers in {time.monotonic() - t0:.0f} s")
    print_figures(result, singles, convs, baseline)
    print_failure_kinds(singles, convs)
    summary = {"split": args.split, "finished_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
               "target": args.target or "stack", "figures": result,
               "single_turn": summarise_single(singles), "multi_turn": summarise_multi(convs)}
    if args.split == "test":
        for key in ("single_turn", "multi_turn"):
            summary[key].pop("text_payload_disagreements", None)
        number = record_locked_run(result, (args.target or "stack") + (" traditional" if args.traditional else ""),
                                   None if args.target else MODEL)
        print(f"\nlocked test split: run {number} on record in {LOCKED_LOG.relative_to(ROOT)} (no case is shown)")
    else:
        print_misses(singles, convs)
        (out / "dev-answers.json").write_text(json.dumps(
            {"single_turn": [s.to_dict() for s in singles], "multi_turn": [c.to_dict() for c in convs]},
            ensure_ascii=False, indent=1), encoding="utf-8")
    (out / f"{args.split}{'-traditional' if args.traditional else ''}-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
