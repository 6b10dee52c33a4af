"""The unanswered-question report, read from Rasa's SQL tracker store.

A user message counts as unanswered when
- its intent is ``nlu_fallback`` (reason ``fallback``) or ``out_of_scope`` (reason ``out_of_scope``),
- or the bot answered it with ``action_default_fallback`` / ``action_two_stage_fallback`` (``fallback``)
  or ``utter_out_of_scope`` / ``utter_not_covered`` (``out_of_scope``), as an action or as the response
  a custom action sent (bot message metadata ``utter_action``; ``utter_default`` counts as ``fallback``),
- or the user then pressed the 没用 button (intent ``feedback_unhelpful``): the question before the
  feedback gets reason ``没用``.

Questions are grouped by topic (the intent's topic, else the topic words in the text, else the top
search hit's topic for answered questions, else 其他). Times are Beijing time (UTC+8); ``since`` and
``until`` are whole days, both included.

CLI::

    python -m webapp.report --since 2026-11-01 --until 2026-11-30 --out reports/x.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa_stores import events_table

logger = logging.getLogger(__name__)

REPORT_TZ = dt.timezone(dt.timedelta(hours=8), "UTC+8")
FALLBACK = "fallback"
OUT_OF_SCOPE = "out_of_scope"
UNHELPFUL = "没用"
REASON_ORDER = (OUT_OF_SCOPE, FALLBACK, UNHELPFUL)
REASON_LABELS = {FALLBACK: "未识别（fallback）", OUT_OF_SCOPE: "超出范围", UNHELPFUL: "用户反馈没用"}

FLAG_INTENTS = {"nlu_fallback": FALLBACK, "out_of_scope": OUT_OF_SCOPE}
FLAG_ACTIONS = {
    "action_default_fallback": FALLBACK,
    "action_two_stage_fallback": FALLBACK,
    "utter_out_of_scope": OUT_OF_SCOPE,
    "utter_not_covered": OUT_OF_SCOPE,
}
# Bot messages by response name (BotUttered metadata "utter_action", also set when a custom action
# sends a domain response): the answer action's "did not understand" and the not-covered replies.
FLAG_RESPONSES = {
    "utter_default": FALLBACK,
    "utter_not_covered": OUT_OF_SCOPE,
    "utter_out_of_scope": OUT_OF_SCOPE,
}
UNHELPFUL_INTENT = "feedback_unhelpful"
# User turns that are not questions (skipped when looking for the question a 没用 refers to).
NOT_QUESTIONS = {"feedback_helpful", "feedback_unhelpful", "greet", "goodbye", "thank", "ask_whoami",
                 "ask_capabilities", "ask_more", "ask_other_region"}
LOOKBACK_TURNS = 6
OTHER_TOPIC = "other"
OTHER_LABEL = "其他"
# A search hit decides the topic only when it is a clear match (one matched word is often noise).
MIN_HIT_SCORE = 20.0
MIN_HIT_TERMS = 2
CSV_COLUMNS = ("topic", "count", "reason", "question", "sender_id", "timestamp")
TRANSCRIPT_TYPES = ("user", "bot", "action", "session_started", "restart")


class TrackerStoreError(RuntimeError):
    """The tracker store cannot be read (bad URL, database down, unexpected schema)."""


@dataclass(frozen=True)
class EventRow:
    """One row of Rasa's ``events`` table."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None
    data: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text of a user or bot event."""
        return str(self.data.get("text") or "")

    @property
    def response(self) -> str | None:
        """The domain response a bot event came from (metadata utter_action), if any."""
        metadata = self.data.get("metadata")
        return metadata.get("utter_action") if isinstance(metadata, dict) else None

    @property
    def intent(self) -> str | None:
        """The intent of a user event (column first, then the JSON)."""
        if self.intent_name:
            return self.intent_name
        return ((self.data.get("parse_data") or {}).get("intent") or {}).get("name")


@dataclass
class Question:
    """A user message the assistant did not answer well."""

    sender_id: str
    timestamp: float
    text: str
    intent: str | None
    event_id: int
    reasons: list[str] = field(default_factory=list)
    topic: str = OTHER_TOPIC
    topic_label: str = OTHER_LABEL

    @property
    def reason(self) -> str:
        """All reasons, most specific first, joined by 、."""
        return "、".join(r for r in REASON_ORDER if r in self.reasons)

    def add(self, reason: str) -> None:
        """Record a reason once."""
        if reason not in self.reasons:
            self.reasons.append(reason)


# ---- time ------------------------------------------------------------------------------------
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


# ---- reading the tracker store ---------------------------------------------------------------
_ENGINES: dict[str, Any] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(db_url: str) -> Any | None:
    """A cached SQLAlchemy engine, or None when a SQLite file does not exist (yet)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        url = make_url(db_url)
    except Exception as exc:  # noqa: BLE001 - any parse problem is a configuration error
        raise TrackerStoreError(f"TRACKER_DB_URL 无效（{type(exc).__name__}）") from None
    is_file_db = url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:")
    if is_file_db and not Path(url.database).exists():
        return None  # reading must not create the database
    with _ENGINES_LOCK:
        engine = _ENGINES.get(db_url)
        if engine is None:
            try:
                engine = sa.create_engine(db_url, pool_pre_ping=True)
            except Exception as exc:  # noqa: BLE001 - missing driver, bad options
                raise TrackerStoreError(f"无法连接数据库（{type(exc).__name__}）") from None
            _ENGINES[db_url] = engine
        return engine


def _events_table(engine: Any) -> Any | None:
    """The ``events`` table (rasa_stores.events_table), or None when Rasa has not created it yet."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table(events_table.TABLE_NAME):
        return None
    return events_table.sqlalchemy_table(sa.MetaData())


def _row(row: Any) -> EventRow:
    """An EventRow from a result row (bad JSON becomes an empty dict)."""
    try:
        data = json.loads(row.data) if row.data else {}
    except (TypeError, ValueError):
        data = {}
    return EventRow(id=row.id, sender_id=row.sender_id, type_name=row.type_name,
                    timestamp=float(row.timestamp or 0.0), intent_name=row.intent_name,
                    action_name=row.action_name, data=data if isinstance(data, dict) else {})


def read_events(db_url: str, since: dt.date | None = None, until: dt.date | None = None,
                sender_id: str | None = None, types: Sequence[str] = ("user", "bot", "action")) -> list[EventRow]:
    """Events of every conversation with a user message in the period (or of one sender), in order."""
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(db_url)
    if engine is None:
        return []
    try:
        table = _events_table(engine)
        if table is None:
            return []
        query = sa.select(table).where(table.c.type_name.in_(list(types)))
        if sender_id is not None:
            query = query.where(table.c.sender_id == sender_id)
        else:
            start, end = period_bounds(since, until)
            senders = sa.select(table.c.sender_id).where(table.c.type_name == "user")
            if start is not None:
                senders = senders.where(table.c.timestamp >= start)
            if end is not None:
                senders = senders.where(table.c.timestamp < end)
            if start is not None or end is not None:
                query = query.where(table.c.sender_id.in_(senders.distinct()))
        query = query.order_by(table.c.sender_id, table.c.id)
        with engine.connect() as conn:
            return [_row(row) for row in conn.execute(query)]
    except SQLAlchemyError as exc:
        logger.warning("tracker store read failed: %s", exc)
        raise TrackerStoreError(f"读取失败（{type(exc).__name__}）") from None


# ---- selecting the questions -----------------------------------------------------------------
def _by_sender(events: Iterable[EventRow]) -> dict[str, list[EventRow]]:
    """Events grouped per conversation, in id order."""
    out: dict[str, list[EventRow]] = {}
    for event in events:
        out.setdefault(event.sender_id, []).append(event)
    for rows in out.values():
        rows.sort(key=lambda e: e.id)
    return out


def _is_question(event: EventRow) -> bool:
    """A user turn that asks something (not a button payload, not chit-chat or feedback)."""
    text = event.text.strip()
    return bool(text) and not text.startswith("/") and event.intent not in NOT_QUESTIONS


def find_unanswered(events: Iterable[EventRow], since: dt.date | None = None,
                    until: dt.date | None = None) -> list[Question]:
    """The unanswered questions among the events, in time order, each once with all its reasons."""
    start, end = period_bounds(since, until)
    found: dict[int, Question] = {}
    for rows in _by_sender(events).values():
        users = [i for i, e in enumerate(rows) if e.type_name == "user"]
        for n, i in enumerate(users):
            event = rows[i]
            reasons = []
            if event.intent in FLAG_INTENTS:
                reasons.append(FLAG_INTENTS[event.intent])
            stop = users[n + 1] if n + 1 < len(users) else len(rows)
            for later in rows[i + 1:stop]:
                if later.type_name == "action" and later.action_name in FLAG_ACTIONS:
                    reasons.append(FLAG_ACTIONS[later.action_name])
                elif later.type_name == "bot" and later.response in FLAG_RESPONSES:
                    reasons.append(FLAG_RESPONSES[later.response])
            if event.intent == UNHELPFUL_INTENT:
                for j in reversed(users[max(0, n - LOOKBACK_TURNS):n]):
                    if _is_question(rows[j]):
                        _question(found, rows[j]).add(UNHELPFUL)
                        break
                continue
            if reasons and event.text.strip():
                question = _question(found, event)
                for reason in reasons:
                    question.add(reason)
    out = [q for q in found.values()
           if (start is None or q.timestamp >= start) and (end is None or q.timestamp < end)]
    out.sort(key=lambda q: (q.timestamp, q.event_id))
    return out


def _question(found: dict[int, Question], event: EventRow) -> Question:
    """The Question for a user event (created once)."""
    if event.id not in found:
        found[event.id] = Question(sender_id=event.sender_id, timestamp=event.timestamp, text=event.text.strip(),
                                   intent=event.intent, event_id=event.id)
    return found[event.id]


# ---- topics ----------------------------------------------------------------------------------
def classify(question: Question, kb: Any) -> tuple[str, str]:
    """(topic id, label) a question is about: intent → topic words → top search hit → 其他."""
    topics = kb.topics
    by_intent = {t.intent: t.id for t in topics.values() if t.intent}
    if question.intent in by_intent:
        tid = by_intent[question.intent]
        return tid, topics[tid].label
    text = kb.normalise(question.text[:500])
    named = kb.index.query_topics(text)
    hits = kb.search(text, limit=1) if text else []
    if named:
        preferred = [t for t in (hits[0].measure.topics if hits else ()) if t in named]
        tid = preferred[0] if preferred else next(t for t in topics if t in named)
        return tid, topics[tid].label
    clear_hit = hits and hits[0].score >= MIN_HIT_SCORE and len(hits[0].matched) >= MIN_HIT_TERMS
    if clear_hit and question.reasons != [OUT_OF_SCOPE] and hits[0].measure.topics:
        tid = hits[0].measure.topics[0]
        if tid in topics:
            return tid, topics[tid].label
    return OTHER_TOPIC, OTHER_LABEL


def build_report(questions: Sequence[Question], kb: Any, since: dt.date | None = None,
                 until: dt.date | None = None) -> dict[str, Any]:
    """Questions grouped by topic (largest group first, 其他 last), with counts per reason."""
    groups: dict[str, dict[str, Any]] = {}
    reasons = {reason: 0 for reason in REASON_ORDER}
    for question in questions:
        question.topic, question.topic_label = classify(question, kb)
        group = groups.setdefault(question.topic, {"topic": question.topic, "topic_label": question.topic_label,
                                                   "count": 0, "items": []})
        group["count"] += 1
        group["items"].append({
            "question": question.text, "sender_id": question.sender_id, "timestamp": question.timestamp,
            "time": format_time(question.timestamp), "reason": question.reason,
            "reasons": [r for r in REASON_ORDER if r in question.reasons], "intent": question.intent,
            "event_id": question.event_id,
        })
        for reason in question.reasons:
            reasons[reason] += 1
    ordered = sorted(groups.values(), key=lambda g: (g["topic"] == OTHER_TOPIC, -g["count"], g["topic_label"]))
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "timezone": "UTC+8（北京时间）",
        "generated_at": dt.datetime.now(REPORT_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "total": len(questions),
        "reasons": reasons,
        "reason_labels": REASON_LABELS,
        "groups": ordered,
    }


def unanswered_report(db_url: str, kb: Any, since: dt.date | None = None,
                      until: dt.date | None = None) -> dict[str, Any]:
    """Read the tracker store and build the report for the period."""
    events = read_events(db_url, since, until)
    return build_report(find_unanswered(events, since, until), kb, since, until)


# ---- CSV -------------------------------------------------------------------------------------
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


# ---- transcripts -----------------------------------------------------------------------------
def transcript_entry(event: EventRow) -> dict[str, Any] | None:
    """One event of a transcript, as the staff page shows it (action_listen is left out)."""
    base = {"id": event.id, "type": event.type_name, "timestamp": event.timestamp, "time": format_time(event.timestamp)}
    if event.type_name == "user":
        intent = (event.data.get("parse_data") or {}).get("intent") or {}
        return {**base, "text": event.text, "intent": event.intent, "confidence": intent.get("confidence"),
                "channel": event.data.get("input_channel"),
                "flag": FLAG_INTENTS.get(event.intent or "") or (UNHELPFUL if event.intent == UNHELPFUL_INTENT else None)}
    if event.type_name == "bot":
        payload = event.data.get("data") or {}
        custom = payload.get("custom") if isinstance(payload, dict) else None
        buttons = payload.get("buttons") if isinstance(payload, dict) else None
        measures = []
        if isinstance(custom, dict) and isinstance(custom.get("measures"), list):
            measures = [{"id": m.get("id"), "citation": m.get("citation"), "title": m.get("title")}
                        for m in custom["measures"] if isinstance(m, dict)]
        return {**base, "text": event.text, "measures": measures, "response": event.response,
                "flag": FLAG_RESPONSES.get(event.response or ""),
                "buttons": [b.get("title") for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []}
    if event.type_name == "action":
        if event.action_name in (None, "action_listen"):
            return None
        return {**base, "action": event.action_name, "flag": FLAG_ACTIONS.get(event.action_name)}
    return base


def conversation(db_url: str, sender_id: str, limit: int = 2000) -> list[dict[str, Any]]:
    """The transcript of one conversation (the last `limit` entries)."""
    rows = read_events(db_url, sender_id=sender_id, types=TRANSCRIPT_TYPES)
    entries = [entry for entry in (transcript_entry(row) for row in rows) if entry]
    return entries[-limit:]


# ---- CLI -------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """python -m webapp.report [--since D] [--until D] [--out FILE] [--db URL]."""
    from policies_kb import load_kb
    from settings import get_settings

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
    out = Path(args.out or f"reports/unanswered-{dt.date.today():%Y%m%d}.csv")
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


if __name__ == "__main__":
    sys.exit(main())
