"""`make bench`: latency, throughput and memory of the assistant under 1, 10 and 50 concurrent users.

    python -m bench.run_bench                       # starts the default set-up itself (cold start measured)
    python -m bench.run_bench --setup prod --target http://127.0.0.1:8088
    python -m bench.run_bench --measure-training    # also times `rasa train --force`

Writes results/bench/bench-<setup>-<timestamp>.json, results/bench/latest-<setup>.json and
results/bench/latency-<setup>.png. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence
from urllib.parse import urlparse

import psutil

from settings import PROJECT_ROOT as ROOT

from . import report
from .conversations import DEFAULT_FILE, load_conversations
from .http_client import KeepAliveClient
from .load import run_level, run_loop, send_turn, webhook_url
from .procmon import Discovery, ProcessMonitor, cpu_speed_probe, listening_ports, machine, parse_pids, web_candidates
from .stats import latency_summary, summarize_level
from .training import measure_training, recorded_training

RESULTS = ROOT / "results" / "bench"
PROBE_TEXT = "专利质押贷款有贴息吗？"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", help="base URL of a running assistant (loopback only), e.g. http://127.0.0.1:8088; "
                                         "without it the default set-up is started on free ports and its cold start timed")
    parser.add_argument("--setup", choices=("default", "prod"), default="default",
                        help="name of the set-up being measured (file names and the prod/default comparison)")
    parser.add_argument("--users", default="1,10,50", help="concurrency levels, comma-separated (default 1,10,50)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per level (default 20)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of rest between levels (default 2)")
    parser.add_argument("--max-turns", type=int, default=None, help="stop each user after this many turns (smoke runs)")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause of a user between its turns (default 0: closed loop)")
    parser.add_argument("--same-sender", action="store_true",
                        help="keep one sender id per user for the whole level (its tracker then grows with every pass); "
                             "by default every pass through the conversation is a new chat")
    parser.add_argument("--conversations", type=Path, default=DEFAULT_FILE, help="conversations file (YAML)")
    parser.add_argument("--measure-training", action="store_true",
                        help="time `rasa train --force --out <tmp>` before the load (several minutes)")
    parser.add_argument("--pids", help="processes to sample when --target is given, e.g. 'rasa=123,124;actions=130;web=140' "
                                       "(default: found from the loopback connections behind the target)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON and PNG files go (default results/bench)")
    parser.add_argument("--no-plot", action="store_true", help="skip the latency figure")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the started stack's logs and tracker database")
    args = parser.parse_args(argv)
    try:
        args.levels = sorted({int(u) for u in str(args.users).split(",") if u.strip()})
    except ValueError:
        parser.error(f"--users {args.users!r}: expected numbers like 1,10,50")
    if not args.levels or min(args.levels) < 1:
        parser.error("--users: every level must be at least 1")
    if args.target:
        try:
            require_loopback(args.target)
        except ValueError as exc:
            parser.error(str(exc))
    return args


def require_loopback(url: str) -> None:
    """Refuse anything but a loopback address."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"--target {url!r}: expected http://127.0.0.1:PORT")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parsed.hostname, parsed.port or 80)}
    except socket.gaierror as exc:
        raise ValueError(f"--target {url!r}: cannot resolve {parsed.hostname}") from exc
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ValueError(f"--target {url!r}: only loopback addresses are allowed (resolves to {sorted(addresses)})")


def first_answer(target: str, timeout: float) -> dict:
    """Latency of one question to a target the benchmark did not start (so not a cold start)."""
    async def ask() -> tuple:
        client = KeepAliveClient(webhook_url(target))
        try:
            return await send_turn(client, f"bench-first-{uuid.uuid4().hex[:6]}", PROBE_TEXT, timeout)
        finally:
            await client.close()

    status, _, error, latency = run_loop(ask())
    return {"latency_ms": round(latency, 1), "status": status, "error": error, "question": PROBE_TEXT}


def discover(target: str, conversations, timeout: float, log) -> Dict[str, List[int]]:
    """Find the processes behind a target: follow loopback connections while 5 users talk for 3 s."""
    discovery = Discovery(target)
    done = threading.Event()

    def traffic() -> None:
        try:
            run_level(target, 5, conversations, 3.0, timeout, run_id="discover")
        finally:
            done.set()

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    while not done.is_set():
        discovery.observe()
        time.sleep(0.02)
    thread.join()
    roles = discovery.roles()
    if discovery.error:
        log(f"process discovery: {discovery.error}")
    if "web" not in roles:
        ports = {discovery.port} | listening_ports(roles.get("rasa", []))
        candidates = web_candidates(ports)
        if len(candidates) == 1:
            roles["web"] = candidates
        else:
            log(f"process discovery: {'several' if candidates else 'no'} web server(s) with RASA_URL on ports "
                f"{sorted(ports)} ({candidates}); pass --pids web=PID to sample it")
    log(f"process discovery: {roles}")
    return roles


def cpu_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (all cores)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


def run(args: argparse.Namespace, processes: Optional[Dict[str, List[int]]] = None, log=print) -> dict:
    """Run the benchmark; returns the result written to the JSON files."""
    conversations = load_conversations(args.conversations)
    stamp = dt.datetime.now().astimezone()
    result: dict = {
        "schema": 1,
        "setup": args.setup,
        "timestamp": stamp.isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"levels": args.levels, "duration_s": args.duration, "request_timeout_s": args.timeout,
                   "pause_s": args.pause, "max_turns_per_user": args.max_turns, "think_ms": args.think_ms,
                   "same_sender": args.same_sender, "conversations_file": str(args.conversations),
                   "conversations": len(conversations), "turns_in_conversations": sum(len(c.turns) for c in conversations),
                   "sample_interval_s": 0.2},
        "software": {"python": sys.version.split()[0]},
    }
    try:
        from importlib.metadata import version

        result["software"].update({"rasa": version("rasa"), "rasa_sdk": version("rasa-sdk")})
    except Exception:  # noqa: BLE001 - informational only
        pass
    result["training"] = measure_training(log=log) if args.measure_training else recorded_training()

    stack = None
    monitor: Optional[ProcessMonitor] = None
    samples: Dict[int, List[float]] = {}
    try:
        if args.target:
            target = args.target.rstrip("/")
            result["target"] = target
            result["started_by_bench"] = False
            result["cold_start"] = None
            result["first_answer"] = first_answer(target, args.timeout)
            if processes is None:
                processes = parse_pids(args.pids) or discover(target, conversations, args.timeout, log)
        else:
            from .default_stack import start_default

            log("starting the default set-up (action server, Rasa, web) on free loopback ports …")
            stack, cold = start_default(request_timeout=args.timeout, log=log)
            target = stack.rasa_url
            result["target"] = target
            result["started_by_bench"] = True
            result["cold_start"] = cold
            result["first_answer"] = {"latency_ms": cold["first_answer_latency_ms"], "status": 200, "error": None,
                                      "question": cold["question"]}
            processes = {name: [proc.pid] for name, proc in stack.procs.items()}
            log(f"cold start {cold['cold_start_s']} s; first answer {cold['first_answer_latency_ms']} ms")
        result["processes_sampled"] = {role: pids for role, pids in (processes or {}).items()}
        monitor = ProcessMonitor(processes or {}).start()
        own = psutil.Process()
        levels = []
        for number, users in enumerate(args.levels):
            if number:
                monitor.set_phase("pause")
                time.sleep(args.pause)
            monitor.set_phase(f"{users}u")
            log(f"level {users} user(s): {args.duration:.0f} s …")
            probe_before = cpu_speed_probe()
            load_before = os.getloadavg()
            cpu_roles = monitor.cpu_seconds()
            cpu_all = cpu_busy_seconds()
            own_before = sum(own.cpu_times()[:2])
            started = time.monotonic()
            results, elapsed = run_level(target, users, conversations, args.duration, args.timeout,
                                         max_turns=args.max_turns, same_sender=args.same_sender,
                                         think_s=args.think_ms / 1000, run_id=uuid.uuid4().hex[:6])
            wall = time.monotonic() - started
            roles_after = monitor.cpu_seconds()
            cores = {role: round((roles_after[role] - cpu_roles.get(role, 0.0)) / wall, 2) for role in roles_after}
            bench_cores = (sum(own.cpu_times()[:2]) - own_before) / wall
            all_cores = (cpu_busy_seconds() - cpu_all) / wall
            extra = {
                "cpu_cores_machine": round(all_cores, 2),
                "cpu_cores_bench": round(bench_cores, 2),
                "cpu_cores_other": round(max(0.0, all_cores - bench_cores - sum(cores.values())), 2),
                "loadavg_before": [round(x, 2) for x in load_before],
                "cpu_speed_probe_s": [probe_before, cpu_speed_probe()],  # just before and just after the level
            }
            extra["contended"] = extra["cpu_cores_other"] > 0.25 * (result["machine"]["nproc"] or 1)
            level = summarize_level(results, users, args.duration, elapsed, cores, extra)
            level["peak_rss_mb"] = {role: mem["peak_rss_mb_by_phase"].get(f"{users}u")
                                    for role, mem in monitor.report().items()}
            levels.append(level)
            samples[users] = [r.latency_ms for r in results if r.ok]
            lat = level["latency_ms"]
            log(f"  {level['turns']} turns, {level['errors']} errors, p50 {lat['p50']} / p95 {lat['p95']} / "
                f"p99 {lat['p99']} ms, {level['turns_per_s']} turns/s")
        result["levels"] = levels
    finally:
        if monitor:
            monitor.stop()
        if stack:
            stack.stop()
            if not args.keep_workdir:
                shutil.rmtree(stack.workdir, ignore_errors=True)
                if result.get("cold_start"):
                    result["cold_start"].pop("workdir", None)
    result["memory"] = monitor.report() if monitor else {}

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"bench-{args.setup}-{stamp.strftime('%Y%m%d-%H%M%S')}.json"
    paths = {"json": out_dir / name, "latest": out_dir / f"latest-{args.setup}.json"}
    if not args.no_plot:
        title = (f"{args.setup} set-up — turn latency per concurrency level "
                 f"({result['machine']['nproc']} CPUs, {args.duration:.0f} s per level, {stamp:%Y-%m-%d %H:%M})")
        plotted = report.plot_latency(samples, out_dir / f"latency-{args.setup}.png", title)
        if plotted:
            paths["plot"] = plotted
    result["files"] = {key: _display(path) for key, path in paths.items()}
    latest = {setup: report.load_json(out_dir / f"latest-{setup}.json") for setup in ("default", "prod")}
    latest[args.setup] = result
    latest = {k: v for k, v in latest.items() if v}
    result["targets"] = report.evaluate_targets(result, latest.get("default") if args.setup == "prod" else None)
    result["comparison"] = report.comparison(latest)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    paths["json"].write_text(text + "\n", encoding="utf-8")
    paths["latest"].write_text(text + "\n", encoding="utf-8")
    return result


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `python -m bench.run_bench`."""
    args = parse_args(argv)
    try:
        result = run(args)
    except (RuntimeError, ValueError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    report.print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "run", "parse_args", "latency_summary"]
