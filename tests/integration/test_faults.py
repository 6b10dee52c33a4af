"""Faults: the action server down or slow (rasa_runtime.action_guard), a broken KB.

- The guard's unit tests around Rasa's RemoteAction are in tests/rasa_contract/test_action_guard.py.
- The knowledge base broken at start-up: the action server must refuse to start; a running action
  server keeps serving the last good KB when the files break later (standalone action servers).
- End to end on the default layout (`stack`): action server stopped → polite message at once;
  restarted → answers again. The production layout has the same test in tests/prod/test_failover.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.processes import free_port
from settings import PROJECT_ROOT as ROOT

APOLOGY = "抱歉，政策查询服务暂时繁忙，请稍后再试。"
QUESTION = "专利质押贷款有贴息吗？"
BIN = Path(sys.executable).parent


# ------------------------------------------------------------------------------ the knowledge base


def action_call(sender: str = "kb-test") -> dict[str, Any]:
    """The body Rasa posts to the action server for action_answer_policy_question."""
    return {
        "next_action": "action_answer_policy_question",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender, "slots": {}, "events": [], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen",
            "latest_message": {"text": QUESTION, "intent": {"name": "ask_financing", "confidence": 1.0},
                               "entities": []},
        },
    }


def kb_measures(result: dict[str, Any]) -> list[str]:
    """Measure ids of the kb_answer payload in an action server response."""
    return [m["id"] for r in result.get("responses", []) if isinstance(r.get("custom"), dict)
            for m in r["custom"].get("measures", [])]


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of policies_kb/data."""
    target = tmp_path / "kb"
    shutil.copytree(ROOT / "policies_kb" / "data", target)
    return target


def break_kb(kb_dir: Path) -> Path:
    """Corrupt one measures file (invalid YAML); return it."""
    victim = min((kb_dir / "measures").glob("*.yml"))
    victim.write_text("measures: [unclosed\n  - : : :\n", encoding="utf-8")
    return victim


def start_action_server(kb_dir: Path, tmp_path: Path) -> tuple:
    """`rasa run actions` on a free port with KB_DIR=kb_dir; returns (process, url, log path)."""
    import os

    port = free_port()
    log_path = tmp_path / f"actions-{port}.log"
    env = dict(os.environ, KB_DIR=str(kb_dir), SANIC_HOST="127.0.0.1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", log_path


def stop(proc: subprocess.Popen) -> None:
    """Stop an action server."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_health(proc: subprocess.Popen, url: str, timeout: float = 120) -> bool:
    """Wait for /health; False when the process exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"action server neither started nor exited within {timeout} s")


@pytest.mark.stack  # starts action servers: not part of `make test-fast`
def test_action_server_refuses_to_start_with_a_broken_kb(kb_copy: Path, tmp_path: Path) -> None:
    """A broken KB file at start-up: the action server exits with a clear message instead of serving
    errors later (actions/__init__.py checks the KB when the action server imports the package)."""
    victim = break_kb(kb_copy)
    proc, url, log_path = start_action_server(kb_copy, tmp_path)
    try:
        started = wait_health(proc, url)
        log = log_path.read_text(encoding="utf-8", errors="replace")
        assert not started, "the action server started with a broken knowledge base"
        assert proc.returncode != 0
        assert victim.name in log, log[-2000:]
    finally:
        stop(proc)


@pytest.mark.stack  # starts an action server
def test_running_action_server_keeps_the_last_good_kb(kb_copy: Path, tmp_path: Path) -> None:
    """The KB files break while the action server runs: it keeps answering from the KB it loaded."""
    proc, url, _ = start_action_server(kb_copy, tmp_path)
    try:
        assert wait_health(proc, url), "the action server did not start with the good KB"
        before = requests.post(f"{url}/webhook", json=action_call(), timeout=60)
        assert before.status_code == 200
        ids = kb_measures(before.json())
        assert ids
        break_kb(kb_copy)
        for _ in range(3):
            after = requests.post(f"{url}/webhook", json=action_call(f"kb-{uuid.uuid4().hex[:6]}"), timeout=60)
            assert after.status_code == 200 and kb_measures(after.json()) == ids
        assert requests.get(f"{url}/health", timeout=5).status_code == 200
    finally:
        stop(proc)


# ------------------------------------------------------------------------------ default layout


@pytest.mark.stack
def test_default_layout_action_server_down_then_back(stack: Any) -> None:
    """`make run` layout: the action server stops → polite message at once; it restarts → answers."""
    from devstack.replies import visible_text

    status = requests.get(f"{stack.rasa_url}/webhooks/guard/", timeout=10)
    assert status.status_code == 200, ("no readiness probe: credentials.yml has no rasa_runtime.readiness.ReadinessChannel "
                                       f"entry, or Rasa is not patched ({status.text[:200]})")
    sender = f"faults-{uuid.uuid4().hex[:8]}"
    stack.stop_process("actions")
    try:
        started = time.monotonic()
        messages = stack.say(sender, QUESTION)
        assert APOLOGY in visible_text(messages)
        assert time.monotonic() - started < 5
    finally:
        stack.start_process("actions")
        assert wait_health(stack.procs["actions"], stack.action_url)
    messages = stack.say(sender, QUESTION)
    assert APOLOGY not in visible_text(messages)
    assert any((m.get("custom") or {}).get("type") == "kb_answer" for m in messages)
