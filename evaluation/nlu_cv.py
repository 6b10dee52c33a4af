"""NLU cross-validation: `rasa test nlu --cross-validation`, its intent report read and printed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from evaluation.fingerprints import config_fingerprint
from evaluation.summary import TARGETS
from evaluation.textout import duration, now, one_line, table
from settings import PROJECT_ROOT as ROOT

logger = logging.getLogger(__name__)

RASA = Path(sys.executable).parent / "rasa"



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
