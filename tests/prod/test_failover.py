"""Failures of one part: PostgreSQL restarted, an action server or both down, a replica killed."""

from __future__ import annotations

import asyncio
import collections
import threading
import time
import uuid

import pytest
import requests

from rasa_stores.lock_store import AtomicRedisLockStore
from rasa_stores.tracker_store import ResilientSQLTrackerStore
from devstack.cluster.cluster import Cluster
from tests.prod.helpers import (
    APOLOGY,
    FOLLOW_UP,
    QUESTION,
    RESTARTING,
    measure_ids,
    say,
    stored_events,
    texts,
)

pytestmark = pytest.mark.prod


def sender(prefix: str) -> str:
    """A fresh conversation id."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_postgres_restart_mid_conversation_loses_nothing(cluster: Cluster) -> None:
    """Question, PostgreSQL restart, follow-ups on both replicas: context and every turn are kept."""
    conversation = sender("pg")
    ids = measure_ids(say(cluster.rasa_url(0), conversation, QUESTION))
    assert ids
    cluster.restart_postgres()
    assert measure_ids(say(cluster.rasa_url(1), conversation, FOLLOW_UP)) == ids
    assert measure_ids(say(cluster.rasa_url(0), conversation, "去哪个平台办？")) == ids
    assert measure_ids(say(cluster.nginx_url, conversation, "原文怎么写？")) == ids
    users = [e["text"] for e in stored_events(cluster.config.tracker_db_url, conversation) if e.get("event") == "user"]
    assert users == [QUESTION, FOLLOW_UP, "去哪个平台办？", "原文怎么写？"]
    for name in ("rasa-1", "rasa-2"):
        assert "Error happened when trying to" not in cluster.log(name)


def test_stock_sql_tracker_store_needs_pre_ping(cluster: Cluster) -> None:
    """Why endpoints.prod.yml uses ResilientSQLTrackerStore: after a database restart Rasa's
    SQLTrackerStore (wrapped in FailSafeTrackerStore, as Rasa does) returns no tracker once, i.e. the
    turn would start without context; the resilient store returns the stored conversation."""
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.engine.url import make_url

    url = make_url(cluster.config.tracker_db_url)
    options = {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
               "username": url.username, "password": url.password}
    stores = {"stock": FailSafeTrackerStore(SQLTrackerStore(Domain.empty(), **options)),
              "resilient": FailSafeTrackerStore(ResilientSQLTrackerStore(Domain.empty(), **options))}

    async def save_restart_retrieve() -> dict:
        ids = {}
        for name, store in stores.items():
            tracker = DialogueStateTracker(sender(f"store-{name}"), [])
            tracker.update(UserUttered("你好"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            ids[name] = tracker.sender_id
        cluster.restart_postgres()
        return {name: await store.retrieve(ids[name]) for name, store in stores.items()}

    found = asyncio.run(save_restart_retrieve())
    assert found["resilient"] is not None and len(found["resilient"].events) == 2
    assert found["stock"] is None


def test_lock_tickets_are_unique_across_clients(cluster: Cluster) -> None:
    """Eight clients (like eight replicas) take 400 tickets for one conversation: no ticket twice."""
    c = cluster.config
    conversation = sender("tickets")
    tickets: list[int] = []
    barrier = threading.Barrier(8)

    def client() -> None:
        store = AtomicRedisLockStore(host=c.redis_address, port=c.redis_port, password=c.redis_password, db=5)
        barrier.wait()
        for _ in range(50):
            tickets.append(store.issue_ticket(conversation, 60))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    duplicates = [t for t, n in collections.Counter(tickets).items() if n > 1]
    assert len(tickets) == 400 and not duplicates
    store = AtomicRedisLockStore(host=c.redis_address, port=c.redis_port, password=c.redis_password, db=5)
    assert len(store.get_lock(conversation).tickets) == 400
    store.red.delete(store.key_prefix + conversation)


def test_one_action_server_down_is_invisible(cluster: Cluster) -> None:
    """nginx's internal listener skips a stopped action server."""
    cluster.stop_process("actions-1")
    try:
        conversation = sender("one-down")
        for message in (QUESTION, FOLLOW_UP, QUESTION):
            assert measure_ids(say(cluster.nginx_url, conversation, message)), message
    finally:
        cluster.start_process("actions-1")
        cluster.wait_ready("actions-1", timeout=120)


def test_action_servers_down_polite_message_then_recovery(cluster: Cluster) -> None:
    """Both action servers stopped: the user gets utter_action_unavailable at once; after the restart
    the same conversation is answered again."""
    conversation = sender("actions-down")
    cluster.stop_process("actions-1")
    cluster.stop_process("actions-2")
    try:
        started = time.monotonic()
        messages = say(cluster.nginx_url, conversation, QUESTION)
        elapsed = time.monotonic() - started
        assert APOLOGY in texts(messages), messages
        assert elapsed < 5, f"apology took {elapsed:.1f} s"
        assert APOLOGY in texts(say(cluster.nginx_url, conversation, FOLLOW_UP))
    finally:
        cluster.start_process("actions-1")
        cluster.start_process("actions-2")
        cluster.wait_ready("actions-1", timeout=120)
        cluster.wait_ready("actions-2", timeout=120)
    time.sleep(11)  # nginx retries an upstream marked failed after fail_timeout (10 s)
    assert measure_ids(say(cluster.nginx_url, conversation, QUESTION))
    assert measure_ids(say(cluster.nginx_url, conversation, FOLLOW_UP))


@pytest.mark.disruptive
def test_replica_killed_mid_conversation_loses_nothing(cluster: Cluster) -> None:
    """SIGKILL one replica between turns: nginx sends the next turns to the other one, with context.

    Runs last (see conftest); the killed replica is restarted and later tests wait for it.
    """
    offset = (cluster.log_dir / "nginx-access.log").stat().st_size
    conversation = sender("kill")
    ids = measure_ids(say(cluster.nginx_url, conversation, QUESTION))
    assert ids
    say(cluster.nginx_url, conversation, FOLLOW_UP)  # at least one turn on each replica
    cluster.kill("rasa-1")
    try:
        for message in (FOLLOW_UP, "去哪个平台办？", "原文怎么写？"):
            response = requests.post(f"{cluster.nginx_url}/webhooks/rest/webhook",
                                     json={"sender": conversation, "message": message}, timeout=60)
            assert response.status_code == 200, (message, response.status_code)
            assert measure_ids(response.json()) == ids, message
        users = [e["text"] for e in stored_events(cluster.config.tracker_db_url, conversation)
                 if e.get("event") == "user"]
        assert users == [QUESTION, FOLLOW_UP, FOLLOW_UP, "去哪个平台办？", "原文怎么写？"]
        with open(cluster.log_dir / "nginx-access.log", "rb") as handle:
            handle.seek(offset)
            lines = [line for line in handle.read().decode().splitlines() if "/webhooks/rest/webhook" in line]
        assert all(" 200 " in line for line in lines), lines
    finally:
        cluster.start_process("rasa-1")
        RESTARTING.add("rasa-1")
