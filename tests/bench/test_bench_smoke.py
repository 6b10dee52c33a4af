"""Smoke test of the benchmark: 1 user × 2 turns against the running stack; checks the JSON's fields, not timings."""

from __future__ import annotations

import json

import pytest

from bench.conversations import load_conversations
from bench.run_bench import parse_args, require_loopback, run

LEVEL_FIELDS = {"users", "turns", "ok", "errors", "error_kinds", "turns_per_s", "latency_ms", "latency_ms_first_turn",
                "latency_ms_by_kind", "latency_ms_by_turn", "cpu_cores_used", "peak_rss_mb"}
LATENCY_FIELDS = {"n", "p50", "p95", "p99", "mean", "min", "max"}


def test_conversations_file_is_valid():
    conversations = load_conversations()
    assert len(conversations) >= 10
    assert all(len(c.turns) >= 3 for c in conversations)


def test_only_loopback_targets():
    require_loopback("http://127.0.0.1:8088")
    require_loopback("http://localhost:5005")
    with pytest.raises(ValueError):
        require_loopback("http://192.0.2.10:5005")


@pytest.mark.stack
def test_bench_smoke(stack, tmp_path):
    args = parse_args(["--target", stack.rasa_url, "--users", "1", "--max-turns", "2", "--duration", "20",
                       "--pause", "0", "--out-dir", str(tmp_path)])
    processes = {name: [proc.pid] for name, proc in stack.procs.items()}
    run(args, processes=processes, log=lambda *_: None)

    latest = tmp_path / "latest-default.json"
    stamped = list(tmp_path.glob("bench-default-*.json"))
    assert latest.exists() and len(stamped) == 1
    assert (tmp_path / "latency-default.png").stat().st_size > 0
    data = json.loads(latest.read_text(encoding="utf-8"))
    assert data == json.loads(stamped[0].read_text(encoding="utf-8"))

    for key in ("schema", "setup", "timestamp", "target", "machine", "config", "cold_start", "first_answer",
                "levels", "memory", "training", "targets", "files"):
        assert key in data, key
    assert data["setup"] == "default"
    assert {"nproc", "memory_total_mb"} <= set(data["machine"])
    assert "seconds" in data["training"]

    (level,) = data["levels"]
    assert set(level) >= LEVEL_FIELDS
    assert level["users"] == 1
    assert level["turns"] == 2
    assert level["errors"] == 0, level["error_kinds"]
    assert set(level["latency_ms"]) >= LATENCY_FIELDS
    assert level["latency_ms"]["n"] == 2
    assert level["latency_ms"]["p50"] > 0

    for role in ("rasa", "actions", "web"):
        assert data["memory"][role]["peak_rss_mb"] > 0, role
    assert {t["id"] for t in data["targets"]} >= {"p95_1_user", "errors_throughput_10_users", "rasa_memory", "training"}
