"""`make run-prod`: the production layout on one machine; Ctrl-C stops everything.

    PostgreSQL (5433) ─┐                    ┌─ Rasa replica A (5006) ─┐
    Redis      (6380) ─┼─ shared state ──── ┤                         ├─ nginx 127.0.0.1:5058 ─┬─ action server (5056)
                       │                    └─ Rasa replica B (5007) ─┘   (internal)           └─ action server (5057)
    nginx :8088 ── /webhooks/rest/, /webhooks/wechat/ → replicas round-robin
                ── /socket.io/ → replicas, sticky by client IP (ip_hash), WebSocket upgrade
                ── /, /staff/, /api/ → web app (WEB_PORT, 8080)

PostgreSQL and Redis are started from the installed binaries (initdb into var/pg, Redis data in
var/redis) unless DB_HOST / REDIS_HOST name existing servers. RUN_PROD_EPHEMERAL=1 puts all data
in a temporary folder that is removed on exit. The variables are documented in docs/production.md
and .env.example; a `.env` file in the project root (or ENV_FILE) is read first, without
overriding variables that are already set.

Other entry points:
    python -m scripts.run_prod exec-rasa ARGS…   `rasa ARGS…`, adding --enable-api --auth-token from
                                                 RASA_AUTH_TOKEN (kept out of the command line, ps)
    python -m scripts.run_prod render-nginx …    print deploy/nginx.conf.template rendered (compose/k8s)

The tests (tests/prod/) use the `Cluster` class with free ports and a temporary folder.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests

from settings import PROJECT_ROOT, get_settings

logger = logging.getLogger("run_prod")

BIN = Path(sys.executable).parent
MODEL = PROJECT_ROOT / "models" / "ip-assistant.tar.gz"
ENDPOINTS = PROJECT_ROOT / "endpoints.prod.yml"
CREDENTIALS = PROJECT_ROOT / "deploy" / "credentials.prod.yml"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
WECHAT_VARS = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY")


# ------------------------------------------------------------------------------------ helpers


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines and `export ` prefixes allowed)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _ports(raw: str, count: int, name: str) -> tuple[int, ...]:
    """A comma- or space-separated list of `count` ports."""
    parts = [p for p in raw.replace(",", " ").split() if p]
    if len(parts) != count or not all(p.isdigit() for p in parts):
        raise ValueError(f"{name}={raw!r}: expected {count} port numbers")
    return tuple(int(p) for p in parts)


def _service_user(name: str) -> pwd.struct_passwd | None:
    """The system account a service should drop to when we run as root (None when not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _chown_tree(path: Path, account: pwd.struct_passwd | None) -> None:
    """Give a folder (recursively) to a service account."""
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


# ------------------------------------------------------------------------------------ binaries


@dataclass(frozen=True)
class Binaries:
    """Paths of the server programs the production layout starts."""

    postgres: str | None
    initdb: str | None
    redis_server: str | None
    nginx: str | None

    @classmethod
    def find(cls, env: Mapping[str, str] = os.environ) -> Binaries:
        """Look in PG_BIN, /usr/lib/postgresql/<newest>/bin, /usr/sbin and PATH."""
        pg_dirs = [env["PG_BIN"]] if env.get("PG_BIN") else []
        pg_dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                          key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                          reverse=True)

        def pg(name: str) -> str | None:
            for folder in pg_dirs:
                candidate = Path(folder) / name
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
            return shutil.which(name)

        path = os.pathsep.join([env.get("PATH", os.defpath), "/usr/sbin", "/usr/local/sbin"])
        return cls(
            postgres=pg("postgres"),
            initdb=pg("initdb"),
            redis_server=shutil.which("redis-server", path=path),
            nginx=shutil.which("nginx", path=path),
        )

    def missing(self, need_postgres: bool = True, need_redis: bool = True) -> list[str]:
        """Names of the programs that were not found."""
        wanted = {"nginx": self.nginx}
        if need_postgres:
            wanted.update(postgres=self.postgres, initdb=self.initdb)
        if need_redis:
            wanted["redis-server"] = self.redis_server
        return [name for name, path in wanted.items() if not path]


# ------------------------------------------------------------------------------------ configuration


@dataclass
class ProdConfig:
    """Ports, folders, shared services and limits of the production layout."""

    run_dir: Path
    data_dir: Path
    ephemeral: bool = False
    bind: str = "127.0.0.1"  # internal processes listen here only
    nginx_host: str = "0.0.0.0"
    nginx_port: int = 8088
    rasa_ports: tuple[int, ...] = (5006, 5007)
    action_ports: tuple[int, ...] = (5056, 5057)
    actions_lb_port: int = 5058
    web_port: int = 8080
    db_host: str = ""  # "" = start PostgreSQL here
    db_port: int = 5433
    db_name: str = "rasa"
    db_user: str = "rasa"
    db_password: str = ""
    redis_host: str = ""  # "" = start Redis here
    redis_port: int = 6380
    redis_password: str = ""
    redis_lock_db: int = 1
    redis_key_prefix: str = ""
    redis_url: str = ""  # WeChat store; default redis://…/0 of the same server
    cors_origins: tuple[str, ...] = ()
    server_name: str = "_"
    max_body: str = "64k"
    actions_max_body: str = "32m"
    request_max_size: int = 1_048_576  # Sanic REQUEST_MAX_SIZE of Rasa and the web app
    actions_request_max_size: int = 33_554_432  # trackers of long conversations are big
    chat_rate: str = "10r/s"
    chat_burst: int = 20
    wechat_rate: str = "50r/s"
    wechat_burst: int = 100
    page_rate: str = "30r/s"
    page_burst: int = 60
    max_conns: int = 50

    @property
    def local_db(self) -> bool:
        """Whether PostgreSQL is started here."""
        return not self.db_host

    @property
    def local_redis(self) -> bool:
        """Whether Redis is started here."""
        return not self.redis_host

    @property
    def db_address(self) -> str:
        """Host of PostgreSQL as the Rasa replicas see it."""
        return self.db_host or "127.0.0.1"

    @property
    def redis_address(self) -> str:
        """Host of Redis as the Rasa replicas see it."""
        return self.redis_host or "127.0.0.1"

    @property
    def tracker_db_url(self) -> str:
        """SQLAlchemy URL of the tracker store (the web app's report reads it)."""
        if "://" in self.db_host:
            return self.db_host
        auth = quote(self.db_user, safe="")
        if self.db_password:
            auth += ":" + quote(self.db_password, safe="")
        return f"postgresql://{auth}@{self.db_address}:{self.db_port}/{self.db_name}"

    @property
    def wechat_redis_url(self) -> str:
        """Redis URL for the WeChat channel's de-dup store."""
        if self.redis_url:
            return self.redis_url
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_address}:{self.redis_port}/0"

    @property
    def public_origins(self) -> tuple[str, ...]:
        """Origins of the pages served through nginx (the default allow-list)."""
        return (f"http://localhost:{self.nginx_port}", f"http://127.0.0.1:{self.nginx_port}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], run_dir: Path | None = None) -> ProdConfig:
        """Read the layout from environment variables (defaults as in docs/production.md)."""

        def get(name: str, default: str = "") -> str:
            value = env.get(name, "")
            return value.strip() if value and value.strip() else default

        settings = get_settings(env)
        ephemeral = get("RUN_PROD_EPHEMERAL", "0").lower() in ("1", "true", "yes")
        if run_dir is None:
            if ephemeral:
                run_dir = Path(tempfile.mkdtemp(prefix="ipa-prod-"))
            else:
                run_dir = Path(get("RUN_PROD_DIR", str(DEFAULT_VAR_DIR)))
        nginx_port = int(get("NGINX_PORT", "8088"))
        origins = settings.cors_origins if get("CORS_ORIGINS") else (
            f"http://localhost:{nginx_port}", f"http://127.0.0.1:{nginx_port}")
        return cls(
            run_dir=run_dir,
            data_dir=run_dir,
            ephemeral=ephemeral,
            nginx_host=get("NGINX_HOST", "0.0.0.0"),
            nginx_port=nginx_port,
            rasa_ports=_ports(get("RASA_PORTS", "5006,5007"), 2, "RASA_PORTS"),
            action_ports=_ports(get("ACTION_PORTS", "5056,5057"), 2, "ACTION_PORTS"),
            actions_lb_port=int(get("ACTIONS_LB_PORT", "5058")),
            web_port=settings.web_port,
            db_host=get("DB_HOST"),
            db_port=int(get("DB_PORT", "5433")),
            db_name=get("DB_NAME", "rasa"),
            db_user=get("DB_USER", "rasa"),
            db_password=env.get("DB_PASSWORD", ""),
            redis_host=get("REDIS_HOST"),
            redis_port=int(get("REDIS_PORT", "6380")),
            redis_password=env.get("REDIS_PASSWORD", ""),
            redis_lock_db=int(get("REDIS_LOCK_DB", "1")),
            redis_key_prefix=get("REDIS_KEY_PREFIX"),
            redis_url=settings.redis_url,
            cors_origins=tuple(origins),
            server_name=get("NGINX_SERVER_NAME", "_"),
            max_body=get("NGINX_MAX_BODY", "64k"),
            request_max_size=int(get("SANIC_REQUEST_MAX_SIZE", "1048576")),
            actions_request_max_size=int(get("ACTIONS_REQUEST_MAX_SIZE", "33554432")),
            chat_rate=get("NGINX_CHAT_RATE", "10r/s"),
            chat_burst=int(get("NGINX_CHAT_BURST", "20")),
            wechat_rate=get("NGINX_WECHAT_RATE", "50r/s"),
            wechat_burst=int(get("NGINX_WECHAT_BURST", "100")),
            max_conns=int(get("NGINX_MAX_CONNS", "50")),
        )

    def check(self) -> list[str]:
        """Configuration problems that must stop the start."""
        problems = []
        if any(o.strip() == "*" for o in self.cors_origins):
            problems.append("CORS_ORIGINS must list origins; '*' is not allowed in production")
        for origin in self.cors_origins:
            if not origin.startswith(("http://", "https://")) or '"' in origin or ";" in origin:
                problems.append(f"CORS_ORIGINS entry {origin!r} is not an origin like https://example.org")
        if self.redis_key_prefix and not self.redis_key_prefix.isalnum():
            problems.append("REDIS_KEY_PREFIX must be alphanumeric")
        ports = [self.nginx_port, self.actions_lb_port, self.web_port, *self.rasa_ports, *self.action_ports]
        if self.local_db:
            ports.append(self.db_port)
        if self.local_redis:
            ports.append(self.redis_port)
        if len(set(ports)) != len(ports):
            problems.append(f"ports collide: {sorted(ports)}")
        return problems


# ------------------------------------------------------------------------------------ nginx


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
    user: str | None = None,
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


# ------------------------------------------------------------------------------------ cluster


@dataclass
class Cluster:
    """PostgreSQL, Redis, two action servers, two Rasa replicas, the web app and nginx."""

    config: ProdConfig
    env: dict[str, str]
    binaries: Binaries = field(default_factory=Binaries.find)
    model: Path = MODEL
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    # ---- addresses
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
        path = self.log_dir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # ---- environment
    def process_env(self) -> dict[str, str]:
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

    def commands(self) -> dict[str, tuple[list[str], dict[str, str]]]:
        """Command and environment of each assistant process (not the servers)."""
        c = self.config
        base = self.process_env()
        cmds: dict[str, tuple[list[str], dict[str, str]]] = {}
        for i, port in enumerate(c.action_ports):
            env = dict(base, SANIC_HOST=c.bind, SANIC_REQUEST_MAX_SIZE=str(c.actions_request_max_size))
            cmds[f"actions-{i + 1}"] = ([str(BIN / "rasa"), "run", "actions", "--port", str(port),
                                         "--actions", "actions"], env)
        for i, port in enumerate(c.rasa_ports):
            cmds[f"rasa-{i + 1}"] = ([sys.executable, "-m", "scripts.run_prod", "exec-rasa", "run",
                                      "--model", str(self.model), "--interface", c.bind, "--port", str(port),
                                      "--endpoints", str(ENDPOINTS), "--credentials", str(CREDENTIALS),
                                      "--cors", *c.cors_origins], dict(base))
        cmds["web"] = ([sys.executable, "-m", "webapp"], dict(base))
        return cmds

    # ---- processes
    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None,
               account: pwd.struct_passwd | None = None) -> subprocess.Popen:
        """Start one process in its own session, output to log/<name>.log (appended)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            extra = {}
            if account is not None:
                extra = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env or self.process_env(), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, **extra)
        self.procs[name] = proc
        return proc

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Stop one process (and its children) and wait for it."""
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

    def kill(self, name: str) -> None:
        """SIGKILL a process at once (fault tests)."""
        self.stop_process(name, signal.SIGKILL, timeout=10)

    def _wait(self, name: str, ready, what: str, timeout: float) -> None:
        """Poll ready() until true; fail early when the process died."""
        deadline = time.monotonic() + timeout
        while not ready():
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} stopped (exit {proc.returncode}); log:\n{self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {what} not ready after {timeout:.0f} s; log:\n{self.log(name)[-3000:]}")
            time.sleep(0.3)

    # ---- PostgreSQL
    @property
    def pg_dir(self) -> Path:
        """PostgreSQL's data folder (var/pg)."""
        return self.config.data_dir / "pg"

    def _init_postgres(self) -> None:
        """initdb into var/pg (once), as the postgres account when we are root."""
        if (self.pg_dir / "PG_VERSION").exists():
            return
        account = _service_user("postgres")
        if os.geteuid() == 0 and account is None:
            raise RuntimeError("PostgreSQL does not run as root and there is no 'postgres' account")
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pg_dir, 0o700)
        _chown_tree(self.pg_dir, account)
        cmd = [self.binaries.initdb, "-D", str(self.pg_dir), "-U", self.config.db_user, "-E", "UTF8",
               "--no-locale", "--auth-local=trust"]
        pwfile = None
        if self.config.db_password:
            fd, pwfile = tempfile.mkstemp(prefix="pgpw-", dir=self.config.run_dir)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.config.db_password + "\n")
            if account is not None:
                os.chown(pwfile, account.pw_uid, account.pw_gid)
            cmd += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            cmd += ["--auth-host=trust"]
        if self.config.ephemeral:
            cmd.append("--no-sync")
        try:
            proc = self._spawn("initdb", cmd, env={"PATH": os.defpath, "LANG": "C"}, account=account)
            if proc.wait(timeout=180) != 0:
                raise RuntimeError(f"initdb failed:\n{self.log('initdb')[-3000:]}")
        finally:
            if pwfile:
                os.unlink(pwfile)

    def start_postgres(self, timeout: float = 60.0) -> None:
        """Start (initialising if needed) PostgreSQL on 127.0.0.1:DB_PORT and create DB_NAME."""
        self._init_postgres()
        cmd = [self.binaries.postgres, "-D", str(self.pg_dir), "-p", str(self.config.db_port),
               "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
               "-c", "max_connections=200"]
        if self.config.ephemeral:
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._spawn("postgres", cmd, env={"PATH": os.defpath, "LANG": "C"}, account=_service_user("postgres"))
        self._wait("postgres", lambda: self._pg_connect("postgres") is not None, "PostgreSQL", timeout)
        self._create_database()

    def _pg_connect(self, dbname: str):
        """A psycopg2 connection, or None while the server is not ready."""
        import psycopg2

        c = self.config
        try:
            if "://" in c.db_host:
                return psycopg2.connect(c.db_host, connect_timeout=3)
            return psycopg2.connect(host=c.db_address, port=c.db_port, user=c.db_user,
                                    password=c.db_password or None, dbname=dbname, connect_timeout=3)
        except psycopg2.OperationalError:
            return None

    def _create_database(self) -> None:
        """CREATE DATABASE DB_NAME unless it exists."""
        from psycopg2 import sql

        conn = self._pg_connect("postgres")
        if conn is None:
            raise RuntimeError("PostgreSQL is not reachable")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.config.db_name,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.config.db_name)))
        finally:
            conn.close()

    def stop_postgres(self) -> None:
        """Fast shutdown (SIGINT): running transactions are rolled back, nothing committed is lost."""
        self.stop_process("postgres", signal.SIGINT, timeout=60)

    def restart_postgres(self, timeout: float = 60.0) -> None:
        """Stop and start PostgreSQL on the same data folder and port (fault tests)."""
        self.stop_postgres()
        self.start_postgres(timeout)

    # ---- Redis
    def start_redis(self, timeout: float = 30.0) -> None:
        """Start redis-server on 127.0.0.1:REDIS_PORT with data in var/redis."""
        c = self.config
        account = _service_user("redis")
        data = c.data_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        conf = c.run_dir / "redis.conf"
        lines = [f"bind {c.bind}", f"port {c.redis_port}", f"dir {data}", "daemonize no",
                 "protected-mode yes", 'logfile ""', "appendonly no"]
        lines.append('save ""' if c.ephemeral else "save 300 1")
        if c.redis_password:
            lines.append(f'requirepass "{c.redis_password}"')
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        _chown_tree(data, account)
        if account is not None:
            os.chown(conf, account.pw_uid, account.pw_gid)
        self._spawn("redis", [self.binaries.redis_server, str(conf)], env={"PATH": os.defpath}, account=account)
        self._wait("redis", self._redis_ready, "Redis", timeout)

    def _redis_ready(self) -> bool:
        """Whether Redis answers PING."""
        import redis

        try:
            client = redis.Redis(host=self.config.redis_address, port=self.config.redis_port,
                                 password=self.config.redis_password or None, socket_timeout=2)
            return bool(client.ping())
        except redis.RedisError:
            return False

    # ---- nginx
    def nginx_conf(self) -> str:
        """The rendered nginx configuration."""
        c = self.config
        account = _service_user("www-data") or _service_user("nobody")
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
            server_name=c.server_name,
            max_body=c.max_body,
            actions_max_body=c.actions_max_body,
            chat_rate=c.chat_rate,
            chat_burst=c.chat_burst,
            wechat_rate=c.wechat_rate,
            wechat_burst=c.wechat_burst,
            page_rate=c.page_rate,
            page_burst=c.page_burst,
            max_conns=c.max_conns,
            worker_processes="2",
        )

    def start_nginx(self, timeout: float = 20.0) -> None:
        """Render the configuration, check it with nginx -t and start nginx in the foreground."""
        nginx_dir = self.config.run_dir / "nginx"
        (nginx_dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(self.nginx_conf(), encoding="utf-8")
        account = _service_user("www-data") or _service_user("nobody")
        _chown_tree(nginx_dir / "tmp", account)
        base = [self.binaries.nginx, "-p", str(nginx_dir), "-c", str(conf), "-e", str(self.log_dir / "nginx-error.log")]
        check = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self._spawn("nginx", base, env={"PATH": os.defpath})
        self._wait("nginx", lambda: port_open("127.0.0.1", self.config.nginx_port), "nginx", timeout)

    # ---- the assistant
    def start_process(self, name: str) -> None:
        """(Re)start one of the assistant's processes by name (actions-1, rasa-2, web, …)."""
        cmd, env = self.commands()[name]
        self._spawn(name, cmd, env)

    def health_url(self, name: str) -> str:
        """The URL that answers 200 once a process is ready."""
        if name.startswith("actions-"):
            return f"{self.action_url(int(name[-1]) - 1)}/health"
        if name.startswith("rasa-"):
            return f"{self.rasa_url(int(name[-1]) - 1)}/webhooks/guard/"  # 200 once warmed up
        return f"{self.web_url}/healthz"

    def wait_ready(self, name: str, timeout: float = 600.0) -> None:
        """Wait until a process answers its health URL."""
        self._wait(name, lambda: answers(self.health_url(name)), "health check", timeout)

    def prepare(self) -> None:
        """Folders and the run directory's permissions (service accounts must reach their files)."""
        c = self.config
        c.run_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chmod(c.run_dir, 0o711)  # traverse only: postgres/redis/www-data reach their subfolders
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 900.0) -> Cluster:
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
            if self.config.local_db:
                self.start_postgres()
            elif self._pg_connect(self.config.db_name) is None:
                raise RuntimeError(f"PostgreSQL at {self.config.db_address}:{self.config.db_port} is not reachable")
            if self.config.local_redis:
                self.start_redis()
            elif not self._redis_ready():
                raise RuntimeError(f"Redis at {self.config.redis_address}:{self.config.redis_port} is not reachable")
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
        self.stop_postgres()
        for name in list(self.procs):
            self.stop_process(name)
        if self.config.ephemeral:
            shutil.rmtree(self.config.run_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------ entry points


def rasa_argv(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`rasa ARGS`; the HTTP API only with RASA_AUTH_TOKEN set, and then always behind it."""
    token = (env.get("RASA_AUTH_TOKEN") or "").strip()
    if not token and "--enable-api" in args:
        raise SystemExit("--enable-api without RASA_AUTH_TOKEN would open Rasa's HTTP API to everyone")
    argv = ["rasa", *args]
    if token and args and args[0] == "run":
        argv += ["--enable-api", "--auth-token", token]
    return argv


def exec_rasa(args: Sequence[str]) -> None:
    """Run rasa in this process with rasa_argv() (the token stays out of the command line and ps)."""
    from scripts.rasa_server import run_rasa

    run_rasa(rasa_argv(args, os.environ)[1:])


def render_nginx_cli(args: Sequence[str]) -> int:
    """`render-nginx`: print the configuration for docker-compose/Kubernetes (service names)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.run_prod render-nginx")
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
    opts = parser.parse_args(args)
    env = dict(os.environ)
    config = ProdConfig.from_env(env, run_dir=Path(opts.run_dir))
    problems = config.check()
    if problems:
        print("; ".join(problems), file=sys.stderr)
        return 2
    text = render_nginx(
        NGINX_TEMPLATE.read_text(encoding="utf-8"), listen=opts.listen, actions_listen=opts.actions_listen,
        rasa_servers=opts.rasa, action_servers=opts.actions, web_server=opts.web, run_dir=opts.run_dir,
        access_log=opts.access_log, error_log=opts.error_log, temp_dir=opts.temp_dir, cors_origins=config.cors_origins, user=opts.user or None,
        server_name=config.server_name, max_body=config.max_body, chat_rate=config.chat_rate,
        chat_burst=config.chat_burst, wechat_rate=config.wechat_rate, wechat_burst=config.wechat_burst,
        max_conns=config.max_conns,
    )
    if opts.out == "-":
        sys.stdout.write(text)
    else:
        Path(opts.out).write_text(text, encoding="utf-8")
    return 0


def placeholder_secrets(env: Mapping[str, str]) -> list[str]:
    """Variables still holding a `change-me…` placeholder copied from .env.example."""
    return sorted(name for name, value in env.items()
                  if re.search(r"PASSWORD|SECRET|TOKEN|AES_KEY", name) and (value or "").startswith("change-me"))


def load_env(env: dict[str, str]) -> dict[str, str]:
    """The process environment plus ENV_FILE / .env (set variables win)."""
    path = Path(env.get("ENV_FILE") or PROJECT_ROOT / ".env")
    if path.is_file():
        for key, value in read_env_file(path).items():
            env.setdefault(key, value)
        print(f"读取环境变量文件 {path}")
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """`make run-prod`: start, print the addresses, stop everything on Ctrl-C or a crash."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "exec-rasa":
        exec_rasa(argv[1:])
        return 0
    if argv and argv[0] == "render-nginx":
        return render_nginx_cli(argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = load_env(dict(os.environ))
    placeholders = placeholder_secrets(env)
    if placeholders:
        print(f"请先替换 .env 中的占位值：{', '.join(placeholders)}", file=sys.stderr)
        return 2
    if not env.get("STAFF_TOKEN"):
        env["STAFF_TOKEN"] = secrets.token_urlsafe(16)
        print(f"STAFF_TOKEN 未设置，本次运行生成的工作人员令牌：{env['STAFF_TOKEN']}")
    if not env.get("RASA_AUTH_TOKEN"):
        print("RASA_AUTH_TOKEN 未设置：Rasa 的 HTTP API 关闭（只开放聊天通道）。")
    if not env.get("SOCKETIO_JWT_SECRET"):
        print("SOCKETIO_JWT_SECRET 未设置：socket.io 连接不需要令牌。")
    try:
        config = ProdConfig.from_env(env)
    except ValueError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    cluster = Cluster(config, env)
    stopping = False

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        print(f"启动中（数据目录 {config.data_dir}，日志 {cluster.log_dir}）…首次加载模型需要几分钟。")
        cluster.start()
        print("\n知识产权政策助手（生产布局）已启动：")
        print(f"  入口（nginx）:        http://localhost:{config.nginx_port}/   （工作人员查询台 /staff/）")
        print(f"  REST 接口:            POST http://localhost:{config.nginx_port}/webhooks/rest/webhook")
        print(f"  微信公众号接口:       http://localhost:{config.nginx_port}/webhooks/wechat/webhook")
        print(f"  Rasa 副本:            {', '.join(cluster.rasa_url(i) for i in range(2))}")
        print(f"  动作服务器:           {', '.join(cluster.action_url(i) for i in range(2))}")
        print(f"  PostgreSQL / Redis:   {config.db_address}:{config.db_port} / {config.redis_address}:{config.redis_port}")
        print("按 Ctrl-C 停止。\n")
        while True:
            dead = [n for n, p in cluster.procs.items() if n != "initdb" and p.poll() is not None]
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
