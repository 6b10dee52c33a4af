"""webapp.reporting's modules on their own: days, flags, question selection, CSV cells, transcripts."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp import report
from webapp.reporting import EventRow, find_unanswered, parse_day, period_bounds, transcript_entry
from webapp.reporting.csv_export import csv_text
from webapp.reporting.days import format_time
from webapp.reporting.flags import FALLBACK, OUT_OF_SCOPE, UNHELPFUL

NOV_2 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()


def event(event_id: int, type_name: str, text: str = "", intent: str | None = None, action: str | None = None,
          response: str | None = None, sender: str = "u1", at: float = NOV_2) -> EventRow:
    """One row of the events table."""
    data: dict = {"text": text} if text else {}
    if response:
        data["metadata"] = {"utter_action": response}
    return EventRow(id=event_id, sender_id=sender, type_name=type_name, timestamp=at + event_id, intent_name=intent,
                    action_name=action, data=data)


def test_days_are_beijing_days_both_included():
    since, until = parse_day("2026-11-02"), parse_day(" 2026-11-02 ")
    start, end = period_bounds(since, until)
    assert end - start == 86400 and start <= NOV_2 < end
    assert period_bounds(None, None) == (None, None) and parse_day("") is None
    with pytest.raises(ValueError):
        parse_day("2026-02-30")
    assert format_time(NOV_2) == "2026-11-02 10:00:00"


def test_each_unanswered_question_once_with_all_its_reasons():
    events = [
        event(1, "user", "商标续展怎么办", intent="out_of_scope"),
        event(2, "bot", "不在文件范围内", response="utter_not_covered"),
        event(3, "user", "专利质押贷款有贴息吗", intent="ask_financing"),
        event(4, "bot", "……", response="utter_measure"),
        event(5, "user", "没用", intent="feedback_unhelpful"),
        event(6, "user", "啊啊啊", intent="nlu_fallback"),
        event(7, "action", action="action_default_fallback"),
    ]
    found = {q.text: q.reasons for q in find_unanswered(events)}
    assert found == {"商标续展怎么办": [OUT_OF_SCOPE], "专利质押贷款有贴息吗": [UNHELPFUL], "啊啊啊": [FALLBACK]}
    assert find_unanswered(events, parse_day("2026-11-03")) == []


def test_csv_cells_never_run_as_formulas():
    data = {"groups": [{"topic_label": "其他", "count": 1,
                        "items": [{"reason": "fallback", "question": "=1+1", "sender_id": "@x", "time": ""}]}]}
    text = csv_text(data)
    assert text.startswith("\ufefftopic,count,") and "'=1+1" in text and "'@x" in text


def test_transcript_leaves_out_action_listen_and_flags_turns():
    assert transcript_entry(event(1, "action", action="action_listen")) is None
    assert transcript_entry(event(2, "action", action="action_default_fallback"))["flag"] == FALLBACK
    assert transcript_entry(event(3, "user", "啊", intent="nlu_fallback"))["flag"] == FALLBACK


def test_webapp_report_is_the_command_line_of_the_package():
    """`python -m webapp.report` (make report) runs webapp.reporting's CLI."""
    from webapp.reporting import cli

    assert report.main is cli.main and report.unanswered_report.__module__ == "webapp.reporting.topics"
