"""The default set-up: action server, Rasa server and web pages on one machine (`make run`, tests, bench, eval)."""

from __future__ import annotations

import logging
import os
import secrets
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import yaml

from devstack.processes import (
    MODEL,
    ProcessGroup,
    action_server_command,
    answers,
    free_port,
    rasa_server_command,
    web_command,
)
from devstack.replies import say
from settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS = PROJECT_ROOT / "credentials.yml"
RASA_ENTRY = ("scripts.rasa_server",)
WECHAT_VARS = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY")

# Test-only WeChat credentials (a 43-character EncodingAESKey, as the WeChat console issues).
TEST_WECHAT = {
    "token": "test-wechat-token",
    "app_id": "wx0123456789abcdef",
    "app_secret": "test-app-secret",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


@dataclass
class Stack:
    """The three processes of the default set-up and their addresses.

    The default values are those of the tests: free ports, a tracker store and logs in `workdir`, test
    WeChat credentials. `Stack.from_settings` gives `make run`'s: ports from settings.py, rasa.db in the
    project root, output on the terminal.
    """

    workdir: Path
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    staff_token: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    wechat: Dict[str, str] = field(default_factory=lambda: dict(TEST_WECHAT))
    wechat_api_base: str = ""
    tracker_db: Optional[Path] = None
    cors_origins: Tuple[str, ...] = ()
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    model: Path = MODEL
    log_to_files: bool = True
    group: ProcessGroup = field(init=False)

    def __post_init__(self) -> None:
        """Fill the values that depend on the ports and the work folder."""
        if self.tracker_db is None:
            self.tracker_db = self.workdir / "rasa.db"
        if not self.cors_origins:
            self.cors_origins = (self.web_url, f"http://localhost:{self.web_port}")
        self.group = ProcessGroup(self.workdir if self.log_to_files else None)

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str], workdir: Path) -> "Stack":
        """`make run`: ports, origins and the staff token from the settings, rasa.db in the project root."""
        return cls(workdir=workdir, rasa_port=settings.rasa_port, action_port=settings.action_port,
                   web_port=settings.web_port, staff_token=settings.staff_token, wechat={},
                   tracker_db=PROJECT_ROOT / "rasa.db", cors_origins=settings.cors_origins,
                   base_env=dict(env), log_to_files=False)

    @property
    def procs(self) -> Dict[str, object]:
        """The running processes by name."""
        return self.group.procs

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
    def tracker_db_url(self) -> str:
        """SQLAlchemy URL of the tracker store."""
        return f"sqlite:///{self.tracker_db}"

    def health_urls(self) -> Dict[str, str]:
        """The URL each process answers 200 on once it is ready (Rasa's once warmed up)."""
        return {"actions": f"{self.action_url}/health", "rasa": f"{self.rasa_url}/webhooks/guard/",
                "web": f"{self.web_url}/healthz"}

    def env(self) -> Dict[str, str]:
        """Environment of the stack's processes."""
        env = dict(self.base_env)
        env.update({"STAFF_TOKEN": self.staff_token, "WEB_PORT": str(self.web_port), "RASA_URL": self.rasa_url,
                    "RASA_PORT": str(self.rasa_port), "ACTION_PORT": str(self.action_port),
                    "ACTION_SERVER_URL": f"{self.action_url}/webhook", "TRACKER_DB_URL": self.tracker_db_url,
                    "CORS_ORIGINS": " ".join(self.cors_origins), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"})
        if self.log_to_files:  # tests: loopback only, the test WeChat account
            env["WEB_HOST"] = "127.0.0.1"
        for key, name in zip(("token", "app_id", "app_secret", "encoding_aes_key"), WECHAT_VARS):
            env[name] = self.wechat[key] if self.wechat else env.get(name, "")
        if self.wechat_api_base:
            env["WECHAT_API_BASE"] = self.wechat_api_base
        return env

    def write_endpoints(self) -> Path:
        """The project's endpoints.yml, pointed at this stack's action server and tracker database."""
        endpoints = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"{self.action_url}/webhook"
        endpoints["tracker_store"]["db"] = str(self.tracker_db)
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def commands(self) -> Dict[str, List[str]]:
        """The three processes."""
        return {
            "actions": action_server_command(self.action_port),
            "rasa": rasa_server_command(RASA_ENTRY, model=self.model, port=self.rasa_port, endpoints=self.write_endpoints(),
                                        credentials=CREDENTIALS, cors=self.cors_origins),
            "web": web_command(),
        }

    def start_process(self, name: str) -> None:
        """(Re)start one process by name (actions, rasa, web); tests restart a stopped one this way."""
        self.group.spawn(name, self.commands()[name], self.env())

    def launch(self) -> None:
        """Start the three processes without waiting (the benchmark times the cold start itself)."""
        if not self.model.exists():
            raise RuntimeError(f"{self.model} is missing: run `make train` first")
        env, commands = self.env(), self.commands()
        for name, cmd in commands.items():
            self.group.spawn(name, cmd, env, append=False)

    def wait_ready(self, name: str, timeout: float = 240.0) -> None:
        """Wait until one process answers its health URL."""
        url = self.health_urls()[name]
        self.group.wait(name, lambda: answers(url, timeout=2), "health check", timeout, interval=0.5)

    def start(self, timeout: float = 240.0, warm_up: bool = True) -> "Stack":
        """Start the processes and wait until each answers; then one turn so that the first test is not the slow one."""
        self.launch()
        try:
            for name in self.health_urls():
                self.wait_ready(name, timeout)
        except RuntimeError:
            self.stop()
            raise
        if warm_up:
            self.say("stack-warm-up", "专利质押融资")
        return self

    def log(self, name: str) -> str:
        """A process's output so far."""
        return self.group.log(name)

    def say(self, sender: str, message: str, timeout: float = 30.0) -> List[dict]:
        """Send one message through the REST channel and return the bot's messages."""
        return say(self.rasa_url, sender, message, timeout)

    def stop_process(self, name: str) -> None:
        """Stop one process (for fault tests)."""
        self.group.stop(name, signal.SIGTERM, timeout=20)

    def stop(self) -> None:
        """Stop every process."""
        for name in list(self.group.procs):
            self.stop_process(name)


def start_stack(workdir: Path, wechat_api_base: Optional[str] = None, base_env: Optional[Mapping[str, str]] = None) -> Stack:
    """Start a test stack in a work folder (base_env: the environment to start from, this process's by default)."""
    env = dict(os.environ if base_env is None else base_env)
    return Stack(workdir=workdir, wechat_api_base=wechat_api_base or "", base_env=env).start()
