"""The unanswered-question report, read from Rasa's SQL tracker store.

A user message counts as unanswered (flags.py) when
- its intent is ``nlu_fallback`` (reason ``fallback``) or ``out_of_scope`` (reason ``out_of_scope``),
- or the bot answered it with ``action_default_fallback`` / ``action_two_stage_fallback`` (``fallback``)
  or ``utter_out_of_scope`` / ``utter_not_covered`` (``out_of_scope``), as an action or as the response
  a custom action sent (bot message metadata ``utter_action``; ``utter_default`` counts as ``fallback``),
- or the user then pressed the 没用 button (intent ``feedback_unhelpful``): the question before the
  feedback gets reason ``没用``.

Questions are grouped by topic (topics.py: the intent's topic, else the topic words in the text, else
the top search hit's topic for answered questions, else 其他). Times are Beijing time (UTC+8, days.py);
``since`` and ``until`` are whole days, both included. events.py reads the tracker store,
unanswered.py selects the questions, csv_export.py writes the CSV, transcripts.py shows one
conversation, cli.py is ``python -m webapp.report`` (make report).
"""

from .csv_export import csv_text, save_csv, write_csv
from .days import parse_day, period_bounds
from .events import EventRow, TrackerStoreError, read_events
from .topics import build_report, classify, unanswered_report
from .transcripts import conversation, transcript_entry
from .unanswered import Question, find_unanswered

__all__ = [
    "EventRow", "Question", "TrackerStoreError", "build_report", "classify", "conversation", "csv_text",
    "find_unanswered", "parse_day", "period_bounds", "read_events", "save_csv", "transcript_entry",
    "unanswered_report", "write_csv",
]
