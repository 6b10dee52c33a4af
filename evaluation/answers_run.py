"""Sections 2 and 3 of `make eval`: every case through the assistant (a fresh stack or --target), beside the baseline."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devstack.local import Stack
from devstack.processes import MODEL
from devstack.replies import visible_text
from evaluation.answers_report import print_answers
from evaluation.baseline import BaselineAnswer, KeywordBaseline
from evaluation.baseline_run import print_baseline, run_baseline
from evaluation.client import RestClient, run_answers
from evaluation.fingerprints import fingerprint
from evaluation.scoring import (
    CitationIndex,
    ConversationScore,
    TurnScore,
    load_multi_turn,
    load_single_turn,
    summarise_multi,
    summarise_single,
    unknown_ids,
)
from evaluation.textout import duration, now, section
from evaluation.traces import attach_traces

logger = logging.getLogger(__name__)

REUSED_KEYS = ("model", "target", "single_turn_accuracy", "single_turn_strict_accuracy", "single_turn_payload_accuracy",
               "multi_turn_accuracy", "multi_turn_turn_accuracy", "oos_no_citation_rate", "answers", "baseline")


def reused_answers(earlier: dict[str, Any]) -> dict[str, Any]:
    """--skip-answers: the answer figures of the earlier run, marked as reused."""
    kept = {key: earlier[key] for key in REUSED_KEYS if key in earlier}
    if "answers" in kept:
        kept["answers"] = dict(kept["answers"], reused_from_run_finished_at=earlier.get("finished_at"))
    return kept


def model_record(status: dict[str, Any], model_path: str | None, singles: Sequence[TurnScore],
                 convs: Sequence[ConversationScore]) -> dict[str, Any]:
    """Which model answered: path, id (from /status or the traces), file time and fingerprints."""
    traced_ids = {t.trace.get("model_id") for t in [*singles, *(t for c in convs for t in c.turns)] if t.trace}
    model = {"path": model_path or status.get("model_file"),
             "model_id": status.get("model_id") or (sorted(i for i in traced_ids if i)[:1] or [None])[0],
             "status_model_file": status.get("model_file"),
             "fingerprint": fingerprint(Path(model_path) if model_path else None)}
    if model_path and Path(model_path).exists():
        model["mtime"] = dt.datetime.fromtimestamp(Path(model_path).stat().st_mtime).astimezone().isoformat(timespec="seconds")
    return model


def answers_document(target: str, model: dict[str, Any], singles: Sequence[TurnScore], convs: Sequence[ConversationScore],
                     b_answers: dict[str, BaselineAnswer], b_correct: dict[str, bool]) -> dict[str, Any]:
    """results/eval/answers.json: every case and turn with the assistant's and the baseline's answer."""
    return {
        "generated_at": now(), "target": target, "model": model,
        "scoring": "cited = measures whose full citation (kb.citation) occurs in the visible text; "
                   "see evaluation/scoring.py",
        "single_turn": [dict(x.to_dict(), prefix=x.prefix, baseline=b_answers[x.id].to_dict(),
                             baseline_correct=b_correct[x.id]) for x in singles],
        "multi_turn": [dict(c.to_dict(), baseline_correct=all(b_correct[t.id] for t in c.turns),
                            turns=[dict(t.to_dict(), baseline=b_answers[t.id].to_dict(),
                                        baseline_correct=b_correct[t.id]) for t in c.turns])
                       for c in convs],
    }


def evaluate_answers(args: argparse.Namespace, out: Path) -> dict[str, Any] | None:
    """Run sections 2 and 3, write answers.json; the summary's answer figures, None when the assistant did not start."""
    from policies_kb import load_kb

    kb = load_kb()
    index = CitationIndex.from_kb(kb)
    cases = load_single_turn(args.single)
    conversations = load_multi_turn(args.multi)
    bad = unknown_ids([*cases, *(t for c in conversations for t in c.turns)], (m.id for m in kb.measures))
    if bad:
        print(f"WARNING: ids not in the knowledge base: {'; '.join(bad)}", file=sys.stderr)

    section("2. Answers through the assistant")
    stack = None
    t0 = time.monotonic()
    answers_started = now()
    if args.target:
        client = RestClient(args.target, args.timeout)
        model_path = None
        print(f"target: {args.target}")
    else:
        workdir = out / "stack"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        print(f"starting a stack from {MODEL} (logs in {workdir}) …", flush=True)
        try:
            stack = Stack(workdir=workdir).start()
        except RuntimeError as exc:
            print(f"could not start the assistant: {exc}", file=sys.stderr)
            return None
        print(f"stack ready in {duration(time.monotonic() - t0)} at {stack.rasa_url}", flush=True)
        client = RestClient(stack.rasa_url, args.timeout)
        model_path = str(MODEL)
    try:
        status = client.status()
        print(f"sending {len(cases)} single-turn cases and {len(conversations)} conversations "
              f"({sum(len(c.turns) for c in conversations)} turns) …", flush=True)
        t1 = time.monotonic()
        singles, convs = run_answers(client, cases, conversations, index, visible_text)
        answer_seconds = time.monotonic() - t1
    finally:
        if stack is not None:
            stack.stop()
    print(f"answers collected in {duration(answer_seconds)}")
    if stack is not None and not attach_traces(singles, convs, stack.tracker_db):
        print("(no NLU traces: the tracker store could not be read)")
    single_summary = summarise_single(singles)
    multi_summary = summarise_multi(convs)

    b_answers, b_correct, b_figures = run_baseline(KeywordBaseline.from_kb(kb), cases, conversations)
    print_answers(singles, convs, single_summary, multi_summary, b_correct)

    section("3. Keyword baseline (BM25 over paragraphs, jieba default dictionary)")
    print_baseline(b_figures, single_summary, multi_summary)

    model = model_record(status, model_path, singles, convs)
    doc = answers_document(args.target or "stack", model, singles, convs, b_answers, b_correct)
    (out / "answers.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return {
        "model": model,
        "target": args.target or "stack",
        "single_turn_accuracy": single_summary["overall"]["accuracy"],
        "single_turn_strict_accuracy": single_summary["strict"]["accuracy"],
        "single_turn_payload_accuracy": single_summary["payload"]["accuracy"],
        "multi_turn_accuracy": multi_summary["conversations"]["accuracy"],
        "multi_turn_turn_accuracy": multi_summary["turns"]["accuracy"],
        "oos_no_citation_rate": single_summary["silent_no_citation"]["accuracy"],
        "answers": {"started_at": answers_started, "finished_at": now(), "seconds": round(answer_seconds, 1),
                    "single_turn": single_summary, "multi_turn": multi_summary,
                    "failures": [x.id for x in singles if not x.correct]
                    + [t.id for c in convs for t in c.turns if not t.correct]},
        "baseline": {
            "single_turn_accuracy": b_figures["single_turn"]["accuracy"],
            "multi_turn_accuracy": b_figures["multi_turn_conversations"]["accuracy"],
            "oos_no_citation_rate": b_figures["silent_no_citation"]["accuracy"],
            **b_figures,
        },
    }
