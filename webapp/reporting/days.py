"""The report's days and times: Beijing time (UTC+8), whole days since … until, both included."""

from __future__ import annotations

import datetime as dt
import logging

logger = logging.getLogger(__name__)

REPORT_TZ = dt.timezone(dt.timedelta(hours=8), "UTC+8")


def parse_day(value: str | None) -> dt.date | None:
    """A YYYY-MM-DD day, or None; a malformed one raises ValueError with a Chinese message."""
    if value is None or not str(value).strip():
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{value!r}") from None


def period_bounds(since: dt.date | None, until: dt.date | None) -> tuple[float | None, float | None]:
    """Unix-time bounds [start, end) of the whole days since … until (Beijing time)."""
    start = dt.datetime.combine(since, dt.time(), REPORT_TZ).timestamp() if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), REPORT_TZ).timestamp() if until else None
    return start, end


def format_time(timestamp: float | None) -> str:
    """A Unix time as 'YYYY-MM-DD HH:MM:SS' Beijing time."""
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, REPORT_TZ).strftime("%Y-%m-%d %H:%M:%S")
