"""Where the time of a turn goes: KB search vs Rasa NLU in-process, and py-spy samples of the running servers.

    python -m bench.profile_latency                      # in-process timings only (no servers)
    python -m bench.profile_latency --py-spy /tmp/pyspy-venv/bin/py-spy --duration 20

In-process: the answer action's KB work (`policies_kb.answers.select` + `has_substance`) and Rasa's
NLU pipeline (`Agent.parse_message`, jieba + featurisers + DIET) for every distinct text of
bench/conversations.yml. With --py-spy: starts the default set-up, runs one user for --duration
seconds while py-spy samples the Rasa server and the action server, and splits each process's
*active* time per turn (samples where a Python frame runs or waits for a CPU; the event loop waiting in
epoll is dropped as idle) into phases (NLU, policies, tracker store, action call, …). On a busy machine
active time includes waiting for a CPU, so read the phases as shares.
py-spy is not part of the project lock: install it into a throw-away venv
(`python3 -m venv /tmp/pyspy-venv && /tmp/pyspy-venv/bin/pip install py-spy`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from devstack.processes import MODEL
from settings import PROJECT_ROOT as ROOT

from .conversations import DEFAULT_FILE, load_conversations

# (phase, substrings any of which in a frame marks it) — for the Rasa server, outermost match wins
RASA_PHASES: Sequence[Tuple[str, Sequence[str]]] = (
    ("nlu (parse_message: jieba, featurisers, DIET)", ("parse_message (rasa/core/processor.py",
                                                       "_parse_message_with_graph")),
    ("tracker store (retrieve/save, SQLite)", ("fetch_tracker_and_update_session", "fetch_tracker_with_initial_session",
                                               "save_tracker", "tracker_store.py")),
    ("dialogue policies (predict next action)", ("predict_next_with_tracker", "_predict_next_with_tracker")),
    ("action response validation (jsonschema)", ("jsonschema",)),
    ("action call (HTTP to action server, responses)", ("_run_action (rasa/core/processor.py",
                                                        "execute_side_effects")),
    ("REST channel / web framework", ("sanic", "rasa/core/channels")),
    ("event loop / other", ("",)),
)
# for the action server, innermost match wins
ACTION_PHASES: Sequence[Tuple[str, Sequence[str]]] = (
    ("kb search (policies_kb.search index)", ("policies_kb/search.py",)),
    ("jieba tokenisation (in KB search)", ("jieba",)),
    ("kb: answers/select/has_substance, kb.py", ("policies_kb/",)),
    ("actions package (presenter, context)", ("/actions/",)),
    ("rasa_sdk (tracker, dispatcher, events)", ("rasa_sdk",)),
    ("json (request/response)", ("json/",)),
    ("sanic / asyncio / other", ("",)),
)


def _timed(function, repeat: int) -> float:
    """Median wall ms of a call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def in_process(texts: Sequence[str], repeat: int) -> dict:
    """Median ms per text of the KB work of an answer and of Rasa's NLU parse."""
    load_start = time.perf_counter()
    from actions.kb_store import default_kb
    from policies_kb.answers import has_substance, select

    kb = default_kb()
    kb_load = (time.perf_counter() - load_start) * 1000
    kb_rows = {}
    for text in texts:
        kb_rows[text] = {"select_ms": round(_timed(lambda t=text: select(kb, t), repeat), 2),
                         "has_substance_ms": round(_timed(lambda t=text: has_substance(kb, t), repeat), 2)}

    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    load_start = time.perf_counter()
    agent = Agent.load(str(MODEL))
    model_load = (time.perf_counter() - load_start) * 1000
    loop = asyncio.new_event_loop()
    nlu_rows = {}
    loop.run_until_complete(agent.parse_message("你好"))  # first call builds the TF graph
    for text in texts:
        nlu_rows[text] = round(_timed(lambda t=text: loop.run_until_complete(agent.parse_message(t)), repeat), 2)
        parse = loop.run_until_complete(agent.parse_message(text))
        kb_rows[text]["intent"] = (parse.get("intent") or {}).get("name")
        kb_rows[text]["confidence"] = round((parse.get("intent") or {}).get("confidence") or 0, 3)
    loop.close()
    rows = [{"text": t, "nlu_parse_ms": nlu_rows[t], **kb_rows[t]} for t in texts]
    return {
        "kb_load_ms": round(kb_load, 1),
        "model_load_ms": round(model_load, 1),
        "median_nlu_parse_ms": round(statistics.median(r["nlu_parse_ms"] for r in rows), 2),
        "median_kb_select_ms": round(statistics.median(r["select_ms"] for r in rows), 2),
        "median_kb_has_substance_ms": round(statistics.median(r["has_substance_ms"] for r in rows), 2),
        "rows": rows,
    }


IDLE_LEAF = "serve (sanic/server/runners.py"


def read_collapsed(path: Path) -> Tuple[Counter, int]:
    """py-spy --format raw: `frame;frame;… count` lines (root first); returns (busy stacks, idle samples).

    A stack that ends in Sanic's `serve` has no Python frame running: the event loop waits in epoll.
    py-spy does not always recognise that as idle (notably on a busy machine), so it is dropped here.
    """
    stacks: Counter = Counter()
    idle = 0
    if not path.exists():
        return stacks, idle
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        if stack.split(";")[-1].startswith(IDLE_LEAF):
            idle += int(count)
        else:
            stacks[stack] += int(count)
    return stacks, idle


def split_phases(stacks: Counter, phases: Sequence[Tuple[str, Sequence[str]]], innermost: bool) -> Counter:
    """Samples per phase.

    innermost: the phase of the innermost frame that matches any phase (library attribution);
    otherwise the first phase in the list that any frame of the stack matches (call-tree attribution).
    """
    result: Counter = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        chosen = phases[-1][0]
        if innermost:
            for frame in reversed(frames):
                match = next((name for name, markers in phases[:-1] if any(m in frame for m in markers)), None)
                if match:
                    chosen = match
                    break
        else:
            chosen = next((name for name, markers in phases[:-1]
                           if any(m in frame for frame in frames for m in markers)), chosen)
        result[chosen] += count
    return result


def top_functions(stacks: Counter, limit: int = 15) -> List[Tuple[str, int]]:
    """Leaf frames with the most samples."""
    leaves: Counter = Counter()
    for stack, count in stacks.items():
        leaves[stack.split(";")[-1]] += count
    return leaves.most_common(limit)


def with_py_spy(py_spy: str, duration: float, rate: int, users: int = 1, target: Optional[str] = None,
                pids: Optional[Dict[str, List[int]]] = None, blocking: bool = False, out: Optional[Path] = None,
                log=print) -> dict:
    """Run `users` users for `duration` s while py-spy samples Rasa and the action server.

    Without target/pids the default set-up is started (and stopped) here.
    """
    from .load import run_level

    conversations = load_conversations(DEFAULT_FILE)
    stack = None
    if not target:
        from .default_stack import start_default

        stack, _ = start_default(log=log)
        target = stack.rasa_url
        pids = {name: [proc.pid] for name, proc in stack.procs.items()}
    pids = pids or {}
    missing = [name for name in ("rasa", "actions") if not pids.get(name)]
    if missing:
        raise SystemExit(f"--pids must name {' and '.join(missing)} (e.g. 'rasa=123;actions=124')")
    out = Path(out or tempfile.mkdtemp(prefix="bench-pyspy-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        spies = {}
        for name in ("rasa", "actions"):
            spies[name] = subprocess.Popen(
                [py_spy, "record", "--pid", str(pids[name][0]), "--duration", str(int(duration) + 2),
                 "--rate", str(rate), "--format", "raw", "-o", str(out / f"pyspy-{name}.txt")]
                + ([] if blocking else ["--nonblocking"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        results, elapsed = run_level(target, users, conversations, duration, 30.0)
        for spy in spies.values():
            spy.wait(timeout=duration + 60)
    finally:
        if stack:
            stack.stop()
            shutil.rmtree(stack.workdir, ignore_errors=True)
    ok = [r for r in results if r.ok]
    turns = max(1, len(ok))
    report: Dict[str, dict] = {"users": users, "blocking": blocking, "turns": len(ok), "elapsed_s": round(elapsed, 2), "rate_hz": rate,
                               "mean_turn_ms": round(statistics.mean(r.latency_ms for r in ok), 1) if ok else None,
                               "raw_files": [str(out / "pyspy-rasa.txt"), str(out / "pyspy-actions.txt")]}
    for name, phases, innermost in (("rasa", RASA_PHASES, False), ("actions", ACTION_PHASES, True)):
        stacks, idle = read_collapsed(out / f"pyspy-{name}.txt")
        total = sum(stacks.values())
        split = split_phases(stacks, phases, innermost)
        report[name] = {
            "samples_busy": total,
            "samples_idle": idle,
            "active_ms_per_turn": round(total / rate * 1000 / turns, 1),
            "phases_active_ms_per_turn": {k: round(v / rate * 1000 / turns, 1) for k, v in split.most_common()},
            "top_leaf_functions": [{"frame": f, "share": round(c / total, 3)} for f, c in top_functions(stacks)] if total else [],
        }
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print (and save) the breakdown."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="calls per text for the in-process medians")
    parser.add_argument("--py-spy", help="path of a py-spy binary: also sample the running servers under one user")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load while py-spy samples")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--users", type=int, default=1, help="concurrent users while py-spy samples (default 1)")
    parser.add_argument("--target", help="a running assistant to sample instead of starting one (needs --pids)")
    parser.add_argument("--pids", help="with --target: 'rasa=PID;actions=PID'")
    parser.add_argument("--blocking", action="store_true",
                        help="let py-spy pause the processes for each sample (exact stacks, but turns get much slower)")
    parser.add_argument("--skip-in-process", action="store_true", help="only the py-spy part")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "profile-latest.json")
    args = parser.parse_args(argv)
    texts = list(dict.fromkeys(t.text for c in load_conversations(DEFAULT_FILE) for t in c.turns))
    result: dict = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if not args.skip_in_process:
        result["in_process"] = in_process(texts, args.repeat)
        ip = result["in_process"]
        print(f"{'NLU ms':>7} {'select':>7} {'subst.':>7}  intent (confidence)  text")
        for row in ip["rows"]:
            print(f"{row['nlu_parse_ms']:>7} {row['select_ms']:>7} {row['has_substance_ms']:>7}  "
                  f"{row['intent']} ({row['confidence']})  {row['text']}")
        print(f"median NLU parse {ip['median_nlu_parse_ms']} ms, KB select {ip['median_kb_select_ms']} ms, "
              f"has_substance {ip['median_kb_has_substance_ms']} ms (model load {ip['model_load_ms']} ms, "
              f"KB load {ip['kb_load_ms']} ms)")
    if args.py_spy:
        from .procmon import parse_pids

        result["py_spy"] = with_py_spy(args.py_spy, args.duration, args.rate, users=args.users,
                                       target=args.target, pids=parse_pids(args.pids), blocking=args.blocking,
                                       out=args.out.parent)
        spy = result["py_spy"]
        print(f"\npy-spy, {spy['users']} user(s), {spy['turns']} turns, mean turn {spy['mean_turn_ms']} ms:")
        for name in ("rasa", "actions"):
            print(f"  {name}: {spy[name]['active_ms_per_turn']} ms active per turn")
            for phase, ms in spy[name]["phases_active_ms_per_turn"].items():
                print(f"    {ms:>7} ms  {phase}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
