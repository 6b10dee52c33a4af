"""The printed table, the targets, the prod/default comparison and the latency figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

TARGETS_TEXT = {
    "p95_1_user": "1 user: p95 ≤ 40 ms",
    "errors_throughput_10_users": "10 users: 0 errors and ≥ 70 turns/s",
    "prod_50_users": "prod, 50 users: 0 errors and ≥ 1.5× default turns/s",
    "rasa_memory": "Rasa server peak RSS < 1.2 GB (per process)",
    "training": "training < 3 min",
}


def _level(result: dict, users: int) -> Optional[dict]:
    return next((lvl for lvl in result.get("levels", []) if lvl["users"] == users), None)


def evaluate_targets(result: dict, default_latest: Optional[dict]) -> List[dict]:
    """Each target with the measured value and whether it is met (None: not measured here). Not asserted."""
    targets = []
    one = _level(result, 1)
    value = one["latency_ms"]["p95"] if one else None
    targets.append({"id": "p95_1_user", "target": TARGETS_TEXT["p95_1_user"],
                    "value": f"p95 {value} ms" if value is not None else None,
                    "met": (value <= 40) if value is not None else None})
    ten = _level(result, 10)
    if ten:
        met = ten["errors"] == 0 and (ten["turns_per_s"] or 0) >= 70
        value = f"{ten['errors']} errors, {ten['turns_per_s']} turns/s"
    else:
        met, value = None, None
    targets.append({"id": "errors_throughput_10_users", "target": TARGETS_TEXT["errors_throughput_10_users"],
                    "value": value, "met": met})
    met, value = None, None
    if result["setup"] == "prod":
        fifty = _level(result, 50)
        base = _level(default_latest, 50) if default_latest else None
        if fifty and base and base.get("turns_per_s"):
            ratio = fifty["turns_per_s"] / base["turns_per_s"]
            met = fifty["errors"] == 0 and ratio >= 1.5
            value = f"{fifty['errors']} errors, {ratio:.2f}× default ({fifty['turns_per_s']} vs {base['turns_per_s']} turns/s)"
        elif fifty:
            value = f"{fifty['errors']} errors, {fifty['turns_per_s']} turns/s (no default run at 50 users to compare)"
    targets.append({"id": "prod_50_users", "target": TARGETS_TEXT["prod_50_users"], "value": value, "met": met})
    rasa = result.get("memory", {}).get("rasa")
    if rasa:
        mb = rasa["peak_rss_mb_largest_process"]
        total = "" if rasa["processes"] == 1 else f"; all {rasa['processes']} Rasa processes together {rasa['peak_rss_mb']} MiB"
        targets.append({"id": "rasa_memory", "target": TARGETS_TEXT["rasa_memory"],
                        "value": f"{mb} MiB ({mb * 2**20 / 1e9:.2f} GB) per Rasa server process{total}",
                        "met": mb * 2**20 < 1.2e9})
    else:
        targets.append({"id": "rasa_memory", "target": TARGETS_TEXT["rasa_memory"], "value": None, "met": None})
    training = result.get("training") or {}
    seconds = training.get("seconds")
    if seconds is not None and training.get("from_cache"):
        value, met = f"{seconds} s, with Rasa's cache (not from scratch: --measure-training)", None
    else:
        value, met = (f"{seconds} s", seconds < 180) if seconds is not None else (None, None)
    targets.append({"id": "training", "target": TARGETS_TEXT["training"], "value": value, "met": met})
    return targets


def comparison(latest: Dict[str, dict]) -> Optional[dict]:
    """prod / default turns per second at every level both have (from the latest-<setup>.json files)."""
    if "prod" not in latest or "default" not in latest:
        return None
    rows = {}
    for lvl in latest["prod"].get("levels", []):
        base = _level(latest["default"], lvl["users"])
        if base and base.get("turns_per_s") and lvl.get("turns_per_s") is not None:
            rows[str(lvl["users"])] = {"prod_turns_per_s": lvl["turns_per_s"], "default_turns_per_s": base["turns_per_s"],
                                       "ratio": round(lvl["turns_per_s"] / base["turns_per_s"], 2)}
    return {"prod_file_timestamp": latest["prod"].get("timestamp"),
            "default_file_timestamp": latest["default"].get("timestamp"), "by_users": rows}


def _fmt(value, width: int, digits: int = 1) -> str:
    if value is None:
        return "—".rjust(width)
    if isinstance(value, float):
        return f"{value:.{digits}f}".rjust(width)
    return str(value).rjust(width)


def print_report(result: dict, out=print) -> None:
    """The human-readable summary."""
    m = result["machine"]
    out("")
    out(f"Benchmark — setup {result['setup']}, target {result['target']}, {result['timestamp']}")
    out(f"machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_total_mb']} MiB RAM, "
        f"load average at start {m['loadavg_at_start']}, CPU speed probe {m.get('cpu_speed_probe_s')} s "
        f"(a fixed Python loop; lower is faster)")
    out("")
    header = (f"{'users':>5} {'turns':>6} {'errors':>6} {'unexp':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8} {'turns/s':>8} {'1st-turn p50':>12} {'rasa cpu':>8} {'act cpu':>7} {'other cpu':>9} "
              f"{'rasa ms/turn':>12} {'act ms/turn':>11}")
    out(header)
    out("-" * len(header))
    for lvl in result["levels"]:
        lat = lvl["latency_ms"]
        cpu = lvl.get("cpu_cores_used", {})
        out(f"{lvl['users']:>5} {lvl['turns']:>6} {lvl['errors']:>6} {lvl['unexpected']:>5} {_fmt(lat['p50'], 8)} "
            f"{_fmt(lat['p95'], 8)} {_fmt(lat['p99'], 8)} {_fmt(lat['max'], 8)} {_fmt(lvl['turns_per_s'], 8, 2)} "
            f"{_fmt(lvl['latency_ms_first_turn']['p50'], 12)} {_fmt(cpu.get('rasa'), 8, 2)} "
            f"{_fmt(cpu.get('actions'), 7, 2)} {_fmt(lvl.get('cpu_cores_other'), 9, 2)} "
            f"{_fmt(lvl.get('cpu_ms_per_turn', {}).get('rasa'), 12)} {_fmt(lvl.get('cpu_ms_per_turn', {}).get('actions'), 11)}")
        if lvl["error_kinds"]:
            out(f"{'':>5} errors: {lvl['error_kinds']}")
    if any("http_429" in lvl["error_kinds"] for lvl in result["levels"]):
        out("HTTP 429: nginx's per-IP limits answered; every simulated user comes from 127.0.0.1. Start the prod "
            "set-up for a benchmark with NGINX_CHAT_RATE=1000r/s NGINX_CHAT_BURST=1000 NGINX_MAX_CONNS=500 make run-prod")
    out("(cpu = CPU cores busy on average during the level; other = every process not part of the assistant or the "
        "benchmark, i.e. contention; ms/turn = CPU milliseconds a process spent per successful turn)")
    probes = [f"{lvl['users']}u {lvl['cpu_speed_probe_s'][0]}→{lvl['cpu_speed_probe_s'][1]} s"
              for lvl in result["levels"] if lvl.get("cpu_speed_probe_s")]
    if probes:
        out("CPU speed probe before→after each level (lower is faster): " + ", ".join(probes))
    busy = [lvl for lvl in result["levels"] if (lvl.get("cpu_cores_other") or 0) > 0.25 * (m["nproc"] or 1)]
    if busy:
        out(f"WARNING: other processes kept {max(lvl['cpu_cores_other'] for lvl in busy)} of {m['nproc']} cores busy "
            f"during {', '.join(str(lvl['users']) for lvl in busy)}-user level(s): the figures are pessimistic; "
            "rerun on a quiet machine")
    out("")
    for lvl in result["levels"]:
        kinds = ", ".join(f"{k} {v['p50']}/{v['p95']}" for k, v in lvl["latency_ms_by_kind"].items())
        out(f"{lvl['users']:>3} users, p50/p95 ms by kind: {kinds}")
    out("")
    cold = result.get("cold_start")
    if cold:
        out(f"cold start (command start → first successful answer): {cold['cold_start_s']} s "
            f"(ready: {cold['ready_s']}); first answer took {cold['first_answer_latency_ms']} ms, "
            f"the next {cold['second_answer_latency_ms']} ms, steady single-user median "
            f"{cold['steady_single_user_ms_median']} ms")
    else:
        first = result.get("first_answer") or {}
        out(f"cold start: not measured (the benchmark did not start the target); first answer of this run "
            f"{first.get('latency_ms')} ms")
    out("")
    out(f"{'process':<9} {'peak RSS MiB':>12} {'largest proc':>12} {'procs':>5}")
    for role, mem in result.get("memory", {}).items():
        out(f"{role:<9} {mem['peak_rss_mb']:>12} {mem['peak_rss_mb_largest_process']:>12} {mem['processes']:>5}")
    if not result.get("memory"):
        out("(no processes found to sample; pass --pids rasa=PID;actions=PID;web=PID)")
    training = result.get("training") or {}
    out("")
    out(f"training: {training.get('seconds')} s ({training.get('source') or training.get('note')})")
    out("")
    out("targets (reported, not asserted):")
    for t in result["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        out(f"  [{mark:>6}] {t['target']:<55} {t['value'] or '—'}")
    comp = result.get("comparison")
    if comp and comp["by_users"]:
        out("")
        out("prod / default turns/s (latest-prod.json vs latest-default.json):")
        for users, row in comp["by_users"].items():
            out(f"  {users:>3} users: {row['prod_turns_per_s']} / {row['default_turns_per_s']} = {row['ratio']}×")
    out("")
    for key, path in result.get("files", {}).items():
        out(f"{key}: {path}")


def plot_latency(samples: Dict[int, Sequence[float]], path: Path, title: str) -> Optional[Path]:
    """CDF and histogram of the turn latencies, one curve per level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    levels = [u for u in sorted(samples) if len(samples[u])]
    if not levels:
        return None
    fig, (cdf_ax, hist_ax) = plt.subplots(1, 2, figsize=(13, 5))
    low = max(0.5, min(min(samples[u]) for u in levels) * 0.8)
    high = max(max(samples[u]) for u in levels) * 1.2
    bins = np.logspace(np.log10(low), np.log10(high), 60)
    for users in levels:
        data = np.sort(np.asarray(samples[users], dtype=float))
        y = np.arange(1, data.size + 1) / data.size
        p95 = float(np.percentile(data, 95))
        line, = cdf_ax.step(data, y, where="post", label=f"{users} user{'s' if users > 1 else ''} (n={data.size}, p95 {p95:.0f} ms)")
        cdf_ax.plot([p95], [0.95], "o", color=line.get_color())
        hist_ax.hist(data, bins=bins, histtype="step", linewidth=1.5, color=line.get_color(),
                     label=f"{users} user{'s' if users > 1 else ''}")
    for ax in (cdf_ax, hist_ax):
        ax.set_xscale("log")
        ax.axvline(40, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("latency per turn (ms, log scale)")
        ax.grid(True, which="both", alpha=0.3)
    cdf_ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
    cdf_ax.set_ylabel("fraction of turns ≤ x")
    cdf_ax.set_title("CDF (dashed: 40 ms target for 1 user; dot: p95)")
    hist_ax.set_ylabel("turns")
    hist_ax.set_title("histogram")
    cdf_ax.legend(loc="lower right", fontsize=8)
    hist_ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def load_json(path: Path) -> Optional[dict]:
    """A results file, or None."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
