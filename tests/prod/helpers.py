"""Helpers of the production tests: REST turns, tracker inspection, a minimal socket.io client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import requests

QUESTION = "专利质押贷款有贴息吗？"
FOLLOW_UP = "这个是哪个部门负责的？"
APOLOGY = "抱歉，政策查询服务暂时繁忙，请稍后再试。"
NEED_CONTEXT = "请先告诉我您想了解哪方面的政策"

# processes a test restarted without waiting for them; the next test using the cluster waits
RESTARTING: set = set()


def say(base_url: str, sender: str, message: str, timeout: float = 60.0, **kwargs: Any) -> list[dict]:
    """One REST turn; returns the bot's messages (raises on HTTP errors)."""
    response = requests.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=timeout, **kwargs)
    response.raise_for_status()
    return response.json()


def kb_payloads(messages: Sequence[dict]) -> list[dict]:
    """The `kb_answer` custom payloads of a turn (REST: under "custom"; socket.io: the event data)."""
    payloads = []
    for message in messages:
        payload = message.get("custom") if isinstance(message.get("custom"), dict) else message
        if isinstance(payload, dict) and payload.get("type") == "kb_answer":
            payloads.append(payload)
    return payloads


def measure_ids(messages: Sequence[dict]) -> list[str]:
    """Ids of the measures the turn's kb_answer payloads name."""
    return [measure["id"] for payload in kb_payloads(messages) for measure in payload.get("measures", [])]


def citations(messages: Sequence[dict]) -> list[str]:
    """Citations of the measures the turn names."""
    return [measure["citation"] for payload in kb_payloads(messages) for measure in payload.get("measures", [])]


def texts(messages: Sequence[dict]) -> str:
    """The visible texts of a turn."""
    return "\n".join(m.get("text") or "" for m in messages)


def tracker(base_url: str, sender: str, token: str) -> dict[str, Any]:
    """A conversation's tracker through Rasa's HTTP API (needs --enable-api and the token)."""
    response = requests.get(f"{base_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
    response.raise_for_status()
    return response.json()


def stored_events(db_url: str, sender: str) -> list[dict[str, Any]]:
    """The events PostgreSQL holds for a sender, in insertion order."""
    import psycopg2

    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [json.loads(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


def turns(events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Events split at each user message (the part before the first one is dropped)."""
    result: list[list[dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            result.append([event])
        elif result:
            result[-1].append(event)
    return result


class RawSocketIO:
    """A minimal socket.io (Engine.IO 4) client over a WebSocket, built on aiohttp.

    The installed python-socketio client cannot open WebSockets here (its async client needs a newer
    aiohttp than Rasa pins, the sync one needs websocket-client), so the WebSocket path through
    nginx is tested with this small client instead.
    """

    def __init__(self, base_url: str, path: str = "/socket.io/", token: str | None = None,
                 origin: str | None = None) -> None:
        """Remember where to connect."""
        self.url = base_url.replace("http://", "ws://") + path + "?EIO=4&transport=websocket"
        self.token = token
        self.headers = {"Origin": origin} if origin else {}
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> RawSocketIO:  # noqa: PYI034 - typing.Self needs Python 3.11
        """Open the WebSocket and join the default namespace (raises ConnectionError if refused)."""
        self.session = aiohttp.ClientSession()
        try:
            self.ws = await self.session.ws_connect(self.url, headers=self.headers, timeout=10)
        except aiohttp.WSServerHandshakeError as exc:
            await self.session.close()
            raise ConnectionError(f"handshake refused: {exc.status}") from exc
        opening = await self._frame(10)
        if not opening.startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO opening {opening[:40]!r}")
        await self.ws.send_str("40" + (json.dumps({"token": self.token}) if self.token else ""))
        answer = await self._frame(10)
        if not answer.startswith("40"):
            await self.close()
            raise ConnectionError(f"namespace refused: {answer[:80]!r}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close."""
        await self.close()

    async def close(self) -> None:
        """Close the socket and the HTTP session."""
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()

    async def _frame(self, timeout: float) -> str:
        """The next text frame, answering Engine.IO pings on the way."""
        assert self.ws is not None
        while True:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed ({message.type})")
            if message.data == "2":
                await self.ws.send_str("3")
                continue
            return message.data

    async def emit(self, event: str, data: Any) -> None:
        """Send a socket.io event."""
        assert self.ws is not None
        await self.ws.send_str("42" + json.dumps([event, data], ensure_ascii=False))

    async def events(self, quiet: float = 3.0, limit: float = 30.0) -> list[list[Any]]:
        """Events received until nothing came for `quiet` seconds (at most `limit` seconds)."""
        received: list[list[Any]] = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                frame = await self._frame(quiet)
            except asyncio.TimeoutError:  # noqa: UP041 - not the builtin TimeoutError on Python 3.10
                break
            if frame.startswith("42"):
                received.append(json.loads(frame[2:]))
        return received


async def socketio_turn(base_url: str, session_id: str, message: str, token: str | None = None,
                        origin: str | None = None) -> list[dict]:
    """Connect over a WebSocket, ask one question in a persistent session, return the bot messages."""
    async with RawSocketIO(base_url, token=token, origin=origin) as client:
        await client.emit("session_request", {"session_id": session_id})
        confirm = await client.events(quiet=2.0, limit=10.0)
        assert ["session_confirm", session_id] in confirm, confirm
        await client.emit("user_uttered", {"session_id": session_id, "message": message})
        return [data for name, *rest in await client.events() if name == "bot_uttered" for data in rest]


def jwt_for(secret: str, subject: str = "tester", lifetime: int = 600) -> str:
    """A socket.io token (HS256) as the web page would get it."""
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": subject, "iat": now, "exp": now + lifetime}, secret, algorithm="HS256")
