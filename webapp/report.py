"""``python -m webapp.report`` (make report): the unanswered-question report as CSV.

The report itself is the webapp.reporting package; this module is its command line's name, kept for
``make report`` and the staff docs, and re-exports the package's functions.

    python -m webapp.report --since 2026-11-01 --until 2026-11-30 --out reports/x.csv
"""

import sys

from .reporting import (
    EventRow, Question, TrackerStoreError, build_report, classify, conversation, csv_text, find_unanswered, parse_day,
    period_bounds, read_events, save_csv, transcript_entry, unanswered_report, write_csv,
)
from .reporting.cli import main

__all__ = [
    "EventRow", "Question", "TrackerStoreError", "build_report", "classify", "conversation", "csv_text",
    "find_unanswered", "main", "parse_day", "period_bounds", "read_events", "save_csv", "transcript_entry",
    "unanswered_report", "write_csv",
]

if __name__ == "__main__":
    sys.exit(main())
