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
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluation.baseline import (
    ABSTAIN_THRESHOLD,
    K1,
    B,
    BaselineAnswer,
    KeywordBaseline,
    score_baseline,
)
from evaluation.scoring import (
    SILENT_CATEGORIES,
    Case,
    CitationIndex,
    Conversation,
    ConversationScore,
    TurnScore,
    breakdown,
    load_multi_turn,
    load_single_turn,
    rate,
    score_answer,
    summarise_multi,
    summarise_single,
    unknown_ids,
)
from rasa_stores.events_table import select_sql

EVAL_DIR = ROOT / "tests" / "eval"
RASA = Path(sys.executable).parent / "rasa"
TARGETS = {"macro_f1": 0.95, "single_turn": 0.95, "multi_turn": 0.90, "oos_no_citation": 1.0}


# ---------------------------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------------------------
def width(text: str) -> int:
    """Terminal columns of a text (a CJK character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: Any, cols: int, right: bool = False) -> str:
    """Text padded to a number of terminal columns."""
    text = str(text)
    fill = " " * max(0, cols - width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned table; the first column left-aligned, the others right-aligned."""
    cols = [max(width(str(x)) for x in [h, *[r[i] for r in rows]]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, cols[i], right=i > 0) for i, h in enumerate(headers)),
             "  ".join("-" * c for c in cols)]
    lines += ["  ".join(pad(x, cols[i], right=i > 0) for i, x in enumerate(row)) for row in rows]
    return "\n".join(lines)


def pct(value: float | None) -> str:
    """A rate as a percentage, '-' when undefined."""
    return "-" if value is None else f"{100 * value:.1f}%"


def frac(row: dict[str, Any]) -> str:
    """'correct/n (xx.x%)'."""
    return f"{row['correct']}/{row['n']} ({pct(row['accuracy'])})"


def one_line(text: str, limit: int = 220) -> str:
    """A bot text on one line, shortened."""
    flat = " ⏎ ".join(part.strip() for part in (text or "").splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def duration(seconds: float) -> str:
    """12m34s."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def section(title: str) -> None:
    """A section header."""
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)


def now() -> str:
    """Local time, ISO 8601 with offset."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def config_fingerprint() -> str:
    """Short sha256 of config.yml (the NLU pipeline a cross-validation used)."""
    import hashlib

    path = ROOT / "config.yml"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else ""


def fingerprint(model: Path | None = None) -> dict[str, str]:
    """Short sha256 of the code and files the answers depend on (the tree changes between runs).

    data/ is left out on purpose: the training data is only read through Rasa commands.
    """
    import hashlib

    groups = {
        "actions": sorted((ROOT / "actions").glob("*.py")),
        "policies_kb": sorted([*(ROOT / "policies_kb").glob("*.py"), *(ROOT / "policies_kb" / "data").rglob("*.yml")]),
        "domain_config": [ROOT / "domain.yml", ROOT / "config.yml"],
        "eval_set": sorted(EVAL_DIR.glob("*.yml")),
    }
    out = {}
    for name, files in groups.items():
        digest = hashlib.sha256()
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        out[name] = digest.hexdigest()[:12]
    if model and model.is_file():
        digest = hashlib.sha256()
        with open(model, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out["model"] = digest.hexdigest()[:12]
    return out


# ---------------------------------------------------------------------------------------------
# 1. NLU cross-validation
# ---------------------------------------------------------------------------------------------
def nlu_command(folds: int, out_dir: Path) -> list[str]:
    """The rasa command of the cross-validation."""
    return [str(RASA), "test", "nlu", "--nlu", "data", "--config", "config.yml", "--cross-validation",
            "--folds", str(folds), "--out", str(out_dir)]


def parse_intent_report(report: dict[str, Any]) -> dict[str, Any]:
    """Macro/weighted F1, accuracy and per-intent figures from Rasa's intent_report.json."""
    per_intent = {}
    for name, row in report.items():
        if name in ("accuracy", "macro avg", "weighted avg", "micro avg") or not isinstance(row, dict):
            continue
        per_intent[name] = {"f1": row.get("f1-score"), "precision": row.get("precision"),
                            "recall": row.get("recall"), "support": row.get("support"),
                            "confused_with": row.get("confused_with") or {}}
    macro = (report.get("macro avg") or {}).get("f1-score")
    if macro is None and per_intent:
        macro = sum(r["f1"] or 0.0 for r in per_intent.values()) / len(per_intent)
    return {"macro_f1": macro, "weighted_f1": (report.get("weighted avg") or {}).get("f1-score"),
            "accuracy": report.get("accuracy") if not isinstance(report.get("accuracy"), dict)
            else report["accuracy"].get("f1-score"),
            "per_intent": per_intent}


def run_nlu(folds: int, out: Path) -> dict[str, Any]:
    """Run the cross-validation, keep its log, read intent_report.json, copy the confusion matrix."""
    nlu_dir = out / "nlu"
    nlu_dir.mkdir(parents=True, exist_ok=True)
    report_path = nlu_dir / "intent_report.json"
    log_path = nlu_dir / "rasa_test_nlu.log"
    cmd = nlu_command(folds, nlu_dir)
    config_sha = config_fingerprint()
    print(f"$ {' '.join(cmd)}\n  (log: {log_path}; {folds} full trainings, this takes a while)", flush=True)
    started, t0, wall0 = now(), time.monotonic(), time.time()
    env = dict(os.environ, SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONDONTWRITEBYTECODE="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(120):
                print(f"  … {duration(time.monotonic() - t0)} elapsed; last log line: {_last_line(log_path)}", flush=True)

        beat = threading.Thread(target=heartbeat, daemon=True)
        beat.start()
        try:
            code = proc.wait()
        finally:
            stop.set()
    seconds = time.monotonic() - t0
    print(f"rasa test nlu finished with exit code {code} in {duration(seconds)}", flush=True)
    fresh = report_path.exists() and report_path.stat().st_mtime >= wall0 - 1
    if code != 0 or not fresh:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"NLU cross-validation failed (exit {code}); end of {log_path}:\n{tail}")
    result = parse_intent_report(json.loads(report_path.read_text(encoding="utf-8")))
    matrix = nlu_dir / "intent_confusion_matrix.png"
    if matrix.exists():
        shutil.copyfile(matrix, out / "intent_confusion_matrix.png")
    result.update({"folds": folds, "seconds": round(seconds, 1), "started_at": started, "finished_at": now(),
                   "report": str(report_path.relative_to(ROOT) if report_path.is_relative_to(ROOT) else report_path),
                   "confusion_matrix": str(out / "intent_confusion_matrix.png") if matrix.exists() else None,
                   "command": " ".join(cmd), "config_sha": config_sha})
    return result


def _last_line(path: Path) -> str:
    """The last non-empty line of a log (progress bars split on carriage returns)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 4000))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    parts = [p.strip() for p in tail.replace("\r", "\n").splitlines() if p.strip()]
    return one_line(parts[-1], 140) if parts else ""


def print_nlu(nlu: dict[str, Any]) -> None:
    """Per-intent F1 (worst first) and macro-F1."""
    rows = []
    for name, r in sorted(nlu["per_intent"].items(), key=lambda kv: (kv[1]["f1"] or 0.0, kv[0])):
        confused = sorted((r["confused_with"] or {}).items(), key=lambda kv: -kv[1])[:2]
        rows.append([name, r["support"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
                     ", ".join(f"{k}×{v}" for k, v in confused)])
    print(table(["intent", "n", "precision", "recall", "F1", "confused with"], rows))
    mark = "meets" if (nlu["macro_f1"] or 0) >= TARGETS["macro_f1"] else "BELOW"
    print(f"\nmacro-F1 {nlu['macro_f1']:.4f} ({mark} the target ≥ {TARGETS['macro_f1']}); "
          f"weighted-F1 {nlu['weighted_f1']:.4f}; accuracy {nlu['accuracy']:.4f}; "
          f"{nlu['folds']} folds in {duration(nlu['seconds'])}")


# ---------------------------------------------------------------------------------------------
# 2. Answers through the running assistant
# ---------------------------------------------------------------------------------------------
class RestClient:
    """Sends messages to Rasa's REST channel."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def say(self, sender: str, text: str) -> list[dict]:
        """The bot's messages for one user message (one retry on a connection problem)."""
        for attempt in (1, 2):
            try:
                response = self.session.post(f"{self.base_url}/webhooks/rest/webhook",
                                             json={"sender": sender, "message": text}, timeout=self.timeout)
                response.raise_for_status()
                return response.json()
            except (requests.ConnectionError, requests.Timeout):
                if attempt == 2:
                    raise
                time.sleep(2)
        return []

    def status(self) -> dict[str, Any]:
        """Rasa's /status (model file and id), {} when it is not available."""
        try:
            response = self.session.get(f"{self.base_url}/status", timeout=10)
            return response.json() if response.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            return {}


def ask(client: RestClient, sender: str, case: Case, index: CitationIndex,
        visible_text: Callable[[list[dict]], str]) -> TurnScore:
    """Send one case and score the reply."""
    t0 = time.monotonic()
    try:
        messages = client.say(sender, case.text)
        error = ""
    except requests.RequestException as exc:
        messages, error = [], f"{type(exc).__name__}: {exc}"
    score = score_answer(case, visible_text(messages), messages, index, seconds=time.monotonic() - t0, error=error)
    score.sender = sender
    return score


def tracker_traces(db_path: Path, senders: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per sender, one record per user message: intent, confidence, top non-fallback intent, actions.

    Read from the stack's SQLite tracker store after the run (only for a stack this runner started).
    """
    import sqlite3

    out: dict[str, list[dict[str, Any]]] = {}
    if not db_path.is_file():
        return out
    wanted = set(senders)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(select_sql(("sender_id", "type_name", "action_name", "data"))).fetchall()
    for sender, kind, action, data in rows:
        if sender not in wanted:
            continue
        turns = out.setdefault(sender, [])
        if kind == "user":
            try:
                event = json.loads(data)
            except ValueError:
                event = {}
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            turns.append({"intent": intent.get("name"), "confidence": _round(intent.get("confidence")),
                          "top_intent": ranking[0].get("name") if ranking else intent.get("name"),
                          "top_confidence": _round(ranking[0].get("confidence")) if ranking else _round(intent.get("confidence")),
                          "entities": [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []],
                          "actions": [], "model_id": (event.get("metadata") or {}).get("model_id")})
        elif kind == "action" and turns and action not in ("action_listen", None):
            turns[-1]["actions"].append(action)
    return out


def _round(value: Any) -> Any:
    """A confidence rounded for reading."""
    return round(value, 3) if isinstance(value, (int, float)) else value


def attach_traces(singles: Sequence[TurnScore], convs: Sequence[ConversationScore], db_path: Path) -> bool:
    """Fill TurnScore.trace from the tracker store; whether anything was found."""
    senders = [s.sender for s in singles] + [t.sender for c in convs for t in c.turns]
    traces = tracker_traces(db_path, senders)
    for score in singles:
        turns = traces.get(score.sender) or []
        score.trace = turns[0] if turns else {}
    for conv in convs:
        for n, turn in enumerate(conv.turns):
            turns = traces.get(turn.sender) or []
            turn.trace = turns[n] if n < len(turns) else {}
    return bool(traces)


def trace_text(score: TurnScore) -> str:
    """'intent ask_x 0.91 → action_y' (with the top intent when NLU fell back)."""
    t = score.trace
    if not t:
        return ""
    intent = f"{t['intent']} {t['confidence']}"
    if t["intent"] == "nlu_fallback":
        intent += f" (top {t['top_intent']} {t['top_confidence']})"
    entities = f" [{', '.join(t['entities'])}]" if t.get("entities") else ""
    return f"intent {intent}{entities} → {', '.join(t['actions']) or '-'}"


def run_answers(client: RestClient, cases: Sequence[Case], conversations: Sequence[Conversation],
                index: CitationIndex, visible_text: Callable[[list[dict]], str]
                ) -> tuple[list[TurnScore], list[ConversationScore]]:
    """Every single-turn case with a fresh sender id; every conversation with one sender id."""
    run_id = uuid.uuid4().hex[:8]
    singles = []
    for n, case in enumerate(cases, start=1):
        singles.append(ask(client, f"eval-{run_id}-{case.id}", case, index, visible_text))
        if n % 50 == 0:
            print(f"  {n}/{len(cases)} single-turn cases", flush=True)
    convs = []
    for conv in conversations:
        sender = f"eval-{run_id}-{conv.id}"
        convs.append(ConversationScore(conv.id, [ask(client, sender, turn, index, visible_text) for turn in conv.turns],
                                       conv.persona))
    print(f"  {len(conversations)} conversations done", flush=True)
    return singles, convs


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


# ---------------------------------------------------------------------------------------------
# 3. Baseline
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
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
        for key in ("model", "target", "single_turn_accuracy", "single_turn_strict_accuracy",
                    "single_turn_payload_accuracy", "multi_turn_accuracy", "multi_turn_turn_accuracy",
                    "oos_no_citation_rate", "answers", "baseline"):
            if key in earlier:
                summary[key] = earlier[key]
        if "answers" in summary:
            summary["answers"] = dict(summary["answers"], reused_from_run_finished_at=earlier.get("finished_at"))
    else:
        from policies_kb import load_kb
        from devstack.local import Stack
        from devstack.processes import MODEL
        from devstack.replies import visible_text

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
                return 1
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

        baseline = KeywordBaseline.from_kb(kb)
        b_answers, b_correct, b_figures = run_baseline(baseline, cases, conversations)
        print_answers(singles, convs, single_summary, multi_summary, b_correct)

        section("3. Keyword baseline (BM25 over paragraphs, jieba default dictionary)")
        print_baseline(b_figures, single_summary, multi_summary)

        traced_ids = {t.trace.get("model_id") for t in [*singles, *(t for c in convs for t in c.turns)] if t.trace}
        model = {"path": model_path or status.get("model_file"),
                 "model_id": status.get("model_id") or (sorted(i for i in traced_ids if i)[:1] or [None])[0],
                 "status_model_file": status.get("model_file"),
                 "fingerprint": fingerprint(Path(model_path) if model_path else None)}
        if model_path and Path(model_path).exists():
            model["mtime"] = dt.datetime.fromtimestamp(Path(model_path).stat().st_mtime).astimezone().isoformat(timespec="seconds")
        answers_doc = {
            "generated_at": now(), "target": args.target or "stack", "model": model,
            "scoring": "cited = measures whose full citation (kb.citation) occurs in the visible text; "
                       "see evaluation/scoring.py",
            "single_turn": [dict(x.to_dict(), prefix=x.prefix, baseline=b_answers[x.id].to_dict(),
                                 baseline_correct=b_correct[x.id]) for x in singles],
            "multi_turn": [dict(c.to_dict(), baseline_correct=all(b_correct[t.id] for t in c.turns),
                                turns=[dict(t.to_dict(), baseline=b_answers[t.id].to_dict(),
                                            baseline_correct=b_correct[t.id]) for t in c.turns])
                           for c in convs],
        }
        (out / "answers.json").write_text(json.dumps(answers_doc, ensure_ascii=False, indent=1), encoding="utf-8")
        summary.update({
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
        })

    summary["finished_at"] = now()
    summary["targets"] = TARGETS
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")

    section("4. Summary")
    print_summary(summary)
    print(f"\nwritten: {out / 'summary.json'}" + (f", {out / 'answers.json'}" if not args.skip_answers else "")
          + (f", {out / 'intent_confusion_matrix.png'}" if nlu and nlu.get("confusion_matrix") else ""))
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
