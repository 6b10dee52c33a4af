"""Unit tests for connectors.wechat.store (in-memory TTL store, Redis store)."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any, Dict, Optional

import pytest


from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.wechat.store import MemoryStore, RedisStore, create_store



class Clock:
    """A settable clock for MemoryStore."""

    def __init__(self) -> None:
        """Start at t=1000."""
        self.now = 1000.0

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now


def run(coro: Any) -> Any:
    """Run a coroutine to completion."""
    return asyncio.run(coro)


def test_memory_store_add_get_set_delete_and_ttl() -> None:
    """add is set-if-absent, values expire after their TTL."""
    store = MemoryStore()
    clock = Clock()
    store._now = clock  # type: ignore[method-assign]

    async def scenario() -> None:
        assert await store.add("k", "v1", 10)
        assert not await store.add("k", "v2", 10)
        assert await store.get("k") == "v1"
        await store.set("k", "v3", 10)
        assert await store.get("k") == "v3"
        clock.now += 11
        assert await store.get("k") is None
        assert await store.add("k", "v4", 10)
        await store.delete("k")
        assert await store.get("k") is None
        await store.delete("missing")

    run(scenario())


def test_memory_store_is_bounded() -> None:
    """The oldest keys are evicted beyond max_entries."""
    store = MemoryStore(max_entries=100)

    async def scenario() -> None:
        for i in range(250):
            await store.set(f"k{i}", str(i), 60)
        assert await store.get("k0") is None
        assert await store.get("k249") == "249"

    run(scenario())
    assert len(store._data) <= 100


class FakeRedis:
    """The subset of redis.asyncio.Redis used by RedisStore."""

    def __init__(self, fail: bool = False) -> None:
        """Start empty; with fail=True every call raises a connection error."""
        self.data: Dict[str, str] = {}
        self.calls: list = []
        self.fail = fail

    async def set(
        self, key: str, value: str, px: Optional[int] = None, nx: bool = False
    ) -> Optional[bool]:
        """SET with optional NX."""
        self.calls.append(("set", key, px, nx))
        if self.fail:
            raise RedisConnectionError("down")
        if nx and key in self.data:
            return None
        self.data[key] = value
        return True

    async def get(self, key: str) -> Optional[bytes]:
        """GET returning bytes like a client without decode_responses."""
        if self.fail:
            raise RedisConnectionError("down")
        value = self.data.get(key)
        return value.encode() if value is not None else None

    async def delete(self, key: str) -> int:
        """DEL."""
        if self.fail:
            raise RedisConnectionError("down")
        return 1 if self.data.pop(key, None) is not None else 0


def test_redis_store_uses_nx_px_and_prefix() -> None:
    """RedisStore maps add to SET NX PX under its prefix."""
    client = FakeRedis()
    store = RedisStore(client, prefix="wechat:")

    async def scenario() -> None:
        assert await store.add("dedup:1", "P", 1.5)
        assert not await store.add("dedup:1", "P", 1.5)
        assert await store.get("dedup:1") == "P"
        await store.set("dedup:1", "Dhello", 600)
        assert await store.get("dedup:1") == "Dhello"
        await store.delete("dedup:1")
        assert await store.get("dedup:1") is None

    run(scenario())
    assert client.calls[0] == ("set", "wechat:dedup:1", 1500, True)


def test_redis_store_fails_open() -> None:
    """When Redis is down, messages are still handled (no exception, key is 'new')."""
    store = RedisStore(FakeRedis(fail=True))

    async def scenario() -> None:
        assert await store.add("k", "v", 1)
        assert await store.get("k") is None
        await store.set("k", "v", 1)
        await store.delete("k")

    run(scenario())


def test_create_store_picks_backend() -> None:
    """No URL → memory; a URL → Redis (no connection is made until used)."""
    assert isinstance(create_store(None), MemoryStore)
    assert isinstance(create_store(""), MemoryStore)
    assert isinstance(create_store("redis://127.0.0.1:6399/0"), RedisStore)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_redis_store_against_real_server() -> None:
    """Round trip against the Redis named by REDIS_URL (only when available)."""
    store = create_store(os.environ["REDIS_URL"])
    key = f"test:{uuid.uuid4().hex}"

    async def scenario() -> None:
        assert await store.add(key, "v", 5)
        assert not await store.add(key, "w", 5)
        assert await store.get(key) == "v"
        await store.delete(key)

    run(scenario())
