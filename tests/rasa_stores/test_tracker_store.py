"""rasa_stores.tracker_store.ResilientSQLTrackerStore on SQLite: same rows as Rasa's store, fewer queries per turn."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import rasa_stores.tracker_store as stores
from rasa_stores.tracker_store import ResilientSQLTrackerStore


def make_store(path: Path, cls: type = ResilientSQLTrackerStore) -> SQLTrackerStore:
    """A store on a SQLite file, as endpoints.yml configures it."""
    return cls(Domain.empty(), dialect="sqlite", db=str(path))


def rows(path: Path) -> List[tuple]:
    """(sender, type, data without timestamps) of every stored event, in order."""
    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()
    out = []
    for sender, type_name, data in found:
        event = json.loads(data)
        event.pop("timestamp", None)
        out.append((sender, type_name, json.dumps(event, sort_keys=True)))
    return out


async def play_turns(store: SQLTrackerStore, sender: str, texts: List[str]) -> None:
    """What Rasa does per message: read the tracker (or create it), add the turn's events, save."""
    for text in texts:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered(text))
        tracker.update(ActionExecuted("action_answer_policy_question"))
        tracker.update(BotUttered(f"答：{text}"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)


def count_queries(store: SQLTrackerStore) -> List[str]:
    """Record every SQL statement the store's engine runs from now on."""
    seen: List[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_stores_exactly_what_the_stock_store_stores(tmp_path: Path) -> None:
    """Three turns in two conversations: the same rows, in the same order, as Rasa's SQLTrackerStore."""
    turns = ["专利质押贷款有贴息吗？", "这个是哪个部门负责的？", "去哪个平台办？"]
    for name, cls in (("stock.db", SQLTrackerStore), ("ours.db", ResilientSQLTrackerStore)):
        store = make_store(tmp_path / name, cls)
        asyncio.run(play_turns(store, "a", turns))
        asyncio.run(play_turns(store, "b", turns[:1]))
        asyncio.run(play_turns(store, "a", ["谢谢"]))
    assert rows(tmp_path / "ours.db") == rows(tmp_path / "stock.db")
    assert len(rows(tmp_path / "ours.db")) == 2 + 4 * 5  # one action_listen per new conversation, 4 events per turn


def test_a_turn_reads_once_and_writes_without_counting(tmp_path: Path) -> None:
    """After the first turn, a turn is one SELECT of the session's events and one INSERT: no COUNT."""
    store = make_store(tmp_path / "t.db")
    asyncio.run(play_turns(store, "c", ["你好"]))
    statements = count_queries(store)
    asyncio.run(play_turns(store, "c", ["还有吗"]))
    assert not [s for s in statements if "count(" in s.lower()]
    assert sum(s.lstrip().upper().startswith("INSERT") for s in statements) == 1  # one multi-row INSERT
    assert sum(s.lstrip().upper().startswith("SELECT") for s in statements) == 1
    assert len(rows(tmp_path / "t.db")) == 1 + 4 + 4
    tracker = asyncio.run(store.retrieve("c"))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["你好", "还有吗"]


def test_the_first_turn_of_a_conversation_counts_nothing(tmp_path: Path) -> None:
    """A new conversation is saved when Rasa creates it and again at the end of the turn: no COUNT."""
    store = make_store(tmp_path / "t.db")
    statements = count_queries(store)
    asyncio.run(play_turns(store, "n", ["你好"]))
    assert not [s for s in statements if "count(" in s.lower()]
    assert [t for _, t, _ in rows(tmp_path / "t.db")] == ["action", "user", "action", "bot", "action"]


def test_a_tracker_saved_twice_stores_only_the_new_events(tmp_path: Path) -> None:
    """The second save of one tracker adds what came after the first, without counting."""
    store = make_store(tmp_path / "t.db")
    tracker = DialogueStateTracker("d", [])
    tracker.update(UserUttered("你好"))
    asyncio.run(store.save(tracker))
    tracker.update(ActionExecuted("utter_greet"))
    statements = count_queries(store)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # nothing new
    assert not [s for s in statements if "count(" in s.lower()]
    assert [t for _, t, _ in rows(tmp_path / "t.db")] == ["user", "action"]


def test_a_save_without_a_read_counts_like_rasa(tmp_path: Path) -> None:
    """A save this process has no count for (another replica read and saved): it counts, adds only the new events."""
    first, second = make_store(tmp_path / "t.db"), make_store(tmp_path / "t.db")
    tracker = DialogueStateTracker("d", [])
    tracker.update(UserUttered("你好"))
    asyncio.run(first.save(tracker))
    tracker.update(ActionExecuted("utter_greet"))
    statements = count_queries(second)
    asyncio.run(second.save(tracker))
    assert [s for s in statements if "count(" in s.lower()]
    assert [t for _, t, _ in rows(tmp_path / "t.db")] == ["user", "action"]


def test_an_old_count_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read longer ago than COUNT_TTL: the save counts in the database (another writer may have come)."""
    store = make_store(tmp_path / "t.db")
    asyncio.run(play_turns(store, "e", ["你好"]))
    tracker = asyncio.run(store.retrieve("e"))
    monkeypatch.setattr(stores, "COUNT_TTL", -1.0)
    other = make_store(tmp_path / "t.db")  # a second replica adds a turn meanwhile
    asyncio.run(play_turns(other, "e", ["谢谢"]))
    tracker.update(UserUttered("再见"))
    asyncio.run(store.save(tracker))
    users = [json.loads(d)["text"] for _, t, d in rows(tmp_path / "t.db") if t == "user"]
    assert users == ["你好", "谢谢"]  # the stale tracker's own events were already stored: nothing new


def test_new_session_is_stored_and_read_back(tmp_path: Path) -> None:
    """A session restart inside a turn: the next read returns only the new session, with its turn."""
    store = make_store(tmp_path / "t.db")
    asyncio.run(play_turns(store, "f", ["你好"]))
    tracker = asyncio.run(store.retrieve("f"))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    asyncio.run(play_turns(store, "f", ["新问题"]))
    events = asyncio.run(store.retrieve("f")).events
    assert [e.text for e in events if isinstance(e, UserUttered)] == ["新问题"]
    assert len(rows(tmp_path / "t.db")) == 5 + 3 + 4


def test_sqlite_uses_a_write_ahead_log(tmp_path: Path) -> None:
    """The database file is in WAL mode once the store has written to it."""
    store = make_store(tmp_path / "t.db")
    asyncio.run(play_turns(store, "g", ["你好"]))
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_remembered_counts_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads without saves (API reads) do not grow memory without limit."""
    monkeypatch.setattr(stores, "MAX_REMEMBERED", 3)
    store = make_store(tmp_path / "t.db")
    for sender in "hijkl":
        asyncio.run(store.retrieve(sender))
    assert list(store._stored_counts) == ["j", "k", "l"]


def test_reads_the_same_session_as_the_stock_store(tmp_path: Path) -> None:
    """On one database with two sessions and two conversations, both stores read the same events."""
    db = tmp_path / "t.db"
    ours, stock = make_store(db), make_store(db, SQLTrackerStore)
    asyncio.run(play_turns(ours, "h", ["你好", "专利质押"]))
    asyncio.run(play_turns(ours, "i", ["别人的对话"]))
    tracker = asyncio.run(ours.retrieve("h"))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    asyncio.run(ours.save(tracker))
    asyncio.run(play_turns(ours, "h", ["新的一轮"]))
    for sender in ("h", "i", "nobody"):
        mine, theirs = asyncio.run(ours.retrieve(sender)), asyncio.run(stock.retrieve(sender))
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
    full = asyncio.run(ours.retrieve_full_tracker("h"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["你好", "专利质押", "新的一轮"]


def test_warm_up_stores_nothing(tmp_path: Path) -> None:
    """The start-up warm-up runs the read and the INSERT in a transaction it rolls back."""
    store = make_store(tmp_path / "t.db")
    asyncio.run(play_turns(store, "j", ["你好"]))
    before = rows(tmp_path / "t.db")
    store.warm_up()
    assert rows(tmp_path / "t.db") == before
