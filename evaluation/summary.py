"""The evaluation's targets and its final summary table (figure, assistant, baseline, target)."""

from __future__ import annotations

import logging
from typing import Any

from evaluation.fingerprints import config_fingerprint
from evaluation.textout import frac, pct, table

logger = logging.getLogger(__name__)

TARGETS = {"macro_f1": 0.95, "single_turn": 0.95, "multi_turn": 0.90, "oos_no_citation": 1.0}



def print_summary(summary: dict[str, Any]) -> None:
    """The final table: figure, assistant, baseline, target."""
    nlu = summary.get("nlu")
    baseline = summary.get("baseline") or {}
    rows = []
    if nlu:
        note = f" (earlier run, {nlu.get('finished_at')})" if nlu.get("reused_from_run_finished_at") else ""
        if nlu.get("config_sha") != config_fingerprint():
            note += " [config.yml changed since]"
        rows.append([f"NLU macro-F1, {nlu['folds']}-fold CV{note}", f"{nlu['macro_f1']:.4f}", "", f"≥ {TARGETS['macro_f1']}"])
    else:
        rows.append(["NLU macro-F1", "not run (--skip-nlu)", "", f"≥ {TARGETS['macro_f1']}"])
    if "single_turn_accuracy" in summary:
        answers = summary.get("answers") or {}
        st, mt = answers.get("single_turn") or {}, answers.get("multi_turn") or {}
        note = " (earlier run)" if answers.get("reused_from_run_finished_at") else ""
        rows += [
            [f"single-turn accuracy{note}", frac(st["overall"]), pct(baseline.get("single_turn_accuracy")), f"≥ {pct(TARGETS['single_turn'])}"],
            ["single-turn strict (first citation)", frac(st["strict"]), "", ""],
            ["single-turn policy", frac(st["policy"]), pct((baseline.get("policy") or {}).get("accuracy")), ""],
            ["multi-turn conversations", frac(mt["conversations"]), pct(baseline.get("multi_turn_accuracy")), f"≥ {pct(TARGETS['multi_turn'])}"],
            ["multi-turn turns", frac(mt["turns"]), pct((baseline.get("multi_turn_turns") or {}).get("accuracy")), ""],
            ["out-of-scope/chitchat without citation", frac(st["silent_no_citation"]), pct(baseline.get("oos_no_citation_rate")), "100%"],
            ["multi-turn chitchat/oos turns without citation", frac(mt["silent_turns_no_citation"]), pct((baseline.get("multi_turn_silent_turns") or {}).get("accuracy")), "100%"],
        ]
    else:
        rows.append(["answer accuracy", "not run (--skip-answers)", "", ""])
    print(table(["figure", "assistant", "baseline", "target"], rows))
    model = (summary.get("model") or {}).get("path")
    if model:
        print(f"model: {model}")
    prints = (summary.get("model") or {}).get("fingerprint")
    if prints:
        print("fingerprint (sha256, 12 hex): " + ", ".join(f"{k} {v}" for k, v in prints.items()))
    print(f"started {summary['started_at']}, finished {summary['finished_at']}")
