"""`make run`: start the action server, the Rasa server and the web pages; Ctrl-C stops all three."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import requests

from settings import PROJECT_ROOT, get_settings

logger = logging.getLogger("run_local")
BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "ip-assistant.tar.gz"


def commands(env: Dict[str, str]) -> Dict[str, List[str]]:
    """The three processes of the default set-up."""
    settings = get_settings(env)
    return {
        "actions": [str(BIN / "rasa"), "run", "actions", "--port", env.get("ACTION_PORT", "5055"), "--actions", "actions"],
        "rasa": [str(BIN / "python"), "-m", "scripts.rasa_server", "run", "--model", str(MODEL), "--port", env.get("RASA_PORT", "5005"),
                 "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--cors", *settings.cors_origins],
        "web": [sys.executable, "-m", "webapp"],
    }


def wait_for(url: str, name: str, timeout: float = 120.0) -> bool:
    """Poll a URL until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    logger.error("%s did not come up at %s", name, url)
    return False


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt


def main() -> int:
    """Start everything, print the addresses, and stop everything on Ctrl-C or a crash."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started from a non-interactive shell
    signal.signal(signal.SIGTERM, _interrupt)
    env = dict(os.environ)
    if not env.get("STAFF_TOKEN"):
        env["STAFF_TOKEN"] = secrets.token_urlsafe(16)
        print(f"STAFF_TOKEN 未设置，本次运行生成的工作人员令牌：{env['STAFF_TOKEN']}")
    for name in ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY"):
        env.setdefault(name, "")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    procs: Dict[str, subprocess.Popen] = {}
    try:
        for name, cmd in commands(env).items():
            procs[name] = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)
        settings = get_settings(env)
        ok = (wait_for("http://localhost:5055/health", "action server")
              and wait_for(f"http://localhost:{env.get('RASA_PORT', '5005')}/webhooks/guard/", "Rasa")
              and wait_for(f"http://localhost:{settings.web_port}/healthz", "web"))
        if not ok:
            return 1
        print("\n知识产权政策助手已启动：")
        print(f"  聊天页面（网页挂件）: http://localhost:{settings.web_port}/")
        print(f"  工作人员查询台:       http://localhost:{settings.web_port}/staff/")
        print(f"  REST 接口:            POST http://localhost:{env.get('RASA_PORT', '5005')}/webhooks/rest/webhook")
        print(f"  微信公众号接口:       http://localhost:{env.get('RASA_PORT', '5005')}/webhooks/wechat/webhook")
        print("按 Ctrl-C 停止。\n")
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        logger.error("process stopped: %s", ", ".join(dead))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
