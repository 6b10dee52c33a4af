"""The one place that reads environment variables, with safe local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    """Return a stripped environment value or the default."""
    value = env.get(name, "")
    return value.strip() if value and value.strip() else default


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    """Return a float environment value; a malformed one raises with its name."""
    raw = _text(env, name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


def _origins(raw: str) -> Tuple[str, ...]:
    """Split a comma- or space-separated allow-list of origins."""
    return tuple(part for part in raw.replace(",", " ").split() if part)


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the assistant, its channels and its web desk."""

    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = "http://localhost:5005"
    action_server_url: str = "http://localhost:5055/webhook"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    staff_token: str = ""
    rasa_auth_token: str = ""
    cors_origins: Tuple[str, ...] = ("http://localhost:8080", "http://127.0.0.1:8080")
    socketio_jwt_secret: str = ""
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_timeout: float = 4.0
    redis_url: str = ""
    tracker_db_url: str = field(default_factory=lambda: f"sqlite:///{PROJECT_ROOT / 'rasa.db'}")
    kb_dir: Optional[Path] = None
    log_level: str = "INFO"


def get_settings(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Build the settings from the environment (or a given mapping, for tests)."""
    env = os.environ if env is None else env
    defaults = Settings()
    kb_dir = _text(env, "KB_DIR")
    rasa_port = int(_number(env, "RASA_PORT", defaults.rasa_port))
    action_port = int(_number(env, "ACTION_PORT", defaults.action_port))
    return Settings(
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=_text(env, "RASA_URL", f"http://localhost:{rasa_port}").rstrip("/"),
        action_server_url=_text(env, "ACTION_SERVER_URL", f"http://localhost:{action_port}/webhook"),
        web_host=_text(env, "WEB_HOST", defaults.web_host),
        web_port=int(_number(env, "WEB_PORT", defaults.web_port)),
        staff_token=_text(env, "STAFF_TOKEN"),
        rasa_auth_token=_text(env, "RASA_AUTH_TOKEN"),
        cors_origins=_origins(_text(env, "CORS_ORIGINS")) or defaults.cors_origins,
        socketio_jwt_secret=_text(env, "SOCKETIO_JWT_SECRET"),
        wechat_token=_text(env, "WECHAT_TOKEN"),
        wechat_app_id=_text(env, "WECHAT_APP_ID"),
        wechat_app_secret=_text(env, "WECHAT_APP_SECRET"),
        wechat_encoding_aes_key=_text(env, "WECHAT_ENCODING_AES_KEY"),
        wechat_api_base=_text(env, "WECHAT_API_BASE", defaults.wechat_api_base).rstrip("/"),
        wechat_reply_timeout=_number(env, "WECHAT_REPLY_TIMEOUT", defaults.wechat_reply_timeout),
        redis_url=_text(env, "REDIS_URL"),
        tracker_db_url=_text(env, "TRACKER_DB_URL", defaults.tracker_db_url),
        kb_dir=Path(kb_dir) if kb_dir else None,
        log_level=_text(env, "LOG_LEVEL", defaults.log_level).upper(),
    )


def _ports(raw: str, count: int, name: str) -> Tuple[int, ...]:
    """A comma- or space-separated list of `count` ports."""
    parts = [p for p in raw.replace(",", " ").split() if p]
    if len(parts) != count or not all(p.isdigit() for p in parts):
        raise ValueError(f"{name}={raw!r}: expected {count} port numbers")
    return tuple(int(p) for p in parts)


@dataclass
class ClusterSettings:
    """Ports, folders, shared services and limits of the production layout (`make run-prod`, tests/prod)."""

    run_dir: Path
    data_dir: Path
    ephemeral: bool = False
    bind: str = "127.0.0.1"  # internal processes listen here only
    nginx_host: str = "0.0.0.0"
    nginx_port: int = 8088
    rasa_ports: Tuple[int, ...] = (5006, 5007)
    action_ports: Tuple[int, ...] = (5056, 5057)
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
    cors_origins: Tuple[str, ...] = ()
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
    pg_bin: str = ""  # folder of postgres/initdb; "" = newest /usr/lib/postgresql/*/bin

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
    def public_origins(self) -> Tuple[str, ...]:
        """Origins of the pages served through nginx (the default allow-list)."""
        return (f"http://localhost:{self.nginx_port}", f"http://127.0.0.1:{self.nginx_port}")

    def check(self) -> list:
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


def get_cluster_settings(env: Optional[Mapping[str, str]] = None, run_dir: Optional[Path] = None) -> ClusterSettings:
    """The production layout from the environment (defaults as in docs/production.md); run_dir overrides RUN_PROD_DIR."""
    env = os.environ if env is None else env
    settings = get_settings(env)
    ephemeral = _text(env, "RUN_PROD_EPHEMERAL", "0").lower() in ("1", "true", "yes")
    if run_dir is None:
        run_dir = Path(_text(env, "RUN_PROD_DIR", str(PROJECT_ROOT / "var")))
        if not run_dir.is_absolute():
            run_dir = PROJECT_ROOT / run_dir
    nginx_port = int(_text(env, "NGINX_PORT", "8088"))
    origins = settings.cors_origins if _text(env, "CORS_ORIGINS") else (
        f"http://localhost:{nginx_port}", f"http://127.0.0.1:{nginx_port}")
    return ClusterSettings(
        run_dir=run_dir,
        data_dir=run_dir,
        ephemeral=ephemeral,
        nginx_host=_text(env, "NGINX_HOST", "0.0.0.0"),
        nginx_port=nginx_port,
        rasa_ports=_ports(_text(env, "RASA_PORTS", "5006,5007"), 2, "RASA_PORTS"),
        action_ports=_ports(_text(env, "ACTION_PORTS", "5056,5057"), 2, "ACTION_PORTS"),
        actions_lb_port=int(_text(env, "ACTIONS_LB_PORT", "5058")),
        web_port=settings.web_port,
        db_host=_text(env, "DB_HOST"),
        db_port=int(_text(env, "DB_PORT", "5433")),
        db_name=_text(env, "DB_NAME", "rasa"),
        db_user=_text(env, "DB_USER", "rasa"),
        db_password=env.get("DB_PASSWORD", ""),
        redis_host=_text(env, "REDIS_HOST"),
        redis_port=int(_text(env, "REDIS_PORT", "6380")),
        redis_password=env.get("REDIS_PASSWORD", ""),
        redis_lock_db=int(_text(env, "REDIS_LOCK_DB", "1")),
        redis_key_prefix=_text(env, "REDIS_KEY_PREFIX"),
        redis_url=settings.redis_url,
        cors_origins=tuple(origins),
        server_name=_text(env, "NGINX_SERVER_NAME", "_"),
        max_body=_text(env, "NGINX_MAX_BODY", "64k"),
        request_max_size=int(_text(env, "SANIC_REQUEST_MAX_SIZE", "1048576")),
        actions_request_max_size=int(_text(env, "ACTIONS_REQUEST_MAX_SIZE", "33554432")),
        chat_rate=_text(env, "NGINX_CHAT_RATE", "10r/s"),
        chat_burst=int(_text(env, "NGINX_CHAT_BURST", "20")),
        wechat_rate=_text(env, "NGINX_WECHAT_RATE", "50r/s"),
        wechat_burst=int(_text(env, "NGINX_WECHAT_BURST", "100")),
        max_conns=int(_text(env, "NGINX_MAX_CONNS", "50")),
        pg_bin=_text(env, "PG_BIN"),
    )
