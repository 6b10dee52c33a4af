"""Start the whole assistant (action server, Rasa, web pages) on free local ports for tests."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "ip-assistant.tar.gz"
BIN = Path(sys.executable).parent
logger = logging.getLogger(__name__)

# Test-only WeChat credentials (a 43-character EncodingAESKey, as the WeChat console issues).
TEST_WECHAT = {
    "token": "test-wechat-token",
    "app_id": "wx0123456789abcdef",
    "app_secret": "test-app-secret",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """A running assistant and the addresses of its parts."""

    workdir: Path
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    staff_token: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    wechat: Dict[str, str] = field(default_factory=lambda: dict(TEST_WECHAT))
    wechat_api_base: str = ""
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        """Base URL of the action server."""
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def web_url(self) -> str:
        """Base URL of the web pages and the staff API."""
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def tracker_db(self) -> Path:
        """The SQLite tracker store of this stack."""
        return self.workdir / "rasa.db"

    @property
    def tracker_db_url(self) -> str:
        """SQLAlchemy URL of the tracker store."""
        return f"sqlite:///{self.tracker_db}"

    def env(self) -> Dict[str, str]:
        """Environment of the stack's processes."""
        env = dict(os.environ)
        env.update({
            "STAFF_TOKEN": self.staff_token,
            "WEB_PORT": str(self.web_port),
            "WEB_HOST": "127.0.0.1",
            "RASA_URL": self.rasa_url,
            "TRACKER_DB_URL": self.tracker_db_url,
            "WECHAT_TOKEN": self.wechat["token"],
            "WECHAT_APP_ID": self.wechat["app_id"],
            "WECHAT_APP_SECRET": self.wechat["app_secret"],
            "WECHAT_ENCODING_AES_KEY": self.wechat["encoding_aes_key"],
            "CORS_ORIGINS": f"{self.web_url} http://localhost:{self.web_port}",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        })
        if self.wechat_api_base:
            env["WECHAT_API_BASE"] = self.wechat_api_base
        return env

    def write_endpoints(self) -> Path:
        """The project's endpoints.yml, pointed at this stack's action server and tracker database."""
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"{self.action_url}/webhook"
        endpoints["tracker_store"]["db"] = str(self.tracker_db)
        path = self.workdir / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def commands(self) -> Dict[str, List[str]]:
        """The three processes."""
        endpoints = self.write_endpoints()
        return {
            "actions": [str(BIN / "rasa"), "run", "actions", "--port", str(self.action_port), "--actions", "actions"],
            "rasa": [str(BIN / "python"), "-m", "scripts.rasa_server", "run", "--model", str(MODEL), "--port", str(self.rasa_port),
                     "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"),
                     "--cors", self.web_url, f"http://localhost:{self.web_port}"],
            "web": [sys.executable, "-m", "webapp"],
        }

    def start(self, timeout: float = 240.0) -> "Stack":
        """Start the processes and wait until each answers."""
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: run `make train` first")
        env = self.env()
        for name, cmd in self.commands().items():
            log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
            self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        checks = {"actions": f"{self.action_url}/health", "rasa": f"{self.rasa_url}/webhooks/guard/", "web": f"{self.web_url}/healthz"}
        deadline = time.monotonic() + timeout
        for name, url in checks.items():
            while not _answers(url):
                if self.procs[name].poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} did not start; log:\n{self.log(name)[-3000:]}")
                time.sleep(0.5)
        self.say("stack-warm-up", "专利质押融资")
        return self

    def log(self, name: str) -> str:
        """A process's output so far."""
        path = self.workdir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def say(self, sender: str, message: str, timeout: float = 30.0) -> List[dict]:
        """Send one message through the REST channel and return the bot's messages."""
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message}, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def stop_process(self, name: str) -> None:
        """Stop one process (for fault tests)."""
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def stop(self) -> None:
        """Stop every process."""
        for name in list(self.procs):
            self.stop_process(name)


def _answers(url: str) -> bool:
    """Whether a URL answers 200 now."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def visible_text(messages: List[dict]) -> str:
    """What a person sees: the texts and the button titles."""
    parts: List[str] = []
    for message in messages:
        if message.get("text"):
            parts.append(message["text"])
        for button in message.get("buttons") or []:
            parts.append(str(button.get("title", "")))
    return "\n".join(parts)


def start_stack(workdir: Path, wechat_api_base: Optional[str] = None) -> Stack:
    """Start a stack in a work folder."""
    return Stack(workdir=workdir, wechat_api_base=wechat_api_base or "").start()
