"""Two Rasa replicas share one conversation state: PostgreSQL trackers, Redis locks, sticky socket.io."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import requests
import socketio

from rasa_stores.lock_store import AtomicRedisLockStore
from devstack.cluster.cluster import Cluster
from tests.prod.helpers import (
    FOLLOW_UP,
    QUESTION,
    RawSocketIO,
    citations,
    jwt_for,
    kb_payloads,
    measure_ids,
    say,
    socketio_turn,
    stored_events,
    texts,
    turns,
)

pytestmark = pytest.mark.prod

QUESTIONS = [
    "知识产权质押融资有哪些支持政策？",
    "企业遇到海外知识产权纠纷有什么帮助？",
    "专利导航服务怎么申请？",
    "中小企业知识产权战略推进工程试点城市申报条件是什么？",
    "专利开放许可有什么政策？",
    "专利密集型产品怎么备案认定？",
]


def new_sender(prefix: str) -> str:
    """A fresh conversation id."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_context_survives_alternating_replicas(cluster: Cluster) -> None:
    """Question on replica A, follow-up on replica B: B names the same measures and citations."""
    sender = new_sender("alt")
    first = say(cluster.rasa_url(0), sender, QUESTION)
    ids, cites = measure_ids(first), citations(first)
    assert ids and all("〔" in c or "（" in c for c in cites), first
    second = say(cluster.rasa_url(1), sender, FOLLOW_UP)
    assert measure_ids(second) == ids, (ids, second)
    assert citations(second) == cites
    assert "负责部门" in texts(second)
    # and back again: replica A sees what B did (the follow-up turn is in the tracker)
    third = say(cluster.rasa_url(0), sender, "原文怎么写？")
    assert measure_ids(third) == ids
    events = stored_events(cluster.config.tracker_db_url, sender)
    assert [e["text"] for e in events if e.get("event") == "user"] == [QUESTION, FOLLOW_UP, "原文怎么写？"]


def _new_access_lines(cluster: Cluster, offset: int) -> list[str]:
    """nginx access log lines written after `offset` bytes."""
    with open(cluster.log_dir / "nginx-access.log", "rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace").splitlines()


def test_nginx_spreads_a_conversation_over_both_replicas(cluster: Cluster) -> None:
    """Through nginx (round-robin) the turns land on both replicas, and the follow-ups keep context."""
    offset = (cluster.log_dir / "nginx-access.log").stat().st_size
    sender = new_sender("rr")
    first = say(cluster.nginx_url, sender, QUESTION)
    ids = measure_ids(first)
    assert ids
    for follow_up in [FOLLOW_UP, "去哪个平台办？", "原文怎么写？", FOLLOW_UP, "去哪个平台办？"]:
        assert measure_ids(say(cluster.nginx_url, sender, follow_up)) == ids, follow_up
    replica_ports = {f"127.0.0.1:{p}" for p in cluster.config.rasa_ports}
    used = {line.split("upstream=")[1].split()[0] for line in _new_access_lines(cluster, offset)
            if '"POST /webhooks/rest/webhook" 200' in line}
    assert used == replica_ports, used


def test_concurrent_messages_of_one_user_are_handled_in_order(cluster: Cluster) -> None:
    """Six questions of one user, alternating replicas, all in flight at once, are handled one at a
    time in arrival order.

    The test holds the conversation's lock itself (a ticket in the replicas' Redis lock store) while
    the six requests arrive 0.3 s apart, so all six wait together, on both replicas; then it lets go.
    In PostgreSQL each question is followed by its own answer (the kb_answer payload names the
    question), the turns do not interleave, none is lost, and they are in arrival order. Each HTTP
    response carries its own answer.
    """
    c = cluster.config
    sender = new_sender("lock")
    lock_store = AtomicRedisLockStore(host=c.redis_address, port=c.redis_port, password=c.redis_password,
                                      db=c.redis_lock_db, key_prefix=c.redis_key_prefix or None)
    results: dict[int, tuple[float, list[dict]]] = {}
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            messages = say(cluster.rasa_url(index % 2), sender, QUESTIONS[index], timeout=120)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            return
        results[index] = (time.monotonic(), messages)

    held = lock_store.issue_ticket(sender, 60)
    threads = []
    try:
        for index in range(len(QUESTIONS)):
            thread = threading.Thread(target=send, args=(index,))
            thread.start()
            threads.append(thread)
            time.sleep(0.3)
        time.sleep(1.5)
        assert not results and not errors, "a turn ran while another client held the conversation lock"
        waiting = lock_store.get_lock(sender)
        assert waiting is not None and len(waiting.tickets) == 1 + len(QUESTIONS)
    finally:
        released = time.monotonic()
        lock_store.cleanup(sender, held)
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    assert sorted(results) == list(range(len(QUESTIONS)))
    assert all(done > released for done, _ in results.values())
    # answered one after the other, in arrival order
    assert [i for i, _ in sorted(results.items(), key=lambda item: item[1][0])] == list(range(len(QUESTIONS)))

    for index, (_, messages) in results.items():
        assert [p["query"] for p in kb_payloads(messages)] == [QUESTIONS[index]], (index, messages)

    conversation = turns(stored_events(c.tracker_db_url, sender))
    assert [turn[0]["text"] for turn in conversation] == QUESTIONS
    for turn in conversation:
        queries = [e["data"]["custom"]["query"] for e in turn
                   if e.get("event") == "bot" and (e.get("data") or {}).get("custom")]
        assert queries == [turn[0]["text"]], turn
        assert turn[-1].get("event") == "action" and turn[-1].get("name") == "action_listen"
    assert lock_store.get_lock(sender) is None  # the last turn removed the lock


def test_socketio_websocket_through_nginx_with_a_token(cluster: Cluster) -> None:
    """WebSocket upgrade through nginx; the connection carries a JWT signed with SOCKETIO_JWT_SECRET."""
    token = jwt_for(cluster.env["SOCKETIO_JWT_SECRET"])
    messages = asyncio.run(socketio_turn(cluster.nginx_url, uuid.uuid4().hex, QUESTION, token=token))
    assert measure_ids(messages), messages


@pytest.mark.parametrize("token_kind", ["none", "wrong-secret", "expired"])
def test_socketio_refuses_connections_without_a_valid_token(cluster: Cluster, token_kind: str) -> None:
    """Rasa 3.6's socketio jwt_key: no token, a token signed with another secret, an expired token."""
    secret = cluster.env["SOCKETIO_JWT_SECRET"]
    token = {"none": None, "wrong-secret": jwt_for("not-the-secret"), "expired": jwt_for(secret, lifetime=-60)}[token_kind]

    async def connect() -> None:
        async with RawSocketIO(cluster.nginx_url, token=token):
            pass

    with pytest.raises(ConnectionError):
        asyncio.run(connect())


def test_socketio_refuses_foreign_origins(cluster: Cluster) -> None:
    """nginx answers 403 to a WebSocket from a page outside CORS_ORIGINS; allowed origins pass."""
    token = jwt_for(cluster.env["SOCKETIO_JWT_SECRET"])

    async def connect(origin: str) -> None:
        async with RawSocketIO(cluster.nginx_url, token=token, origin=origin):
            pass

    with pytest.raises(ConnectionError, match="403"):
        asyncio.run(connect("https://evil.example"))
    asyncio.run(connect(cluster.config.public_origins[0]))


def test_socketio_session_continues_on_the_other_replica(cluster: Cluster) -> None:
    """A widget session (session_persistence) asks on replica A, reconnects to B, follows up."""
    token = jwt_for(cluster.env["SOCKETIO_JWT_SECRET"])
    session = uuid.uuid4().hex
    first = asyncio.run(socketio_turn(cluster.rasa_url(0), session, QUESTION, token=token))
    second = asyncio.run(socketio_turn(cluster.rasa_url(1), session, FOLLOW_UP, token=token))
    assert measure_ids(first) and measure_ids(second) == measure_ids(first)


def test_socketio_long_polling_is_sticky_through_nginx(cluster: Cluster) -> None:
    """HTTP long-polling needs every request of a session on one replica: ip_hash provides it."""
    token = jwt_for(cluster.env["SOCKETIO_JWT_SECRET"])
    session = uuid.uuid4().hex
    received: list[dict] = []
    confirmed = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("session_confirm", lambda *_: confirmed.set())
    client.on("bot_uttered", lambda data: received.append(data))
    client.connect(cluster.nginx_url, transports=["polling"], auth={"token": token}, wait_timeout=15)
    try:
        for _ in range(3):  # several polling round trips
            client.emit("session_request", {"session_id": session})
            assert confirmed.wait(10)
            confirmed.clear()
        client.emit("user_uttered", {"session_id": session, "message": QUESTION})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not measure_ids(received):
            time.sleep(0.2)
    finally:
        client.disconnect()
    assert measure_ids(received), received


def test_health_of_every_part_through_nginx(cluster: Cluster) -> None:
    """The page, the staff desk and the REST channel answer through the public port."""
    assert requests.get(f"{cluster.nginx_url}/healthz", timeout=10).json() == {"status": "ok"}
    page = requests.get(f"{cluster.nginx_url}/", timeout=10)
    assert page.status_code == 200 and "widget/embed.js" in page.text
    assert requests.get(f"{cluster.nginx_url}/staff/", timeout=10).status_code == 200
    assert requests.get(f"{cluster.nginx_url}/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{cluster.nginx_url}/webhooks/wechat/", timeout=10).json() == {"status": "ok"}
