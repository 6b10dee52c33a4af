"""The one place that reads environment variables, with safe local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

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
    return Settings(
        rasa_url=_text(env, "RASA_URL", defaults.rasa_url).rstrip("/"),
        action_server_url=_text(env, "ACTION_SERVER_URL", defaults.action_server_url),
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
