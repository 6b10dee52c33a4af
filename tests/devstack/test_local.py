"""devstack.local: one launcher whose ports all come from settings.py (no second 5055)."""

from __future__ import annotations

from pathlib import Path

import yaml

from devstack.local import TEST_WECHAT, Stack
from settings import PROJECT_ROOT, get_settings


def test_make_run_ports_come_from_the_settings(tmp_path: Path) -> None:
    """ACTION_PORT / RASA_PORT / WEB_PORT reach the commands, Rasa's action endpoint, the health checks and the web app."""
    env = {"ACTION_PORT": "6055", "RASA_PORT": "6005", "WEB_PORT": "6080", "STAFF_TOKEN": "t", "PATH": "/usr/bin"}
    stack = Stack.from_settings(get_settings(env), env, tmp_path)
    commands = stack.commands()
    assert commands["actions"][commands["actions"].index("--port") + 1] == "6055"
    assert commands["rasa"][commands["rasa"].index("--port") + 1] == "6005"
    endpoints = yaml.safe_load(Path(commands["rasa"][commands["rasa"].index("--endpoints") + 1]).read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
    assert endpoints["tracker_store"]["db"] == str(PROJECT_ROOT / "rasa.db")
    assert stack.health_urls() == {"actions": "http://127.0.0.1:6055/health", "rasa": "http://127.0.0.1:6005/webhooks/guard/",
                                   "web": "http://127.0.0.1:6080/healthz"}
    child = stack.env()
    assert child["RASA_URL"] == "http://127.0.0.1:6005" and child["WEB_PORT"] == "6080"
    assert get_settings(child).action_server_url == "http://127.0.0.1:6055/webhook"
    assert child["WECHAT_TOKEN"] == "" and "WEB_HOST" not in child  # make run: the caller's WeChat and host settings


def test_settings_derive_urls_from_the_ports() -> None:
    """Without RASA_URL / ACTION_SERVER_URL the URLs follow RASA_PORT / ACTION_PORT; the defaults are unchanged."""
    assert get_settings({}).action_server_url == "http://localhost:5055/webhook"
    assert get_settings({}).rasa_url == "http://localhost:5005"
    custom = get_settings({"ACTION_PORT": "7055", "RASA_PORT": "7005"})
    assert custom.action_server_url == "http://localhost:7055/webhook" and custom.rasa_url == "http://localhost:7005"


def test_test_stack_is_isolated(tmp_path: Path) -> None:
    """A test stack: its own tracker database and logs in the work folder, the test WeChat account, loopback only."""
    stack = Stack(workdir=tmp_path, base_env={"PATH": "/usr/bin"})
    env = stack.env()
    assert stack.tracker_db == tmp_path / "rasa.db" and env["TRACKER_DB_URL"] == f"sqlite:///{tmp_path / 'rasa.db'}"
    assert env["WECHAT_TOKEN"] == TEST_WECHAT["token"] and env["WEB_HOST"] == "127.0.0.1"
    assert len({stack.rasa_port, stack.action_port, stack.web_port}) == 3
