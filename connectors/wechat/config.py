"""The WeChat channel's settings, read through the project's settings.py (WECHAT_* and REDIS_URL)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_REPLY_TIMEOUT = 4.0
# WeChat gives the server 5 s; stay safely below it whatever is configured.
MAX_REPLY_TIMEOUT = 4.5


@dataclass(frozen=True)
class WeChatSettings:
    """The settings this channel reads (mirrors fields of settings.get_settings())."""

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base: str = DEFAULT_API_BASE
    wechat_reply_timeout: float = DEFAULT_REPLY_TIMEOUT
    redis_url: Optional[str] = None


def parse_float(value: Any, default: float) -> float:
    """Parse a float, falling back to default on junk."""
    try:
        return float(value)
    except (TypeError, ValueError):
        logger.warning("invalid number for WECHAT_REPLY_TIMEOUT; using %s", default)
        return default


def load_settings() -> WeChatSettings:
    """Read the channel's settings through the project's settings.get_settings()."""
    from settings import get_settings

    s = get_settings()
    return WeChatSettings(
        wechat_token=getattr(s, "wechat_token", "") or "",
        wechat_app_id=getattr(s, "wechat_app_id", "") or "",
        wechat_app_secret=getattr(s, "wechat_app_secret", "") or "",
        wechat_encoding_aes_key=getattr(s, "wechat_encoding_aes_key", "") or "",
        wechat_api_base=getattr(s, "wechat_api_base", "") or DEFAULT_API_BASE,
        wechat_reply_timeout=parse_float(
            getattr(s, "wechat_reply_timeout", None) or DEFAULT_REPLY_TIMEOUT,
            DEFAULT_REPLY_TIMEOUT,
        ),
        redis_url=getattr(s, "redis_url", None) or None,
    )
