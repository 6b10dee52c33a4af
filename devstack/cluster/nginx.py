"""deploy/nginx.conf.template rendered: for the cluster harness, and for docker-compose/Kubernetes (`python -m devstack.cluster.nginx`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Iterable, Optional, Sequence

from settings import PROJECT_ROOT, get_cluster_settings

logger = logging.getLogger(__name__)

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"


def render_nginx(
    template: str,
    *,
    listen: str,
    actions_listen: str,
    rasa_servers: Sequence[str],
    action_servers: Sequence[str],
    web_server: str,
    run_dir: str,
    access_log: str,
    error_log: str,
    temp_dir: str,
    cors_origins: Iterable[str],
    user: Optional[str] = None,
    server_name: str = "_",
    max_body: str = "64k",
    actions_max_body: str = "32m",
    chat_rate: str = "10r/s",
    chat_burst: int = 20,
    wechat_rate: str = "50r/s",
    wechat_burst: int = 100,
    page_rate: str = "30r/s",
    page_burst: int = 60,
    max_conns: int = 50,
    worker_processes: str = "auto",
) -> str:
    """deploy/nginx.conf.template with every {{NAME}} replaced."""

    def servers(addresses: Sequence[str]) -> str:
        return "\n".join(f"        server {a} max_fails=1 fail_timeout=10s;" for a in addresses)

    origin_map = "\n".join(f'        "{o}" 1;' for o in cors_origins if o and '"' not in o)
    values = {
        "USER_DIRECTIVE": f"user {user};" if user else "# (not root: no user directive)",
        "WORKER_PROCESSES": worker_processes,
        "RUN_DIR": run_dir,
        "ACCESS_LOG": access_log,
        "ERROR_LOG": error_log,
        "TEMP_DIR": temp_dir,
        "LISTEN": listen,
        "ACTIONS_LISTEN": actions_listen,
        "ACTIONS_LB_PORT": actions_listen.rsplit(":", 1)[-1],
        "SERVER_NAME": server_name,
        "MAX_BODY": max_body,
        "ACTIONS_MAX_BODY": actions_max_body,
        "CHAT_RATE": chat_rate,
        "CHAT_BURST": str(chat_burst),
        "WECHAT_RATE": wechat_rate,
        "WECHAT_BURST": str(wechat_burst),
        "PAGE_RATE": page_rate,
        "PAGE_BURST": str(page_burst),
        "MAX_CONNS": str(max_conns),
        "ORIGIN_MAP": origin_map,
        "RASA_SERVERS": servers(rasa_servers),
        "ACTION_SERVERS": servers(action_servers),
        "WEB_SERVER": web_server,
    }
    text = template
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        start = text.index("{{")
        raise ValueError(f"unrendered placeholder in nginx template: {text[start:start + 40]!r}")
    return text


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the configuration for docker-compose/Kubernetes (service names as upstreams)."""
    parser = argparse.ArgumentParser(prog="python -m devstack.cluster.nginx")
    parser.add_argument("--listen", default="8088")
    parser.add_argument("--actions-listen", default="5058")
    parser.add_argument("--rasa", nargs="+", default=["rasa-1:5005", "rasa-2:5005"])
    parser.add_argument("--actions", nargs="+", default=["actions-1:5055", "actions-2:5055"])
    parser.add_argument("--web", default="web:8080")
    parser.add_argument("--run-dir", default="/tmp")
    parser.add_argument("--access-log", default="/dev/stdout")
    parser.add_argument("--error-log", default="/dev/stderr")
    parser.add_argument("--temp-dir", default="/tmp")
    parser.add_argument("--user", default="nginx")
    parser.add_argument("--out", default="-")
    opts = parser.parse_args(argv)
    config = get_cluster_settings(os.environ, run_dir=Path(opts.run_dir))
    problems = config.check()
    if problems:
        print("; ".join(problems), file=sys.stderr)
        return 2
    text = render_nginx(
        NGINX_TEMPLATE.read_text(encoding="utf-8"), listen=opts.listen, actions_listen=opts.actions_listen,
        rasa_servers=opts.rasa, action_servers=opts.actions, web_server=opts.web, run_dir=opts.run_dir,
        access_log=opts.access_log, error_log=opts.error_log, temp_dir=opts.temp_dir, cors_origins=config.cors_origins,
        user=opts.user or None, server_name=config.server_name, max_body=config.max_body, chat_rate=config.chat_rate,
        chat_burst=config.chat_burst, wechat_rate=config.wechat_rate, wechat_burst=config.wechat_burst,
        max_conns=config.max_conns,
    )
    if opts.out == "-":
        sys.stdout.write(text)
    else:
        Path(opts.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
