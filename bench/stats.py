"""Percentiles and per-level summaries of the turn results."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from .load import TurnResult


def latency_summary(values: Iterable[float]) -> dict:
    """n, p50, p95, p99, mean, min, max in ms (None when there are no values)."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "min": None, "max": None}
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    return {"n": int(data.size), "p50": round(float(p50), 1), "p95": round(float(p95), 1),
            "p99": round(float(p99), 1), "mean": round(float(data.mean()), 1),
            "min": round(float(data.min()), 1), "max": round(float(data.max()), 1)}


def summarize_level(results: Sequence[TurnResult], users: int, duration: float, elapsed: float,
                    cpu_cores: Optional[Dict[str, float]] = None, extra: Optional[dict] = None) -> dict:
    """Everything the JSON keeps about one concurrency level."""
    ok = [r for r in results if r.ok]
    errors = Counter(r.error for r in results if not r.ok)
    by_kind: Dict[str, List[float]] = defaultdict(list)
    by_turn: Dict[str, List[float]] = defaultdict(list)
    texts: Dict[str, str] = {}
    for r in ok:
        by_kind[r.kind].append(r.latency_ms)
        key = f"{r.conversation}#{r.turn + 1}"
        by_turn[key].append(r.latency_ms)
        texts[key] = r.text
    # latency of the part of the run where all users were busy (the first and last second trimmed)
    steady = [r.latency_ms for r in ok if r.started >= 1.0 and r.started + r.latency_ms / 1000 <= duration - 0.5]
    summary = {
        "users": users,
        "duration_s": duration,
        "elapsed_s": round(elapsed, 2),
        "turns": len(results),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "unexpected": sum(1 for r in ok if not r.expected),
        "unexpected_turns": dict(Counter(f"{r.conversation}#{r.turn + 1}" for r in ok if not r.expected)),
        "turns_per_s": round(len(ok) / elapsed, 2) if elapsed > 0 else None,
        "latency_ms": latency_summary(r.latency_ms for r in ok),
        "latency_ms_steady": latency_summary(steady),
        "latency_ms_first_turn": latency_summary(r.latency_ms for r in ok if r.turn == 0),
        "latency_ms_later_turns": latency_summary(r.latency_ms for r in ok if r.turn > 0),
        "latency_ms_by_kind": {kind: latency_summary(v) for kind, v in sorted(by_kind.items())},
        "latency_ms_by_turn": {key: {"text": texts[key], **latency_summary(v)} for key, v in sorted(by_turn.items())},
        "cpu_cores_used": cpu_cores or {},
    }
    rate = summary["turns_per_s"]
    summary["cpu_ms_per_turn"] = {role: round(cores * 1000 / rate, 1) for role, cores in (cpu_cores or {}).items()
                                  } if rate else {}
    if extra:
        summary.update(extra)
    return summary
