"""The production lock store: Rasa's RedisLockStore, atomic across replicas and without blocking the server.

``rasa_stores.lock_store.AtomicRedisLockStore`` (endpoints.prod.yml) keeps Rasa's ticket lock: the same
key, the same JSON value (``TicketLock.dumps``), the same order of service (tickets in the order they
were issued; a ticket's holder runs once every earlier ticket is finished or expired). It changes how
the lock is read and written:

- Every read-modify-write of a lock is atomic. The stock store does GET and SET separately, so two
  replicas taking tickets for one conversation at the same moment can both get the same ticket, or
  one can delete a lock the other just joined.
- ``lock()``, which Rasa takes around every turn, talks to Redis through redis-py's asyncio client
  and server-side Lua scripts: one round trip issues the ticket and says whether it is served now,
  one removes it afterwards. The stock store makes about seven blocking calls per turn (GET, SET,
  GET, GET, SET, GET, DEL); each one stops the replica's event loop, and so every other
  conversation of that replica, until Redis answers. The asyncio client is made per event loop, and a
  replica issues its tickets one at a time, so its turns keep the order in which they arrived.
- A ticket that has to wait re-checks the lock after 20 ms, then 40, 80, … up to Rasa's wait of
  ``wait_time_in_seconds`` (1 s) between checks, instead of always sleeping 1 s first.
- The blocking methods of Rasa's interface (``issue_ticket``, ``get_lock``, ``cleanup``, …) still
  work, each update in a WATCH/MULTI/EXEC transaction; a Lua script is atomic towards them too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Dict, Optional, Tuple

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
)

logger = logging.getLogger(__name__)

FIRST_RECHECK_SECONDS = 0.02  # first wait of a queued ticket; doubled up to wait_time_in_seconds

# The lock's value is Rasa's TicketLock.dumps(): {"conversation_id": ..., "tickets": [<JSON text of
# {"number": n, "expires": t}>, ...]}, each ticket itself JSON text inside the list. ARGV[1] is the
# client's time (Rasa compares tickets with time.time() of the replica too).
_LUA_LIVE_TICKETS = """
local function live_tickets(raw, now)
  local tickets = {}
  if not raw then return tickets end
  local lock = cjson.decode(raw)
  if type(lock.tickets) ~= 'table' then return tickets end
  for _, text in ipairs(lock.tickets) do
    local ticket = cjson.decode(text)
    if not (now > tonumber(ticket.expires)) then table.insert(tickets, ticket) end
  end
  return tickets
end
local function store(key, conversation_id, tickets)
  if #tickets == 0 then redis.call('DEL', key) return end
  local texts = {}
  for i, ticket in ipairs(tickets) do
    texts[i] = cjson.encode({number = ticket.number, expires = ticket.expires})
  end
  redis.call('SET', key, cjson.encode({conversation_id = conversation_id, tickets = texts}))
end
"""

# KEYS[1] lock key; ARGV: now, conversation id, lifetime → {ticket, number now served}
ISSUE_SCRIPT = _LUA_LIVE_TICKETS + """
local now = tonumber(ARGV[1])
local tickets = live_tickets(redis.call('GET', KEYS[1]), now)
local number = 0
if #tickets > 0 then number = tickets[#tickets].number + 1 end
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[3])})
store(KEYS[1], ARGV[2], tickets)
return {number, tickets[1].number}
"""

# KEYS[1] lock key; ARGV: now, conversation id → number now served, -1 when no ticket is left
CHECK_SCRIPT = _LUA_LIVE_TICKETS + """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local tickets = live_tickets(raw, tonumber(ARGV[1]))
store(KEYS[1], ARGV[2], tickets)
if #tickets == 0 then return -1 end
return tickets[1].number
"""

# KEYS[1] lock key; ARGV: now, conversation id, ticket → tickets left
RELEASE_SCRIPT = _LUA_LIVE_TICKETS + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local tickets = live_tickets(raw, tonumber(ARGV[1]))
local ticket = tonumber(ARGV[3])
for i, t in ipairs(tickets) do
  if tonumber(t.number) == ticket then table.remove(tickets, i) break end
end
store(KEYS[1], ARGV[2], tickets)
return #tickets
"""


def async_client_kwargs(host: str = "localhost", port: int = 6379, db: int = 1, username: Optional[str] = None,
                        password: Optional[str] = None, use_ssl: bool = False, ssl_certfile: Optional[str] = None,
                        ssl_keyfile: Optional[str] = None, ssl_ca_certs: Optional[str] = None,
                        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, **_: Any) -> Dict[str, Any]:
    """redis.asyncio.Redis arguments for the server RedisLockStore's arguments name."""
    options: Dict[str, Any] = {"host": host, "port": int(port), "db": int(db), "username": username,
                               "password": password, "socket_timeout": socket_timeout}
    if use_ssl:
        options.update(ssl=True, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, ssl_ca_certs=ssl_ca_certs)
    return options


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose lock updates are atomic (Lua, transactions) and whose ``lock()`` is non-blocking."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        """Accept Rasa's endpoint config (custom lock stores get only that) or RedisLockStore's args."""
        if endpoint_config is not None:
            kwargs = {**dict(endpoint_config.kwargs or {}), **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        kwargs.pop("type", None)
        for key in ("port", "db"):
            if key in kwargs and kwargs[key] not in (None, ""):
                kwargs[key] = int(kwargs[key])
        for key in ("password", "username", "key_prefix"):
            if kwargs.get(key) == "":
                kwargs[key] = None
        super().__init__(**kwargs)
        self._async_kwargs = async_client_kwargs(**kwargs)
        self._async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Tuple[Any, Dict[str, Any], asyncio.Lock]]" = (
            weakref.WeakKeyDictionary())

    # ------------------------------------------------------------------ non-blocking lock (Rasa's turns)

    def _client(self) -> Tuple[Any, Dict[str, Any], asyncio.Lock]:
        """The running loop's asyncio Redis client, its registered scripts and its issue lock (made on first use)."""
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop)
        if entry is None:
            import redis.asyncio

            client = redis.asyncio.Redis(**self._async_kwargs)
            scripts = {name: client.register_script(text) for name, text in
                       (("issue", ISSUE_SCRIPT), ("check", CHECK_SCRIPT), ("release", RELEASE_SCRIPT))}
            entry = (client, scripts, asyncio.Lock())
            self._async_clients[loop] = entry
        return entry

    async def _run(self, name: str, conversation_id: str, *args: Any) -> Any:
        """Run one script on the conversation's lock key with the current time."""
        script = self._client()[1][name]
        return await script(keys=[self.key_prefix + conversation_id],
                            args=[repr(time.time()), conversation_id, *args])

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Take a ticket, wait until it is served, yield, and give the ticket back (Rasa's semantics)."""
        issue = asyncio.ensure_future(self._issue(conversation_id, lock_lifetime))
        try:
            ticket, serving = (int(number) for number in await asyncio.shield(issue))
        except asyncio.CancelledError:  # the ticket may still be issued: give it back when it is
            issue.add_done_callback(lambda done: self._release_issued(conversation_id, done))
            raise
        try:
            delay = FIRST_RECHECK_SECONDS
            while serving != ticket:
                logger.debug("Conversation '%s': ticket %d waits for %d.", conversation_id, ticket, serving)
                await asyncio.sleep(min(delay, wait_time_in_seconds))
                delay *= 2
                serving = int(await self._run("check", conversation_id))
                if serving < 0:
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            yield TicketLock(conversation_id, deque([Ticket(ticket, time.time() + lock_lifetime)]))
        finally:
            await self._release(conversation_id, ticket)

    async def _issue(self, conversation_id: str, lock_lifetime: float) -> Any:
        """Issue a ticket; this replica's tickets are issued one at a time, in the order the turns asked."""
        async with self._client()[2]:
            return await self._run("issue", conversation_id, repr(float(lock_lifetime)))

    async def _release(self, conversation_id: str, ticket: int) -> None:
        """Give the ticket back; shielded, so that a cancelled turn still frees the conversation."""
        try:
            await asyncio.shield(self._run("release", conversation_id, str(ticket)))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the ticket then expires after its lifetime
            logger.exception("Could not release ticket %d of conversation '%s'.", ticket, conversation_id)

    def _release_issued(self, conversation_id: str, issue: "asyncio.Future[Any]") -> None:
        """Give back a ticket whose turn was cancelled while the ticket was being issued."""
        if not issue.cancelled() and issue.exception() is None:
            asyncio.ensure_future(self._release(conversation_id, int(issue.result()[0])))

    async def close(self) -> None:
        """Close the running loop's asyncio client (tests, shutdown)."""
        entry = self._async_clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[0].close(close_connection_pool=True)

    # ------------------------------------------------------------------ blocking interface (Rasa's API)

    def _transact(self, conversation_id: str,
                  change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any, bool]]) -> Any:
        """Apply change(lock) → (new lock or None to delete, result, write?) atomically."""
        from redis.exceptions import WatchError

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result, write = change(lock)
                    if not write:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # someone else changed the lock meanwhile: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket in one transaction."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], Any, bool]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime), True

        return self._transact(conversation_id, change)

    def _edit_existing(self, conversation_id: str, edit: Callable[[TicketLock], Optional[TicketLock]]) -> None:
        """Apply edit(lock) → lock to keep, or None to delete it, in one transaction; no lock: nothing to do."""

        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], Any, bool]:
            return (None, None, False) if lock is None else (edit(lock), None, True)

        self._transact(conversation_id, change)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets in one transaction."""

        def edit(lock: TicketLock) -> TicketLock:
            lock.remove_expired_tickets()
            return lock

        self._edit_existing(conversation_id, edit)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove a ticket in one transaction."""

        def edit(lock: TicketLock) -> TicketLock:
            lock.remove_ticket_for(ticket_number)
            return lock

        self._edit_existing(conversation_id, edit)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock when nobody else waits, in one transaction."""

        def edit(lock: TicketLock) -> Optional[TicketLock]:
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._edit_existing(conversation_id, edit)
