"""The report as CSV (one row per question, UTF-8 with BOM for Excel, no cell Excel would run as a formula)."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("topic", "count", "reason", "question", "sender_id", "timestamp")


def _cell(value: Any) -> str:
    """A CSV cell that Excel will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(report: dict[str, Any], out: Any) -> None:
    """Write the report rows (one per question) to a text stream."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for group in report["groups"]:
        for item in group["items"]:
            writer.writerow([_cell(group["topic_label"]), group["count"], _cell(item["reason"]),
                             _cell(item["question"]), _cell(item["sender_id"]), item["time"]])


def csv_text(report: dict[str, Any]) -> str:
    """The CSV as text, starting with a BOM so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    write_csv(report, buffer)
    return "\ufeff" + buffer.getvalue()


def save_csv(report: dict[str, Any], path: Path) -> Path:
    """Write the CSV file (UTF-8 with BOM), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        write_csv(report, handle)
    return path
