"""`make eval`: NLU cross-validation, answer accuracy on tests/eval/ and a BM25 baseline.

    python -m evaluation.run_eval [--skip-nlu] [--skip-answers] [--folds 5] [--out results/eval]
                                  [--target http://localhost:5005]

1. NLU: ``rasa test nlu --nlu data --config config.yml --cross-validation --folds N`` (slow: N trainings).
2. Answers: every case of tests/eval/single_turn.yml and multi_turn.yml through the REST channel of a
   running assistant (a fresh devstack Stack, or --target), scored by evaluation.scoring.
3. Baseline: BM25 over the paragraphs of the four documents (evaluation.baseline), same cases.
4. A summary table; results/eval/answers.json and results/eval/summary.json.

Targets are printed, not asserted: the exit status is 0 whenever the evaluation ran, 1 when it could not.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.answers_run import evaluate_answers, reused_answers
from evaluation.fingerprints import EVAL_DIR
from evaluation.nlu_cv import print_nlu, run_nlu
from evaluation.summary import TARGETS, print_summary
from evaluation.textout import now, section
from settings import PROJECT_ROOT as ROOT

logger = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.run_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-nlu", action="store_true", help="skip the NLU cross-validation (the slow part)")
    parser.add_argument("--skip-answers", action="store_true", help="skip the answer evaluation and the baseline")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5; each fold trains once)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "eval", help="output folder (default results/eval)")
    parser.add_argument("--target", help="URL of a running Rasa server (e.g. http://localhost:5005) instead of a fresh stack")
    parser.add_argument("--single", type=Path, default=EVAL_DIR / "single_turn.yml", help=argparse.SUPPRESS)
    parser.add_argument("--multi", type=Path, default=EVAL_DIR / "multi_turn.yml", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one reply (default 60)")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def previous_summary(path: Path) -> dict[str, Any]:
    """The summary of an earlier run, to keep the part this run skips."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation; 0 when it ran (whatever the figures), 1 when it could not."""
    args = parse_args(argv)
    out: Path = args.out if args.out.is_absolute() else (Path.cwd() / args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = now()
    earlier = previous_summary(out / "summary.json")
    summary: dict[str, Any] = {"started_at": started}

    # ---- 1. NLU
    if args.skip_nlu:
        nlu = earlier.get("nlu")
        if nlu:
            nlu = dict(nlu, reused_from_run_finished_at=nlu.get("finished_at"))
    else:
        section(f"1. NLU cross-validation ({args.folds} folds)")
        try:
            nlu = run_nlu(args.folds, out)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print_nlu(nlu)
    summary["nlu"] = nlu
    if nlu:
        summary["nlu_macro_f1"] = nlu["macro_f1"]
        summary["nlu_per_intent_f1"] = {k: v["f1"] for k, v in nlu["per_intent"].items()}

    # ---- 2 and 3. answers and baseline
    if args.skip_answers:
        summary.update(reused_answers(earlier))
    else:
        figures = evaluate_answers(args, out)
        if figures is None:
            return 1
        summary.update(figures)

    summary["finished_at"] = now()
    summary["targets"] = TARGETS
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")

    section("4. Summary")
    print_summary(summary)
    print(f"\nwritten: {out / 'summary.json'}" + (f", {out / 'answers.json'}" if not args.skip_answers else "")
          + (f", {out / 'intent_confusion_matrix.png'}" if nlu and nlu.get("confusion_matrix") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
