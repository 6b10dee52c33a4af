"""The load generator: N simulated users, each replaying its conversation over the REST channel."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, List, Optional, Sequence, TypeVar

from .conversations import Conversation, is_empty_reply, meets_expectation
from .http_client import HTTPError, KeepAliveClient

T = TypeVar("T")


@dataclass
class TurnResult:
    """One request: when it started (seconds since the level started), how long it took, what came back."""

    users: int
    user: int
    conversation: str
    turn: int
    kind: str
    text: str
    sender: str
    started: float
    latency_ms: float
    status: Optional[int]
    error: Optional[str]
    expected: bool
    messages: int

    @property
    def ok(self) -> bool:
        """A 200 with a non-empty reply."""
        return self.error is None


def webhook_url(target: str) -> str:
    """The REST channel's address under a base URL."""
    return target.rstrip("/") + "/webhooks/rest/webhook"


async def send_turn(client: KeepAliveClient, sender: str, text: str, timeout: float) -> tuple:
    """POST one message; returns (status, messages or None, error or None, latency ms)."""
    start = time.perf_counter()
    status: Optional[int] = None
    messages = None
    error: Optional[str] = None
    try:
        status, body = await asyncio.wait_for(client.post_json({"sender": sender, "message": text}), timeout)
        if status != 200:
            error = f"http_{status}"
        else:
            try:
                messages = json.loads(body)
            except ValueError:
                error = "bad_json"
            else:
                if is_empty_reply(messages):
                    error = "empty_answer"
    except asyncio.TimeoutError:
        error = "timeout"
    except HTTPError:
        error = "bad_http"
    except OSError as exc:  # connection refused, reset, closed (ConnectionError is an OSError)
        error = type(exc).__name__
    return status, messages, error, (time.perf_counter() - start) * 1000.0


async def simulated_user(url: str, users: int, user: int,
                         conversations: Sequence[Conversation], run_id: str, level_start: float, deadline: float,
                         timeout: float, results: List[TurnResult], max_turns: Optional[int],
                         same_sender: bool, think_s: float) -> None:
    """Go through conversations until the deadline (or max_turns).

    User i starts with conversation i and takes the next one on each pass, so that even one user
    covers every conversation and the users of a level are at different places at any moment.
    """
    client = KeepAliveClient(url)  # one kept connection per user, as a browser tab or a WeChat relay has
    try:
        done = 0
        passes = 0
        while time.monotonic() < deadline and (max_turns is None or done < max_turns):
            conversation = conversations[(user + passes) % len(conversations)]
            sender = f"bench-{run_id}-{users}u-{user:03d}" + ("" if same_sender else f"-{passes}")
            for index, turn in enumerate(conversation.turns):
                if time.monotonic() >= deadline or (max_turns is not None and done >= max_turns):
                    break
                started = time.monotonic() - level_start
                status, messages, error, latency = await send_turn(client, sender, turn.text, timeout)
                results.append(TurnResult(
                    users=users, user=user, conversation=conversation.id, turn=index, kind=turn.kind,
                    text=turn.text, sender=sender, started=started, latency_ms=latency, status=status, error=error,
                    expected=error is None and meets_expectation(messages, turn.expect),
                    messages=len(messages) if isinstance(messages, list) else 0,
                ))
                done += 1
                if think_s:
                    await asyncio.sleep(think_s)
            passes += 1
    finally:
        await client.close()


async def run_level_async(target: str, users: int, conversations: Sequence[Conversation], duration: float,
                          timeout: float, max_turns: Optional[int] = None, same_sender: bool = False,
                          think_s: float = 0.0, run_id: Optional[str] = None) -> tuple:
    """Run one concurrency level; returns (results, elapsed seconds from start to the last reply)."""
    run_id = run_id or uuid.uuid4().hex[:8]
    url = webhook_url(target)
    results: List[TurnResult] = []
    level_start = time.monotonic()
    deadline = level_start + duration
    await asyncio.gather(*(
        simulated_user(url, users, user, conversations, run_id,
                       level_start, deadline, timeout, results, max_turns, same_sender, think_s)
        for user in range(users)
    ))
    elapsed = time.monotonic() - level_start
    return results, elapsed


def run_loop(coroutine: Awaitable[T]) -> T:
    """Run a coroutine to completion on a fresh uvloop loop (asyncio's own loop when uvloop is missing).

    The load generator shares the 2 cores with what it measures; uvloop (installed with Sanic) spends
    less CPU per request than asyncio's pure-Python loop, leaving more to the assistant.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with Sanic, so with Rasa
        return asyncio.run(coroutine)
    loop = uvloop.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coroutine)
    finally:
        asyncio.set_event_loop(None)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def run_level(target: str, users: int, conversations: Sequence[Conversation], duration: float, timeout: float,
              **kwargs) -> tuple:
    """Synchronous wrapper of run_level_async."""
    return run_loop(run_level_async(target, users, conversations, duration, timeout, **kwargs))
