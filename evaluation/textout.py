"""Plain-text output of the evaluation runners: aligned tables, percentages, durations, section headers."""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)



def width(text: str) -> int:
    """Terminal columns of a text (a CJK character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: Any, cols: int, right: bool = False) -> str:
    """Text padded to a number of terminal columns."""
    text = str(text)
    fill = " " * max(0, cols - width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned table; the first column left-aligned, the others right-aligned."""
    cols = [max(width(str(x)) for x in [h, *[r[i] for r in rows]]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, cols[i], right=i > 0) for i, h in enumerate(headers)),
             "  ".join("-" * c for c in cols)]
    lines += ["  ".join(pad(x, cols[i], right=i > 0) for i, x in enumerate(row)) for row in rows]
    return "\n".join(lines)


def pct(value: float | None) -> str:
    """A rate as a percentage, '-' when undefined."""
    return "-" if value is None else f"{100 * value:.1f}%"


def frac(row: dict[str, Any]) -> str:
    """'correct/n (xx.x%)'."""
    return f"{row['correct']}/{row['n']} ({pct(row['accuracy'])})"


def one_line(text: str, limit: int = 220) -> str:
    """A bot text on one line, shortened."""
    flat = " ⏎ ".join(part.strip() for part in (text or "").splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def duration(seconds: float) -> str:
    """12m34s."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def section(title: str) -> None:
    """A section header."""
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)


def now() -> str:
    """Local time, ISO 8601 with offset."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")
