"""Small key/value stores (in-memory with TTL, or Redis) for the WeChat channel."""

from __future__ import annotations

import logging
import time
from typing import Dict, Optional, Protocol, Tuple

logger = logging.getLogger(__name__)

# Upper bound on entries kept by the in-memory store (oldest are evicted first).
DEFAULT_MAX_ENTRIES = 50_000


class KeyValueStore(Protocol):
    """Interface the WeChat channel needs: strings with a time to live."""

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store value only if key is absent; return True when it was stored."""

    async def get(self, key: str) -> Optional[str]:
        """Return the value of key, or None when absent or expired."""

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Store value under key (overwriting) for ttl seconds."""

    async def delete(self, key: str) -> None:
        """Remove key if present."""


class MemoryStore:
    """Process-local store with per-key expiry (default; fine for one Rasa process)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        """Create an empty store holding at most max_entries keys."""
        self._data: Dict[str, Tuple[str, float]] = {}
        self._max_entries = max_entries
        self._ops = 0

    def _now(self) -> float:
        """Return a monotonic clock reading (overridable in tests)."""
        return time.monotonic()

    def _live(self, key: str) -> Optional[str]:
        """Return the value of key if it has not expired (dropping it otherwise)."""
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at <= self._now():
            self._data.pop(key, None)
            return None
        return value

    def _housekeep(self) -> None:
        """Purge expired keys now and then and evict the oldest beyond the cap."""
        self._ops += 1
        if self._ops % 256 == 0 or len(self._data) > self._max_entries:
            now = self._now()
            for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
                self._data.pop(key, None)
        while len(self._data) > self._max_entries:
            # dicts keep insertion order: the first key is the oldest write
            self._data.pop(next(iter(self._data)), None)

    def _put(self, key: str, value: str, ttl: float) -> None:
        """Write key (moving it to the newest position)."""
        self._data.pop(key, None)
        self._data[key] = (value, self._now() + max(ttl, 0.0))
        self._housekeep()

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store value only if key is absent; return True when it was stored."""
        if self._live(key) is not None:
            return False
        self._put(key, value, ttl)
        return True

    async def get(self, key: str) -> Optional[str]:
        """Return the value of key, or None when absent or expired."""
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Store value under key (overwriting) for ttl seconds."""
        self._put(key, value, ttl)

    async def delete(self, key: str) -> None:
        """Remove key if present."""
        self._data.pop(key, None)


class RedisStore:
    """Store backed by Redis (shared by several Rasa processes); fails open on errors."""

    def __init__(self, client: object, prefix: str = "") -> None:
        """Wrap a redis.asyncio client (or anything with the same set/get/delete)."""
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "") -> "RedisStore":
        """Build the store from a redis:// URL with short socket timeouts."""
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
        )
        return cls(client, prefix)

    def _key(self, key: str) -> str:
        """Return the namespaced Redis key."""
        return f"{self._prefix}{key}"

    @staticmethod
    def _ms(ttl: float) -> int:
        """Convert a TTL in seconds to whole milliseconds (at least 1)."""
        return max(int(ttl * 1000), 1)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """SET NX PX; on a Redis error, behave as if the key was new (fail open)."""
        from redis.exceptions import RedisError

        try:
            return bool(await self._client.set(self._key(key), value, px=self._ms(ttl), nx=True))
        except (RedisError, OSError) as exc:
            logger.warning("redis add failed (%s); treating key as new", type(exc).__name__)
            return True

    async def get(self, key: str) -> Optional[str]:
        """GET; a Redis error reads as a missing key."""
        from redis.exceptions import RedisError

        try:
            value = await self._client.get(self._key(key))
        except (RedisError, OSError) as exc:
            logger.warning("redis get failed (%s)", type(exc).__name__)
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return value

    async def set(self, key: str, value: str, ttl: float) -> None:
        """SET PX; errors are logged and ignored."""
        from redis.exceptions import RedisError

        try:
            await self._client.set(self._key(key), value, px=self._ms(ttl))
        except (RedisError, OSError) as exc:
            logger.warning("redis set failed (%s)", type(exc).__name__)

    async def delete(self, key: str) -> None:
        """DEL; errors are logged and ignored."""
        from redis.exceptions import RedisError

        try:
            await self._client.delete(self._key(key))
        except (RedisError, OSError) as exc:
            logger.warning("redis delete failed (%s)", type(exc).__name__)


def create_store(redis_url: Optional[str]) -> KeyValueStore:
    """Return a RedisStore when redis_url is set, else a MemoryStore."""
    if redis_url:
        logger.info("wechat channel: using Redis store")
        return RedisStore.from_url(redis_url, prefix="wechat:")
    return MemoryStore()
