"""The unanswered-question report over a tracker store written by Rasa's own SQLTrackerStore."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pytest


from policies_kb import load_kb
from webapp import report


BEIJING = dt.timezone(dt.timedelta(hours=8))
OUT_OF_SCOPE_QUESTION = "研发费用加计扣除怎么申请？"


def at(text: str) -> float:
    """Unix time of a Beijing wall-clock time 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING).timestamp()


# A turn: (user text, intent, bot actions after it).
Turn = tuple[str, str, Sequence[str]]


def rasa_events(start: float, turns: Sequence[Turn]) -> list[object]:
    """The events Rasa records for a conversation: session start, then user turns and bot actions."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        UserUttered,
    )

    events: list[object] = [ActionExecuted("action_session_start", timestamp=start),
                            SessionStarted(timestamp=start + 0.01),
                            ActionExecuted("action_listen", timestamp=start + 0.02)]
    ts = start + 1
    for text, intent, actions in turns:
        events.append(UserUttered(text, intent={"name": intent, "confidence": 0.42 if intent == "nlu_fallback" else 0.93},
                                  timestamp=ts, input_channel="rest", message_id=uuid.uuid4().hex))
        for spec in actions:
            # "action>utter_x": a custom action that sent the domain response utter_x.
            action, _, response = spec.partition(">")
            ts += 0.5
            events.append(ActionExecuted(action, timestamp=ts))
            ts += 0.01
            events.append(BotUttered(f"（{response or action} 的回复）",
                                     data={"buttons": [{"title": "没用", "payload": "/feedback_unhelpful"}]},
                                     metadata={"utter_action": response or action}, timestamp=ts))
        ts += 0.5
        events.append(ActionExecuted("action_listen", timestamp=ts))
        ts += 60
    return events


def save_conversations(db: Path, conversations: Sequence[tuple[str, float, Sequence[Turn]]]) -> None:
    """Write the conversations through rasa.core.tracker_store.SQLTrackerStore (SQLite)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.empty()
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))

    async def run():
        for sender, start, turns in conversations:
            tracker = DialogueStateTracker.from_events(sender, rasa_events(start, turns), slots=domain.slots)
            await store.save(tracker)

    asyncio.run(run())
    store.engine.dispose()


CONVERSATIONS = [
    # Before the period: excluded by since=2026-11-01.
    ("early", at("2026-10-20 09:00"), [("社保怎么交？", "out_of_scope", ["utter_out_of_scope"])]),
    # Just inside the period in Beijing time (2026-10-31 16:10 UTC).
    ("midnight", at("2026-11-01 00:10"), [("发票怎么开？", "out_of_scope", ["utter_out_of_scope"])]),
    ("alice", at("2026-11-03 10:00"), [
        ("你好", "greet", ["utter_greet"]),
        (OUT_OF_SCOPE_QUESTION, "out_of_scope", ["utter_out_of_scope"]),
        ("专利质押贷款有贴息吗？", "ask_financing", ["action_answer_policy"]),
        ("/feedback_unhelpful", "feedback_unhelpful", ["utter_feedback_unhelpful"]),
    ]),
    ("bob", at("2026-11-10 15:30"), [
        ("asdf qwer", "nlu_fallback", ["action_default_fallback"]),
        ("专利导航项目可以申请吗", "nlu_fallback", ["action_default_fallback"]),
        ("高价值专利怎么培育？", "ask_high_value_patents", ["utter_not_covered"]),
        ("知识产权保险有补贴吗？", "ask_financing", ["action_answer_policy"]),  # answered well: not reported
        ("专利开放许可的许可费怎么定", "ask_open_licensing", ["action_answer_policy>utter_default"]),  # found nothing
        ("谢谢", "thank", ["utter_thank"]),
        ("/feedback_helpful", "feedback_helpful", ["utter_feedback_helpful"]),
    ]),
    ("carol", at("2026-11-20 11:00"), [
        ("海外维权有什么援助？", "ask_overseas_disputes", ["action_answer_policy"]),
        ('/ask_other_region{"region":"大同"}', "ask_other_region", ["action_answer_policy"]),
        ("/feedback_unhelpful", "feedback_unhelpful", ["utter_feedback_unhelpful"]),
    ]),
    # Just inside the end of the period (2026-11-30 15:30 UTC) and just after it.
    ("late", at("2026-11-30 23:30"), [("开发票的税率是多少", "nlu_fallback", ["action_default_fallback"])]),
    ("december", at("2026-12-02 09:00"), [("随便问问", "nlu_fallback", ["action_default_fallback"])]),
]


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("tracker") / "rasa.db"
    save_conversations(db, CONVERSATIONS)
    return f"sqlite:///{db}"


@pytest.fixture(scope="module")
def november(db_url, kb):
    return report.unanswered_report(db_url, kb, dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def items(data) -> list[dict]:
    return [dict(item, topic=g["topic"], topic_label=g["topic_label"]) for g in data["groups"] for item in g["items"]]


def test_store_has_rasa_schema(db_url):
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("events")}
    assert {"sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"} <= columns
    with engine.connect() as conn:
        intents = {row[0] for row in conn.execute(sa.text("select intent_name from events where type_name='user'"))}
    assert {"out_of_scope", "nlu_fallback", "feedback_unhelpful"} <= intents


def test_report_selects_and_groups_unanswered_questions(november):
    got = {(i["sender_id"], i["question"]): i for i in items(november)}
    assert set(got) == {
        ("midnight", "发票怎么开？"),
        ("alice", OUT_OF_SCOPE_QUESTION),
        ("alice", "专利质押贷款有贴息吗？"),
        ("bob", "asdf qwer"),
        ("bob", "专利导航项目可以申请吗"),
        ("bob", "高价值专利怎么培育？"),
        ("bob", "专利开放许可的许可费怎么定"),
        ("carol", "海外维权有什么援助？"),
        ("late", "开发票的税率是多少"),
    }
    assert november["total"] == 9
    assert got[("bob", "专利开放许可的许可费怎么定")]["reason"] == "fallback"  # the answer action said utter_default
    assert got[("bob", "专利开放许可的许可费怎么定")]["topic"] == "open_licensing"
    assert got[("alice", OUT_OF_SCOPE_QUESTION)]["reason"] == "out_of_scope"
    assert got[("alice", OUT_OF_SCOPE_QUESTION)]["topic_label"] == "其他"
    assert got[("alice", "专利质押贷款有贴息吗？")]["reason"] == "没用"
    assert got[("alice", "专利质押贷款有贴息吗？")]["topic"] == "financing"
    assert got[("bob", "asdf qwer")]["reason"] == "fallback"
    assert got[("bob", "专利导航项目可以申请吗")]["topic"] == "patent_navigation"  # topic words of the text
    assert got[("bob", "高价值专利怎么培育？")]["reason"] == "out_of_scope"  # utter_not_covered
    assert got[("bob", "高价值专利怎么培育？")]["topic"] == "high_value_patents"  # the intent's topic
    assert got[("carol", "海外维权有什么援助？")]["reason"] == "没用"  # skips the region button payload
    assert got[("carol", "海外维权有什么援助？")]["topic"] == "overseas_disputes"
    assert got[("alice", OUT_OF_SCOPE_QUESTION)]["time"] == "2026-11-03 10:01:02"
    assert november["reasons"] == {"out_of_scope": 3, "fallback": 4, "没用": 2}
    counts = {g["topic_label"]: g["count"] for g in november["groups"]}
    assert counts["其他"] == 4 and sum(counts.values()) == 9
    assert november["groups"][-1]["topic_label"] == "其他"  # 其他 last


def test_report_honours_since_and_until(db_url, kb):
    def senders(since, until):
        return {i["sender_id"] for i in items(report.unanswered_report(db_url, kb, since, until))}

    assert senders(None, None) == {"early", "midnight", "alice", "bob", "carol", "late", "december"}
    assert senders(dt.date(2026, 11, 1), None) == {"midnight", "alice", "bob", "carol", "late", "december"}
    assert senders(None, dt.date(2026, 10, 31)) == {"early"}
    assert senders(dt.date(2026, 11, 4), dt.date(2026, 11, 10)) == {"bob"}
    assert senders(dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == {"late"}
    assert senders(dt.date(2027, 1, 1), None) == set()


def test_csv_has_bom_header_and_rows(november, tmp_path):
    text = report.csv_text(november)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["topic", "count", "reason", "question", "sender_id", "timestamp"]
    assert len(rows) == 1 + 9
    row = next(r for r in rows if r[3] == OUT_OF_SCOPE_QUESTION)
    assert row[0] == "其他" and row[1] == "4" and row[2] == "out_of_scope" and row[4] == "alice"
    assert row[5] == "2026-11-03 10:01:02"
    path = report.save_csv(november, tmp_path / "out" / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.decode("utf-8-sig") == text[1:]


def test_csv_cells_cannot_become_formulas():
    data = {"groups": [{"topic_label": "其他", "count": 1,
                        "items": [{"reason": "fallback", "question": "=HYPERLINK(\"http://x\")", "sender_id": "@me",
                                   "time": "2026-11-01 00:00:00"}]}]}
    rows = list(csv.reader(io.StringIO(report.csv_text(data)[1:])))
    assert rows[1][3].startswith("'=") and rows[1][4] == "'@me"


def test_cli_writes_the_csv(db_url, tmp_path, capsys):
    out = tmp_path / "reports" / "unanswered.csv"
    code = report.main(["--since", "2026-11-01", "--until", "2026-11-30", "--out", str(out), "--db", db_url])
    assert code == 0
    assert "9 条未答复问题" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(SystemExit):
        report.main(["--since", "2026-13-01", "--db", db_url])


def test_missing_database_gives_an_empty_report(tmp_path, kb):
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    assert report.unanswered_report(url, kb)["total"] == 0
    assert not (tmp_path / "nothing.db").exists()  # reading never creates the database
    with pytest.raises(report.TrackerStoreError):
        report.read_events("notadialect://x/y")


def test_transcript_of_a_conversation(db_url):
    events = report.conversation(db_url, "alice")
    users = [e for e in events if e["type"] == "user"]
    assert [e["text"] for e in users][:2] == ["你好", OUT_OF_SCOPE_QUESTION]
    assert users[1]["flag"] == "out_of_scope" and users[1]["intent"] == "out_of_scope"
    assert any(e["type"] == "bot" and e["buttons"] == ["没用"] for e in events)
    assert not any(e.get("action") == "action_listen" for e in events)
    assert report.conversation(db_url, "nobody") == []


def test_report_and_transcript_over_the_api(db_url, kb):
    from tests.webapp.staff_api.test_staff_api import AUTH, TOKEN, AsgiClient

    from settings import get_settings
    from webapp import create_app

    client = AsgiClient(create_app(kb=kb, settings=get_settings({"STAFF_TOKEN": TOKEN, "TRACKER_DB_URL": db_url})))
    try:
        data = client.get("/api/report?since=2026-11-01&until=2026-11-30", AUTH).json()
        assert data["total"] == 9
        assert any(i["question"] == OUT_OF_SCOPE_QUESTION for i in items(data))
        resp = client.get("/api/report?since=2026-11-01&until=2026-11-30&format=csv", AUTH)
        assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
        assert resp.body.startswith(b"\xef\xbb\xbf") and "attachment" in resp.headers["content-disposition"]
        transcript = client.get("/api/conversations/alice", AUTH).json()
        assert transcript["sender_id"] == "alice" and transcript["total"] > 4
        assert client.get("/api/conversations/alice").status == 401
        assert client.get("/api/conversations/" + quote("no body/at all"), AUTH).status == 404
    finally:
        client.close()


@pytest.mark.stack
def test_out_of_scope_question_reaches_the_report(request):
    """Against the running stack: ask Rasa an out-of-scope question, then find it in the staff report."""
    try:
        stack = request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        pytest.skip("the `stack` fixture (tests/conftest.py) is not available")
    import requests

    sender = f"report-test-{uuid.uuid4().hex[:12]}"
    resp = requests.post(f"{stack.rasa_url.rstrip('/')}/webhooks/rest/webhook",
                         json={"sender": sender, "message": OUT_OF_SCOPE_QUESTION}, timeout=60)
    assert resp.status_code == 200, resp.text
    today = dt.datetime.now(BEIJING).date()
    params = {"since": (today - dt.timedelta(days=1)).isoformat(), "until": (today + dt.timedelta(days=1)).isoformat()}
    headers = {"Authorization": f"Bearer {stack.staff_token}"}
    found: dict | None = None
    deadline = time.monotonic() + 30
    while found is None and time.monotonic() < deadline:
        data = requests.get(f"{stack.web_url.rstrip('/')}/api/report", params=params, headers=headers, timeout=30)
        assert data.status_code == 200, data.text
        found = next((i for i in items(data.json()) if i["sender_id"] == sender), None)
        if found is None:
            time.sleep(1)
    assert found is not None, f"{sender} not in the report"
    assert found["question"] == OUT_OF_SCOPE_QUESTION
    assert found["reason"] in ("out_of_scope", "fallback")
    transcript = requests.get(f"{stack.web_url.rstrip('/')}/api/conversations/{quote(sender)}", headers=headers, timeout=30)
    assert transcript.status_code == 200
    assert any(e.get("text") == OUT_OF_SCOPE_QUESTION for e in transcript.json()["events"])
