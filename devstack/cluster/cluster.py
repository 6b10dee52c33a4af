"""The running production layout: its addresses, the assistant's processes, nginx, start and stop in order."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from devstack.cluster.binaries import Binaries, chown_tree, service_user
from devstack.cluster.datastores import Postgres, Redis
from devstack.cluster.nginx import NGINX_TEMPLATE, render_nginx
from devstack.processes import (
    MODEL,
    ProcessGroup,
    action_server_command,
    answers,
    port_open,
    rasa_server_command,
    web_command,
)
from settings import PROJECT_ROOT, ClusterSettings

logger = logging.getLogger(__name__)

ENDPOINTS = PROJECT_ROOT / "endpoints.prod.yml"
CREDENTIALS = PROJECT_ROOT / "deploy" / "credentials.prod.yml"
RASA_ENTRY = ("scripts.rasa_prod",)
WECHAT_VARS = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY")


@dataclass
class Cluster:
    """PostgreSQL, Redis, two action servers, two Rasa replicas, the web app and nginx."""

    config: ClusterSettings
    env: Dict[str, str]
    binaries: Optional[Binaries] = None
    model: Path = MODEL
    group: ProcessGroup = field(init=False)

    def __post_init__(self) -> None:
        """Find the programs (PG_BIN first) and set up the process group and the data stores."""
        if self.binaries is None:
            self.binaries = Binaries.find(self.config.pg_bin)
        self.group = ProcessGroup(self.log_dir)
        self.postgres = Postgres(self.config, self.binaries, self.group)
        self.redis = Redis(self.config, self.binaries, self.group)

    # ---- addresses
    @property
    def procs(self) -> Dict[str, subprocess.Popen]:
        """The running processes by name."""
        return self.group.procs

    @property
    def log_dir(self) -> Path:
        """Where every process writes its output."""
        return self.config.run_dir / "log"

    @property
    def nginx_url(self) -> str:
        """The public entry."""
        return f"http://127.0.0.1:{self.config.nginx_port}"

    def rasa_url(self, index: int) -> str:
        """Base URL of Rasa replica 0 or 1."""
        return f"http://127.0.0.1:{self.config.rasa_ports[index]}"

    def action_url(self, index: int) -> str:
        """Base URL of action server 0 or 1."""
        return f"http://127.0.0.1:{self.config.action_ports[index]}"

    @property
    def web_url(self) -> str:
        """Base URL of the web app (direct, not through nginx)."""
        return f"http://127.0.0.1:{self.config.web_port}"

    @property
    def action_server_url(self) -> str:
        """ACTION_SERVER_URL of the replicas: nginx's internal listener."""
        return f"http://127.0.0.1:{self.config.actions_lb_port}/webhook"

    def log(self, name: str) -> str:
        """A process's output so far."""
        return self.group.log(name)

    # ---- the assistant's processes
    def process_env(self) -> Dict[str, str]:
        """The environment shared by the assistant's processes."""
        c = self.config
        env = dict(self.env)
        for name in (*WECHAT_VARS, "SOCKETIO_JWT_SECRET"):
            env.setdefault(name, "")
        env.update({
            "ACTION_SERVER_URL": self.action_server_url,
            "DB_HOST": c.db_address if "://" not in c.db_host else c.db_host,
            "DB_PORT": str(c.db_port),
            "DB_NAME": c.db_name,
            "DB_USER": c.db_user,
            "DB_PASSWORD": c.db_password,
            "REDIS_HOST": c.redis_address,
            "REDIS_PORT": str(c.redis_port),
            "REDIS_PASSWORD": c.redis_password,
            "REDIS_LOCK_DB": str(c.redis_lock_db),
            "REDIS_KEY_PREFIX": c.redis_key_prefix,
            "REDIS_URL": c.wechat_redis_url,
            "TRACKER_DB_URL": c.tracker_db_url,
            "CORS_ORIGINS": " ".join(c.cors_origins),
            "RASA_URL": self.rasa_url(0),
            "WEB_HOST": c.bind,
            "WEB_PORT": str(c.web_port),
            "SANIC_REQUEST_MAX_SIZE": str(c.request_max_size),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    def commands(self) -> Dict[str, Tuple[List[str], Dict[str, str]]]:
        """Command and environment of each assistant process (not the servers)."""
        c = self.config
        base = self.process_env()
        cmds: Dict[str, Tuple[List[str], Dict[str, str]]] = {}
        for i, port in enumerate(c.action_ports):
            env = dict(base, SANIC_HOST=c.bind, SANIC_REQUEST_MAX_SIZE=str(c.actions_request_max_size))
            cmds[f"actions-{i + 1}"] = (action_server_command(port), env)
        for i, port in enumerate(c.rasa_ports):
            cmds[f"rasa-{i + 1}"] = (rasa_server_command(RASA_ENTRY, model=self.model, port=port, endpoints=ENDPOINTS,
                                                         credentials=CREDENTIALS, cors=c.cors_origins, interface=c.bind),
                                     dict(base))
        cmds["web"] = (web_command(), dict(base))
        return cmds

    def start_process(self, name: str) -> None:
        """(Re)start one of the assistant's processes by name (actions-1, rasa-2, web, …)."""
        cmd, env = self.commands()[name]
        self.group.spawn(name, cmd, env)

    def health_url(self, name: str) -> str:
        """The URL that answers 200 once a process is ready."""
        if name.startswith("actions-"):
            return f"{self.action_url(int(name[-1]) - 1)}/health"
        if name.startswith("rasa-"):
            return f"{self.rasa_url(int(name[-1]) - 1)}/webhooks/guard/"  # 200 once warmed up
        return f"{self.web_url}/healthz"

    def wait_ready(self, name: str, timeout: float = 600.0) -> None:
        """Wait until a process answers its health URL."""
        self.group.wait(name, lambda: answers(self.health_url(name)), "health check", timeout)

    # ---- nginx
    def nginx_conf(self) -> str:
        """The rendered nginx configuration."""
        c = self.config
        account = service_user("www-data") or service_user("nobody")
        nginx_dir = c.run_dir / "nginx"
        return render_nginx(
            NGINX_TEMPLATE.read_text(encoding="utf-8"),
            listen=f"{c.nginx_host}:{c.nginx_port}" if c.nginx_host not in ("", "0.0.0.0") else str(c.nginx_port),
            actions_listen=f"127.0.0.1:{c.actions_lb_port}",
            rasa_servers=[f"127.0.0.1:{p}" for p in c.rasa_ports],
            action_servers=[f"127.0.0.1:{p}" for p in c.action_ports],
            web_server=f"127.0.0.1:{c.web_port}",
            run_dir=str(nginx_dir),
            access_log=str(self.log_dir / "nginx-access.log"),
            error_log=str(self.log_dir / "nginx-error.log"),
            temp_dir=str(nginx_dir / "tmp"),
            cors_origins=c.cors_origins,
            user=account.pw_name if account else None,
            server_name=c.server_name, max_body=c.max_body, actions_max_body=c.actions_max_body,
            chat_rate=c.chat_rate, chat_burst=c.chat_burst, wechat_rate=c.wechat_rate, wechat_burst=c.wechat_burst,
            page_rate=c.page_rate, page_burst=c.page_burst, max_conns=c.max_conns, worker_processes="2",
        )

    def start_nginx(self, timeout: float = 20.0) -> None:
        """Render the configuration, check it with nginx -t and start nginx in the foreground."""
        nginx_dir = self.config.run_dir / "nginx"
        (nginx_dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(self.nginx_conf(), encoding="utf-8")
        chown_tree(nginx_dir / "tmp", service_user("www-data") or service_user("nobody"))
        base = [self.binaries.nginx, "-p", str(nginx_dir), "-c", str(conf), "-e", str(self.log_dir / "nginx-error.log")]
        check = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, check=False, timeout=60)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.group.spawn("nginx", base, {"PATH": os.defpath})
        self.group.wait("nginx", lambda: port_open("127.0.0.1", self.config.nginx_port), "nginx", timeout)

    # ---- the whole layout
    def restart_postgres(self, timeout: float = 60.0) -> None:
        """Stop and start PostgreSQL on the same data folder and port (fault tests)."""
        self.postgres.stop()
        self.postgres.start(timeout)

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Stop one process (and its children) and wait for it."""
        self.group.stop(name, sig, timeout)

    def kill(self, name: str) -> None:
        """SIGKILL a process at once (fault tests)."""
        self.group.stop(name, signal.SIGKILL, timeout=10)

    def prepare(self) -> None:
        """Folders and the run directory's permissions (service accounts must reach their files)."""
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chmod(self.config.run_dir, 0o711)  # traverse only: postgres/redis/www-data reach their subfolders
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def _shared_state(self) -> None:
        """Start PostgreSQL and Redis here, or check that the named servers answer."""
        c = self.config
        if c.local_db:
            self.postgres.start()
        elif self.postgres.connect(c.db_name) is None:
            raise RuntimeError(f"PostgreSQL at {c.db_address}:{c.db_port} is not reachable")
        if c.local_redis:
            self.redis.start()
        elif not self.redis.ready():
            raise RuntimeError(f"Redis at {c.redis_address}:{c.redis_port} is not reachable")

    def start(self, timeout: float = 900.0) -> "Cluster":
        """Start everything and wait until every part answers (replicas load in parallel)."""
        problems = self.config.check()
        if problems:
            raise RuntimeError("; ".join(problems))
        if not self.model.exists():
            raise RuntimeError(f"{self.model} is missing: run `make train` first")
        missing = self.binaries.missing(self.config.local_db, self.config.local_redis)
        if missing:
            raise RuntimeError(f"missing programs: {', '.join(missing)} (make system-deps)")
        self.prepare()
        try:
            self._shared_state()
            names = list(self.commands())
            for name in names:
                self.start_process(name)
            self.start_nginx()
            for name in names:
                self.wait_ready(name, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything: nginx first, the servers last."""
        order = ["nginx", "web", *[n for n in self.procs if n.startswith("rasa-")],
                 *[n for n in self.procs if n.startswith("actions-")], "redis"]
        for name in order:
            self.stop_process(name, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        self.postgres.stop()
        for name in list(self.procs):
            self.stop_process(name)
        if self.config.ephemeral:
            shutil.rmtree(self.config.run_dir, ignore_errors=True)
