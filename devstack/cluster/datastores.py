"""PostgreSQL (tracker store) and Redis (locks, WeChat store) of the production layout, started from the installed binaries."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from devstack.cluster.binaries import Binaries, chown_tree, service_user
from devstack.processes import ProcessGroup
from settings import ClusterSettings

logger = logging.getLogger(__name__)

SERVER_ENV = {"PATH": os.defpath, "LANG": "C"}


@dataclass
class Postgres:
    """A PostgreSQL server in <data_dir>/pg on 127.0.0.1:DB_PORT, or the one DB_HOST names."""

    config: ClusterSettings
    binaries: Binaries
    group: ProcessGroup

    @property
    def pg_dir(self) -> Path:
        """PostgreSQL's data folder (var/pg)."""
        return self.config.data_dir / "pg"

    def _init(self) -> None:
        """initdb into var/pg (once), as the postgres account when we are root."""
        if (self.pg_dir / "PG_VERSION").exists():
            return
        account = service_user("postgres")
        if os.geteuid() == 0 and account is None:
            raise RuntimeError("PostgreSQL does not run as root and there is no 'postgres' account")
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pg_dir, 0o700)
        chown_tree(self.pg_dir, account)
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
            proc = self.group.spawn("initdb", cmd, SERVER_ENV, **_as(account))
            if proc.wait(timeout=180) != 0:
                raise RuntimeError(f"initdb failed:\n{self.group.log('initdb')[-3000:]}")
        finally:
            if pwfile:
                os.unlink(pwfile)

    def start(self, timeout: float = 60.0) -> None:
        """Start (initialising if needed) PostgreSQL on 127.0.0.1:DB_PORT and create DB_NAME."""
        self._init()
        cmd = [self.binaries.postgres, "-D", str(self.pg_dir), "-p", str(self.config.db_port),
               "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"]
        if self.config.ephemeral:
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self.group.spawn("postgres", cmd, SERVER_ENV, **_as(service_user("postgres")))
        self.group.wait("postgres", lambda: self.connect("postgres") is not None, "PostgreSQL", timeout)
        self._create_database()

    def connect(self, dbname: str) -> Any:
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

        conn = self.connect("postgres")
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

    def stop(self) -> None:
        """Fast shutdown (SIGINT): running transactions are rolled back, nothing committed is lost."""
        self.group.stop("postgres", signal.SIGINT, timeout=60)


@dataclass
class Redis:
    """A redis-server with data in <data_dir>/redis on 127.0.0.1:REDIS_PORT, or the one REDIS_HOST names."""

    config: ClusterSettings
    binaries: Binaries
    group: ProcessGroup

    def start(self, timeout: float = 30.0) -> None:
        """Write redis.conf (mode 600: it may hold the password) and start redis-server."""
        c = self.config
        account = service_user("redis")
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
        chown_tree(data, account)
        if account is not None:
            os.chown(conf, account.pw_uid, account.pw_gid)
        self.group.spawn("redis", [self.binaries.redis_server, str(conf)], {"PATH": os.defpath}, **_as(account))
        self.group.wait("redis", self.ready, "Redis", timeout)

    def ready(self) -> bool:
        """Whether Redis answers PING."""
        import redis

        try:
            client = redis.Redis(host=self.config.redis_address, port=self.config.redis_port,
                                 password=self.config.redis_password or None, socket_timeout=2)
            return bool(client.ping())
        except redis.RedisError:
            return False


def _as(account: Optional[Any]) -> dict:
    """Popen arguments that run a server as a service account (nothing when we are not root)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
