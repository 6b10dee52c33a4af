"""The report's command line: ``python -m webapp.report [--since D] [--until D] [--out FILE] [--db URL]`` (make report)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from policies_kb import load_kb
from settings import PROJECT_ROOT, get_settings

from .csv_export import save_csv
from .days import parse_day
from .events import TrackerStoreError
from .topics import unanswered_report

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """python -m webapp.report [--since D] [--until D] [--out FILE] [--db URL]."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m webapp.report",
                                     description="未答复问题报表：从 Rasa 对话记录库导出 CSV（UTF-8 BOM）")
    parser.add_argument("--since", help="开始日期 YYYY-MM-DD（含），默认不限")
    parser.add_argument("--until", help="结束日期 YYYY-MM-DD（含），默认不限")
    parser.add_argument("--out", help="CSV 路径，默认 reports/unanswered-<今天>.csv")
    parser.add_argument("--db", default=settings.tracker_db_url, help="SQLAlchemy URL（默认 TRACKER_DB_URL）")
    args = parser.parse_args(argv)
    try:
        since, until = parse_day(args.since), parse_day(args.until)
    except ValueError as exc:
        parser.error(str(exc))
    if since and until and since > until:
        parser.error("开始日期不能晚于结束日期")
    out = Path(args.out) if args.out else PROJECT_ROOT / "reports" / f"unanswered-{dt.date.today():%Y%m%d}.csv"
    logging.basicConfig(level=logging.WARNING)
    try:
        report = unanswered_report(args.db, load_kb(settings.kb_dir), since, until)
    except TrackerStoreError as exc:
        print(f"无法读取对话记录库：{exc}", file=sys.stderr)
        return 2
    save_csv(report, out)
    summary = "，".join(f"{g['topic_label']} {g['count']}" for g in report["groups"]) or "无"
    print(f"{out}: {report['total']} 条未答复问题（{summary}）")
    return 0
