"""Query parameters of the staff API: parsed, bounded and validated, or a 400."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from .responses import ApiError

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_PARAM_CHARS = 100
MAX_LIMIT = 200
DEFAULT_SEARCH_LIMIT = 20
MAX_SENDER_ID_CHARS = 255


def text_param(args: Mapping[str, Any], name: str, max_chars: int = MAX_PARAM_CHARS) -> str | None:
    """A stripped text parameter (first value), None when absent or blank; too long → 400."""
    value = args.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if len(value) > max_chars:
        raise ApiError(400, f"参数 {name} 过长（最多 {max_chars} 个字符）")
    if "\x00" in value:
        raise ApiError(400, f"参数 {name} 含有非法字符")
    return value


def int_param(args: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = text_param(args, name, MAX_PARAM_CHARS)
    if raw is None:
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit():
        raise ApiError(400, f"参数 {name} 应为整数")
    value = int(raw) if len(raw) <= 12 else high + 1
    if not low <= value <= high:
        raise ApiError(400, f"参数 {name} 应在 {low} 到 {high} 之间")
    return value


def date_param(args: Mapping[str, Any], name: str) -> dt.date | None:
    """A YYYY-MM-DD parameter."""
    raw = text_param(args, name, 10)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"参数 {name} 的日期格式应为 YYYY-MM-DD") from None


def period_args(args: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """since/until of the report, validated."""
    since = date_param(args, "since")
    until = date_param(args, "until")
    if since and until and since > until:
        raise ApiError(400, "开始日期不能晚于结束日期")
    return since, until
