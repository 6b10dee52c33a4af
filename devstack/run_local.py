"""`make run`: start the action server, the Rasa server and the web pages with settings.py's ports; Ctrl-C stops all three."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

from devstack.local import WECHAT_VARS, Stack
from settings import get_settings

logger = logging.getLogger(__name__)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt


def prepare_env(env: Mapping[str, str]) -> dict:
    """The environment of the three processes: a generated STAFF_TOKEN when none is set, empty WeChat variables."""
    env = dict(env)
    if not (env.get("STAFF_TOKEN") or "").strip():
        env["STAFF_TOKEN"] = secrets.token_urlsafe(16)
        print(f"STAFF_TOKEN 未设置，本次运行生成的工作人员令牌：{env['STAFF_TOKEN']}")
    for name in WECHAT_VARS:
        env.setdefault(name, "")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def print_addresses(stack: Stack) -> None:
    """The addresses a person opens."""
    print("\n知识产权政策助手已启动：")
    print(f"  聊天页面（网页挂件）: http://localhost:{stack.web_port}/")
    print(f"  工作人员查询台:       http://localhost:{stack.web_port}/staff/")
    print(f"  REST 接口:            POST http://localhost:{stack.rasa_port}/webhooks/rest/webhook")
    print(f"  微信公众号接口:       http://localhost:{stack.rasa_port}/webhooks/wechat/webhook")
    print(f"  动作服务器:           http://localhost:{stack.action_port}/health")
    print("按 Ctrl-C 停止。\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Start everything, print the addresses, and stop everything on Ctrl-C or a crash."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started from a non-interactive shell
    signal.signal(signal.SIGTERM, _interrupt)
    env = prepare_env(os.environ)
    workdir = Path(tempfile.mkdtemp(prefix="ipa-run-"))  # the generated endpoints file
    stack = Stack.from_settings(get_settings(env), env, workdir)
    try:
        try:
            stack.start(timeout=120.0, warm_up=False)
        except RuntimeError as exc:
            logger.error("%s", exc)
            return 1
        print_addresses(stack)
        while not stack.group.dead():
            time.sleep(1)
        logger.error("process stopped: %s", ", ".join(stack.group.dead()))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
