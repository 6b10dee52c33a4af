"""Start the default set-up (devstack's Stack, loopback, free ports) and time its cold start."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional

import requests

from devstack.local import Stack
from devstack.processes import MODEL, answers

from .conversations import has_kb_answer, is_empty_reply

COLD_QUESTION = "专利质押贷款有贴息吗？"


def _ask(url: str, sender: str, text: str, timeout: float) -> tuple:
    """POST a message; (ok with a KB answer, latency ms, messages or error text)."""
    start = time.perf_counter()
    try:
        response = requests.post(url, json={"sender": sender, "message": text}, timeout=timeout)
        latency = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            return False, latency, f"http_{response.status_code}"
        messages = response.json()
    except (requests.RequestException, ValueError) as exc:
        return False, (time.perf_counter() - start) * 1000, type(exc).__name__
    if is_empty_reply(messages):
        return False, latency, "empty_answer"
    return has_kb_answer(messages), latency, messages


def start_default(workdir: Optional[Path] = None, timeout: float = 300.0, request_timeout: float = 30.0,
                  log=print) -> tuple:
    """Start the three processes; returns (stack, cold-start record).

    Cold start = from the moment the commands are started to the first successful answer (a 200 with the
    KB answer payload) to a policy question. The record also keeps when each part first answered its
    health check, how long that first answer took, and the steady-state latency of the same question.
    """
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    workdir = Path(workdir or tempfile.mkdtemp(prefix="bench-stack-"))
    stack = Stack(workdir=workdir)
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
    checks = stack.health_urls()
    ready: Dict[str, float] = {}
    t0 = time.monotonic()
    stack.launch()
    first: Optional[tuple] = None
    attempts = 0
    deadline = t0 + timeout
    try:
        while first is None:
            now = time.monotonic()
            if now > deadline:
                raise RuntimeError("the default set-up gave no answer within "
                                   f"{timeout:.0f} s; logs in {workdir}")
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; log:\n{stack.log(name)[-3000:]}")
            for name, url in checks.items():
                if name not in ready and answers(url, timeout=2):
                    ready[name] = time.monotonic() - t0
            if "rasa" in ready and "actions" in ready:
                attempts += 1
                sent = time.monotonic()
                ok, latency, detail = _ask(webhook, f"bench-cold-{attempts}", COLD_QUESTION, request_timeout)
                if ok:
                    first = (time.monotonic() - t0, latency, sent - t0)
                    break
                log(f"  cold start: attempt {attempts} not yet an answer ({detail if isinstance(detail, str) else 'no KB payload'})")
            time.sleep(0.1)
        while "web" not in ready and time.monotonic() < deadline:
            if answers(checks["web"], timeout=2):
                ready["web"] = time.monotonic() - t0
            else:
                time.sleep(0.1)
        # the same question again, from new conversations: steady state for a single user
        steady = []
        for i in range(10):
            ok, latency, _ = _ask(webhook, f"bench-steady-{i}", COLD_QUESTION, request_timeout)
            if ok:
                steady.append(latency)
    except BaseException:
        stack.stop()
        raise
    second = steady[0] if steady else None
    steady.sort()
    record = {
        "cold_start_s": round(first[0], 2),
        "ready_s": {name: round(value, 2) for name, value in ready.items()},
        "first_question_sent_s": round(first[2], 2),
        "first_answer_latency_ms": round(first[1], 1),
        "attempts": attempts,
        "question": COLD_QUESTION,
        "second_answer_latency_ms": round(second, 1) if second is not None else None,
        "steady_single_user_ms_median": round(steady[len(steady) // 2], 1) if steady else None,
        "steady_samples": len(steady),
        "workdir": str(workdir),
    }
    return stack, record


def describe_logs(stack: Stack) -> str:
    """Where the logs of a stack are."""
    return json.dumps({name: str(stack.workdir / f"{name}.log") for name in stack.procs}, ensure_ascii=False)
