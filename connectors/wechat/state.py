"""What the WeChat channel remembers between requests, in its key/value store.

Per user: the numbered options last offered (``opts:<openid>``) and the parts of a long answer not
yet sent (``more:<openid>``, shown one by one on “更多”). Per pushed message: its reply, so that
WeChat's retries of the same message get the same reply without a second Rasa turn (``dedup:<key>``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Awaitable, Callable, List, Optional

from connectors.wechat.format import EMPTY_ANSWER_TEXT, Option, Rendered, split_reply
from connectors.wechat.store import KeyValueStore

logger = logging.getLogger(__name__)

PENDING_TTL = 60.0  # a claimed MsgId whose owner vanished is released after this
DONE_TTL = 600.0  # WeChat retries within ~15 s; keep finished replies well beyond
USER_STATE_TTL = 24 * 3600.0  # last options / remaining parts per user

_PENDING = "P"
_DONE = "D"


class ChannelState:
    """Options, remaining parts and finished replies of the WeChat channel, kept in a KeyValueStore."""

    def __init__(self, store: KeyValueStore) -> None:
        """Keep everything in ``store`` (in memory, or Redis shared by several replicas)."""
        self.store = store

    async def load_options(self, openid: str) -> List[Option]:
        """Return the numbered options last offered to this user."""
        raw = await self.store.get(f"opts:{openid}")
        try:
            return [Option(**o) for o in json.loads(raw)] if raw else []
        except (ValueError, TypeError):
            return []

    async def publish(self, openid: str, rendered: Rendered) -> str:
        """Remember options and remaining parts for the user; return the first part."""
        parts = split_reply(rendered.text) or [EMPTY_ANSWER_TEXT]
        if rendered.options:
            opts = json.dumps([o.__dict__ for o in rendered.options], ensure_ascii=False)
            await self.store.set(f"opts:{openid}", opts, USER_STATE_TTL)
        else:
            await self.store.delete(f"opts:{openid}")
        if len(parts) > 1:
            await self.store.set(
                f"more:{openid}", json.dumps(parts[1:], ensure_ascii=False), USER_STATE_TTL
            )
        else:
            await self.store.delete(f"more:{openid}")
        return parts[0]

    async def next_part(self, openid: str) -> Optional[str]:
        """Pop the next stored part for “更多”, or None when nothing is left."""
        raw = await self.store.get(f"more:{openid}")
        try:
            rest = json.loads(raw) if raw else []
        except ValueError:
            rest = []
        if not rest:
            return None
        part = str(rest.pop(0))
        if rest:
            await self.store.set(
                f"more:{openid}", json.dumps(rest, ensure_ascii=False), USER_STATE_TTL
            )
        else:
            await self.store.delete(f"more:{openid}")
        return part

    async def keep_undelivered(self, openid: str, part: str) -> None:
        """Put a part that could not be sent in front of the remaining ones, so that “更多” shows it."""
        raw = await self.store.get(f"more:{openid}")
        try:
            rest = list(json.loads(raw)) if raw else []
        except (ValueError, TypeError):
            rest = []
        await self.store.set(
            f"more:{openid}", json.dumps([part] + rest, ensure_ascii=False), USER_STATE_TTL
        )

    async def forget(self, openid: str) -> None:
        """Drop the user's options and remaining parts (unsubscribe)."""
        await self.store.delete(f"opts:{openid}")
        await self.store.delete(f"more:{openid}")

    async def deduplicated(
        self, key: str, compute: Callable[[], Awaitable[str]], deadline: float
    ) -> str:
        """Run compute once per key; concurrent/later retries get the same reply."""
        loop = asyncio.get_running_loop()
        skey = f"dedup:{key}"
        while True:
            if await self.store.add(skey, _PENDING, PENDING_TTL):
                try:
                    reply = await compute()
                except Exception:
                    await self.store.delete(skey)
                    raise
                await self.store.set(skey, _DONE + reply, DONE_TTL)
                return reply
            logger.info("wechat retry (dedup hit) %s", key if key.startswith("msg:") else "event")
            while True:
                value = await self.store.get(skey)
                if value is None:
                    break  # the owner gave up: try to claim it ourselves
                if value.startswith(_DONE):
                    return value[len(_DONE) :]
                if loop.time() >= deadline:
                    return ""
                await asyncio.sleep(0.05)
