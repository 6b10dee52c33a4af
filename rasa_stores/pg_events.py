"""A turn's two PostgreSQL statements without blocking the Rasa server (asyncpg).

Rasa 3.6's SQLTrackerStore talks to PostgreSQL through SQLAlchemy and psycopg2, which block: while a
replica waits for the database to read a conversation or to store a turn, its event loop, and so every
other conversation of that replica, stands still (with two replicas, PostgreSQL and Redis sharing two
cores, about a fifth of a replica's time went to such waits; py-spy, docs/bench.md).
``PostgresEvents`` sends the two statements of a turn, the read of the current session and the
INSERT of the new events, with asyncpg instead:

- the replica serves other conversations while PostgreSQL works;
- each statement is prepared once per connection (asyncpg's statement cache), so PostgreSQL does not
  parse and plan it again on every turn;
- the INSERT is one statement whatever the number of events (``unnest`` of one array per column, in
  the events' order, so their ids keep that order), and so atomic, in one round trip;
- connections are kept per event loop (at most ``max_connections`` in use at once) and not tested
  before use; a statement that fails because its connection is gone (PostgreSQL restarted, the
  network dropped it) is sent again on a new connection, up to ``RETRY_DELAYS`` later. A read is
  harmless to repeat; an INSERT is repeated only when it cannot have taken effect: it was never
  sent, or PostgreSQL ended the session before it could run (``was_not_run``), which is what a
  kept connection meets after a restart. A connection that broke mid-INSERT is not guessed about:
  the error goes to Rasa, which logs it (the turn is answered, not stored), never stored twice.

The table is Rasa's ``events`` table (rasa_stores.events_table), created by SQLTrackerStore; this
module only reads and appends rows.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, List, Optional, Sequence, Tuple, TypeVar

import asyncpg

from rasa_stores.events_table import postgres_types

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_DELAYS: Tuple[float, ...] = (0.0, 0.1, 0.3, 0.6)  # seconds before each further attempt
CONNECT_TIMEOUT = 10.0  # seconds (asyncpg's default is 60)
# A connection that is gone: PostgreSQL closed it (restart: 57P01), refused it while starting (57P03),
# it broke (class 08), or asyncpg found it closed.
CONNECTION_ERRORS = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                     asyncpg.InterfaceError, OSError, asyncio.TimeoutError)


def insert_statement(table: str, columns: Sequence[str], quote: Callable[[str], str]) -> str:
    """One INSERT of any number of rows: one array parameter per column, rows kept in array order."""
    names = ", ".join(quote(column) for column in columns)
    arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(postgres_types(columns), start=1))
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    return (f"INSERT INTO {quote(table)} ({names}) SELECT {aliases} "
            f"FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, n) ORDER BY n")


def was_not_run(error: BaseException) -> bool:
    """True when PostgreSQL ended the session before the statement could take effect.

    A server shutting down or crashing (SQLSTATE 57P01, 57P02) ends each session with this error and
    rolls back what it was doing; a statement that completed was answered before it. When the
    connection merely broke (class 08, a socket error, a time-out), the statement may have run.
    """
    return isinstance(error, asyncpg.exceptions.OperatorInterventionError)


class _LoopConnections:
    """The idle connections of one event loop and a limit on those in use."""

    def __init__(self, limit: int) -> None:
        """No connection yet; at most ``limit`` in use."""
        self.idle: List[asyncpg.Connection] = []
        self.slots = asyncio.Semaphore(limit)


class PostgresEvents:
    """The current-session read and the multi-row INSERT of Rasa's events table, over asyncpg."""

    def __init__(self, dsn: str, read_sql: str, insert_sql: str, max_connections: int = 8) -> None:
        """``read_sql`` takes $1 sender id and $2 the session-start event name; ``insert_sql`` one array per column."""
        self.dsn = dsn
        self.read_sql = read_sql
        self.insert_sql = insert_sql
        self.max_connections = max_connections
        self._loops: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections]" = (
            weakref.WeakKeyDictionary())

    def _connections(self) -> _LoopConnections:
        """The running loop's connections (asyncpg connections belong to the loop that made them)."""
        loop = asyncio.get_running_loop()
        connections = self._loops.get(loop)
        if connections is None:
            connections = self._loops[loop] = _LoopConnections(self.max_connections)
        return connections

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """An open connection of this loop: a kept one, else a new one; kept again after clean use."""
        connections = self._connections()
        async with connections.slots:
            connection: Optional[asyncpg.Connection] = None
            while connections.idle and connection is None:
                candidate = connections.idle.pop()
                if not candidate.is_closed():
                    connection = candidate
            if connection is None:
                connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT)
            try:
                yield connection
            except BaseException:
                connection.terminate()  # its state is unknown (e.g. a statement cut off): not reused
                raise
            if not connection.is_closed():
                connections.idle.append(connection)

    async def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]], what: str,
                   repeatable: bool) -> T:
        """Run ``work`` on a connection; again on a new one while the connection turns out to be gone."""
        for attempt, delay in enumerate(RETRY_DELAYS):
            if delay:
                await asyncio.sleep(delay)
            sent = False
            try:
                async with self._connection() as connection:
                    sent = True
                    return await work(connection)
            except CONNECTION_ERRORS as error:
                if attempt == len(RETRY_DELAYS) - 1 or not (repeatable or not sent or was_not_run(error)):
                    raise
                logger.warning("PostgreSQL %s failed (%s: %s); trying again on a new connection.",
                               what, type(error).__name__, error)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def read(self, sender_id: str, session_started: str) -> List[str]:
        """The ``data`` of the conversation's current-session events, in stored order."""
        async def fetch(connection: asyncpg.Connection) -> List[str]:
            return [record[0] for record in await connection.fetch(self.read_sql, sender_id, session_started)]

        return await self._run(fetch, "read", repeatable=True)

    async def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append rows (values of WRITTEN_COLUMNS, in that order) in one statement."""
        if not rows:
            return
        columns = [list(column) for column in zip(*rows)]

        async def execute(connection: asyncpg.Connection) -> None:
            await connection.execute(self.insert_sql, *columns)

        await self._run(execute, "insert", repeatable=False)

    async def warm_up(self, session_started: str) -> None:
        """Open a connection and prepare both statements, in a transaction that is rolled back."""
        async with self._connection() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                await connection.fetch(self.read_sql, "warm-up", session_started)
                await connection.execute(self.insert_sql, ["warm-up"], ["action"], [0.0], [None],
                                         ["action_listen"], ["{}"])
            finally:
                await transaction.rollback()

    async def close(self) -> None:
        """Close the running loop's kept connections."""
        connections = self._loops.pop(asyncio.get_running_loop(), None)
        for connection in connections.idle if connections else ():
            await connection.close(timeout=5)
