"""The non-blocking stores of the production set-up against the test cluster's PostgreSQL and Redis:
rasa_stores.lock_store (Lua ticket lock) and rasa_stores.pg_events (asyncpg read and INSERT)."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
import sqlalchemy as sa
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from sqlalchemy.engine.url import make_url

from rasa_stores import pg_events
from rasa_stores.lock_store import AtomicRedisLockStore
from rasa_stores.tracker_store import ResilientSQLTrackerStore
from devstack.cluster.cluster import Cluster

pytestmark = pytest.mark.prod


def new_id(prefix: str) -> str:
    """A fresh conversation id."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def lock_store(cluster: Cluster) -> AtomicRedisLockStore:
    """A lock store on the cluster's Redis, in a database of its own."""
    c = cluster.config
    return AtomicRedisLockStore(host=c.redis_address, port=c.redis_port, password=c.redis_password, db=6)


def store_options(cluster: Cluster) -> dict:
    """SQLTrackerStore arguments for the cluster's PostgreSQL."""
    url = make_url(cluster.config.tracker_db_url)
    return {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
            "username": url.username, "password": url.password}


# ------------------------------------------------------------------------------------- lock store

def test_turns_of_one_conversation_run_one_at_a_time_in_arrival_order(cluster: Cluster) -> None:
    """Five turns asking at once while another client holds a ticket: none runs before it lets go,
    then one after the other, in the order they asked; the lock is gone afterwards."""
    store, conversation = lock_store(cluster), new_id("order")
    log: list[tuple[str, int]] = []

    async def turn(index: int) -> None:
        async with store.lock(conversation):
            log.append(("in", index))
            await asyncio.sleep(0.02)
            log.append(("out", index))

    async def scenario() -> int:
        held = store.issue_ticket(conversation, 60)  # the blocking API, as another replica might use it
        tasks = [asyncio.create_task(turn(i)) for i in range(5)]
        await asyncio.sleep(0.3)
        waiting = len(store.get_lock(conversation).tickets)
        assert not log
        store.cleanup(conversation, held)
        await asyncio.gather(*tasks)
        await store.close()
        return waiting

    assert asyncio.run(scenario()) == 6
    assert log == [(step, i) for i in range(5) for step in ("in", "out")]
    assert store.get_lock(conversation) is None


def test_lua_lock_value_is_rasas_ticket_lock(cluster: Cluster) -> None:
    """While a turn holds the lock, Rasa's TicketLock reads it: one ticket, number 0, not yet expired."""
    store, conversation = lock_store(cluster), new_id("format")

    async def scenario() -> None:
        async with store.lock(conversation, lock_lifetime=30):
            lock = store.get_lock(conversation)
            assert lock is not None and [t.number for t in lock.tickets] == [0]
            assert not lock.is_locked(0) and lock.is_locked(1)
            assert not lock.tickets[0].has_expired()
            raw = json.loads(store.red.get(store.key_prefix + conversation))
            assert raw["conversation_id"] == conversation
        await store.close()

    asyncio.run(scenario())
    assert store.get_lock(conversation) is None


def test_an_expired_holder_does_not_block_for_ever(cluster: Cluster) -> None:
    """A ticket left by a crashed replica (lifetime 0.2 s) is skipped once it has expired."""
    store, conversation = lock_store(cluster), new_id("expired")
    store.issue_ticket(conversation, 0.2)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with store.lock(conversation):
            waited = loop.time() - started
        await store.close()
        return waited

    waited = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert 0.15 < waited < 2.0
    assert store.get_lock(conversation) is None


async def take_and_release(store: AtomicRedisLockStore, conversation: str) -> None:
    """Wait for the conversation's lock, then release it at once."""
    async with store.lock(conversation):
        pass


def test_a_lock_removed_while_waiting_raises_lock_error(cluster: Cluster) -> None:
    """As Rasa's store: a waiting turn whose lock disappeared gets LockError, not a turn without lock."""
    store, conversation = lock_store(cluster), new_id("gone")
    store.issue_ticket(conversation, 60)

    async def scenario() -> None:
        task = asyncio.create_task(take_and_release(store, conversation))
        await asyncio.sleep(0.1)
        store.red.delete(store.key_prefix + conversation)
        with pytest.raises(LockError):
            await asyncio.wait_for(task, 5)
        await store.close()

    asyncio.run(scenario())


def test_a_cancelled_turn_gives_its_ticket_back(cluster: Cluster) -> None:
    """A turn cancelled while it waits (client gone) leaves no ticket behind for the next one."""
    store, conversation = lock_store(cluster), new_id("cancel")
    held = store.issue_ticket(conversation, 60)

    async def scenario() -> None:
        task = asyncio.create_task(take_and_release(store, conversation))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)
        assert [t.number for t in store.get_lock(conversation).tickets] == [held]
        store.cleanup(conversation, held)
        async with store.lock(conversation):  # served at once
            pass
        await store.close()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert store.get_lock(conversation) is None


# ---------------------------------------------------------------------------------- PostgreSQL

async def play(store: SQLTrackerStore, sender: str, texts: list[str]) -> None:
    """Rasa's order of calls per message: read or create the tracker, add the turn, save."""
    for text in texts:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered(text, {"name": "ask_financing", "confidence": 0.9}))
        tracker.update(ActionExecuted("action_answer_policy_question"))
        tracker.update(BotUttered(f"答：{text}", {"custom": {"query": text}}))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)


def stored_rows(cluster: Cluster, sender: str) -> list[tuple]:
    """(type, intent, action, data without timestamp) of a conversation's rows, in id order."""
    engine = sa.create_engine(cluster.config.tracker_db_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.text("SELECT type_name, intent_name, action_name, data FROM events "
                                               "WHERE sender_id = :s ORDER BY id"), {"s": sender}).fetchall()
    finally:
        engine.dispose()
    out = []
    for type_name, intent, action, data in found:
        event = json.loads(data)
        event.pop("timestamp", None)
        out.append((type_name, intent, action, json.dumps(event, sort_keys=True)))
    return out


def test_asyncpg_path_stores_what_the_stock_store_stores(cluster: Cluster) -> None:
    """Three turns, a new session, one more turn: the same rows as Rasa's SQLTrackerStore, read back alike."""
    options, base = store_options(cluster), new_id("rows")
    ours = ResilientSQLTrackerStore(Domain.empty(), **options)
    stock = SQLTrackerStore(Domain.empty(), **options)
    assert ours._async_events is not None

    async def scenario() -> dict:
        read = {}
        for name, store in (("ours", ours), ("stock", stock)):
            sender = f"{base}-{name}"
            await play(store, sender, ["专利质押贷款有贴息吗？", "找哪个部门？", "还有吗"])
            tracker = await store.retrieve(sender)
            for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
                tracker.update(event)
            await store.save(tracker)
            await play(store, sender, ["新问题"])
            read[name] = [e.as_dict() for e in (await store.retrieve(sender)).events]
        await ours._async_events.close()
        return read

    read = asyncio.run(scenario())
    assert stored_rows(cluster, f"{base}-ours") == stored_rows(cluster, f"{base}-stock")
    assert len(stored_rows(cluster, f"{base}-ours")) == 1 + 3 * 4 + 3 + 4

    def without_time(events: list) -> list:
        return [{k: v for k, v in e.items() if k != "timestamp"} for e in events]

    assert without_time(read["ours"]) == without_time(read["stock"])
    assert [e["text"] for e in read["ours"] if e["event"] == "user"] == ["新问题"]


def test_connections_killed_by_the_server_cost_no_turn(cluster: Cluster) -> None:
    """PostgreSQL ends every session of the store (as on a restart): the next read and save are
    sent again on new connections and each event is stored once."""
    store, sender = ResilientSQLTrackerStore(Domain.empty(), **store_options(cluster)), new_id("killed")

    async def terminate_store_sessions() -> int:
        url = make_url(cluster.config.tracker_db_url)
        admin = await asyncpg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                      database=url.database)
        try:
            return len(await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''"))
        finally:
            await admin.close()

    async def scenario() -> list:
        await play(store, sender, ["你好", "专利质押"])
        assert await terminate_store_sessions() >= 1
        await asyncio.sleep(0.2)
        await play(store, sender, ["找哪个部门？"])
        events = (await store.retrieve(sender)).events
        await store._async_events.close()
        return events

    events = asyncio.run(scenario())
    assert [e.text for e in events if isinstance(e, UserUttered)] == ["你好", "专利质押", "找哪个部门？"]
    assert len(stored_rows(cluster, sender)) == 1 + 3 * 4


def test_an_insert_that_may_have_run_is_not_sent_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only reads, and INSERTs that cannot have taken effect, are repeated after a connection error."""
    events = pg_events.PostgresEvents("postgresql://unused", "SELECT", "INSERT")
    calls: list[str] = []

    class FakeConnection:
        def is_closed(self) -> bool:
            return False

        def terminate(self) -> None:
            calls.append("terminate")

    async def fake_connect(*_args: object, **_kwargs: object) -> FakeConnection:
        return FakeConnection()

    monkeypatch.setattr(pg_events.asyncpg, "connect", fake_connect)
    monkeypatch.setattr(pg_events, "RETRY_DELAYS", (0.0, 0.0, 0.0))

    def failing(error: BaseException):
        async def work(_connection: FakeConnection) -> str:
            calls.append("work")
            if calls.count("work") == 1:
                raise error
            return "done"
        return work

    broke = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    ended = asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
    for error, repeatable, outcome in ((broke, True, "done"), (broke, False, None), (ended, False, "done")):
        calls.clear()
        if outcome is None:
            with pytest.raises(asyncpg.ConnectionDoesNotExistError):
                asyncio.run(events._run(failing(error), "insert", repeatable=repeatable))
            assert calls == ["work", "terminate"]
        else:
            assert asyncio.run(events._run(failing(error), "read", repeatable=repeatable)) == outcome
            assert calls == ["work", "terminate", "work"]
