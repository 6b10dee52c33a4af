"""Start, watch and stop the assistant's child processes: commands, free ports, health polling, process groups."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import requests

from settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

MODEL = PROJECT_ROOT / "models" / "ip-assistant.tar.gz"


def venv_bin() -> Path:
    """The folder of this interpreter's scripts (rasa, python)."""
    return Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distinct_free_ports(count: int) -> List[int]:
    """`count` different free ports (sockets held open while choosing)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def answers(url: str, timeout: float = 3.0) -> bool:
    """Whether a URL answers 200 now."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def action_server_command(port: int) -> List[str]:
    """`rasa run actions` on a port, serving the project's actions package."""
    return [str(venv_bin() / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"]


def rasa_server_command(entry: Sequence[str], *, model: Path, port: int, endpoints: Path, credentials: Path,
                        cors: Sequence[str], interface: Optional[str] = None) -> List[str]:
    """`python -m <entry> run …` with the model, port, endpoints, credentials and CORS origins."""
    cmd = [sys.executable, "-m", *entry, "run", "--model", str(model)]
    if interface:
        cmd += ["--interface", interface]
    return cmd + ["--port", str(port), "--endpoints", str(endpoints), "--credentials", str(credentials), "--cors", *cors]


def web_command() -> List[str]:
    """The web pages, staff desk and JSON API (`python -m webapp`)."""
    return [sys.executable, "-m", "webapp"]


@dataclass
class ProcessGroup:
    """Named child processes, each in its own session, output in <log_dir>/<name>.log (or the terminal)."""

    log_dir: Optional[Path]
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def spawn(self, name: str, cmd: Sequence[str], env: Mapping[str, str], *, append: bool = True,
              **popen: object) -> subprocess.Popen:
        """Start one process from the project root; its output goes to its log file when there is a log folder."""
        if self.log_dir is None:
            proc = subprocess.Popen(list(cmd), cwd=PROJECT_ROOT, env=dict(env), start_new_session=True, **popen)
        else:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_dir / f"{name}.log", "ab" if append else "wb") as log:
                proc = subprocess.Popen(list(cmd), cwd=PROJECT_ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True, **popen)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        """A process's output so far ("" when it goes to the terminal)."""
        path = self.log_dir / f"{name}.log" if self.log_dir else None
        return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Stop one process (and its children) and wait for it; SIGKILL after the timeout."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self, timeout: float = 20.0) -> None:
        """Stop every process, newest last started first."""
        for name in reversed(list(self.procs)):
            self.stop(name, timeout=timeout)

    def dead(self, skip: Sequence[str] = ()) -> List[str]:
        """Names of the processes that have exited."""
        return [n for n, p in self.procs.items() if n not in skip and p.poll() is not None]

    def wait(self, name: str, ready: Callable[[], bool], what: str, timeout: float, interval: float = 0.3) -> None:
        """Poll ready() until true; fail early when the process died, with the end of its log."""
        deadline = time.monotonic() + timeout
        while not ready():
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} stopped (exit {proc.returncode}); log:\n{self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {what} not ready after {timeout:.0f} s; log:\n{self.log(name)[-3000:]}")
            time.sleep(interval)
