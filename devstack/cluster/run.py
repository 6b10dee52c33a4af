"""`make run-prod`: the production layout on one machine with settings.py's cluster settings; Ctrl-C stops everything.

PostgreSQL and Redis are started from the installed binaries (initdb into var/pg, Redis data in
var/redis) unless DB_HOST / REDIS_HOST name existing servers. RUN_PROD_EPHEMERAL=1 puts all data
in a temporary folder that is removed on exit. The variables are documented in docs/production.md
and .env.example; a `.env` file in the project root (or ENV_FILE) is read first, without
overriding variables that are already set.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

from devstack.cluster.cluster import Cluster
from devstack.cluster.envfile import load_env, placeholder_secrets
from settings import ClusterSettings, get_cluster_settings

logger = logging.getLogger(__name__)


def _on_term(*_: object) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt


def _secrets_ready(env: Dict[str, str]) -> bool:
    """Refuse copied placeholders; generate a staff token; say which optional secrets are off."""
    placeholders = placeholder_secrets(env)
    if placeholders:
        print(f"请先替换 .env 中的占位值：{', '.join(placeholders)}", file=sys.stderr)
        return False
    if not env.get("STAFF_TOKEN"):
        env["STAFF_TOKEN"] = secrets.token_urlsafe(16)
        print(f"STAFF_TOKEN 未设置，本次运行生成的工作人员令牌：{env['STAFF_TOKEN']}")
    if not env.get("RASA_AUTH_TOKEN"):
        print("RASA_AUTH_TOKEN 未设置：Rasa 的 HTTP API 关闭（只开放聊天通道）。")
    if not env.get("SOCKETIO_JWT_SECRET"):
        print("SOCKETIO_JWT_SECRET 未设置：socket.io 连接不需要令牌。")
    return True


def cluster_settings(env: Dict[str, str]) -> ClusterSettings:
    """The layout's settings; an ephemeral run gets a temporary folder."""
    config = get_cluster_settings(env)
    if config.ephemeral:
        run_dir = Path(tempfile.mkdtemp(prefix="ipa-prod-"))
        config = dataclasses.replace(config, run_dir=run_dir, data_dir=run_dir)
    return config


def print_addresses(cluster: Cluster) -> None:
    """The addresses an operator opens."""
    c = cluster.config
    print("\n知识产权政策助手（生产布局）已启动：")
    print(f"  入口（nginx）:        http://localhost:{c.nginx_port}/   （工作人员查询台 /staff/）")
    print(f"  REST 接口:            POST http://localhost:{c.nginx_port}/webhooks/rest/webhook")
    print(f"  微信公众号接口:       http://localhost:{c.nginx_port}/webhooks/wechat/webhook")
    print(f"  Rasa 副本:            {', '.join(cluster.rasa_url(i) for i in range(2))}")
    print(f"  动作服务器:           {', '.join(cluster.action_url(i) for i in range(2))}")
    print(f"  PostgreSQL / Redis:   {c.db_address}:{c.db_port} / {c.redis_address}:{c.redis_port}")
    print("按 Ctrl-C 停止。\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Start, print the addresses, stop everything on Ctrl-C or a crash."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = load_env(os.environ)
    if not _secrets_ready(env):
        return 2
    try:
        config = cluster_settings(env)
    except ValueError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    cluster = Cluster(config, env)
    stopping = False
    signal.signal(signal.SIGTERM, _on_term)
    try:
        print(f"启动中（数据目录 {config.data_dir}，日志 {cluster.log_dir}）…首次加载模型需要几分钟。")
        cluster.start()
        print_addresses(cluster)
        while True:
            dead = cluster.group.dead(skip=("initdb",))
            if dead:
                logger.error("process stopped: %s (logs in %s)", ", ".join(dead), cluster.log_dir)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        stopping = True
        return 0
    except RuntimeError as exc:
        print(f"启动失败：{exc}", file=sys.stderr)
        return 1
    finally:
        if stopping:
            print("正在停止…")
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
