"""The tracker store used by both set-ups: Rasa's SQLTrackerStore with a cheaper turn.

``rasa_stores.tracker_store.ResilientSQLTrackerStore`` (endpoints.yml with SQLite, endpoints.prod.yml
with PostgreSQL) stores exactly the rows Rasa's ``SQLTrackerStore`` stores, in the same table (rasa_stores.events_table),
so the staff report, ``rasa export`` and a later switch back to the stock store all keep working. It
differs in how it talks to the database:

- PostgreSQL: a turn's read and INSERT go through asyncpg (``rasa_stores.pg_events``), so the replica
  serves other conversations while the database works, and a statement whose kept connection died
  (PostgreSQL restarted) is sent again on a new one. Everything else (creating the table, counting,
  ``retrieve_full_tracker``, ``keys``) stays on SQLAlchemy, whose pool tests connections before use
  (``pool_pre_ping``). The stock store keeps dead connections after a PostgreSQL restart; its next
  ``retrieve`` fails, Rasa's ``FailSafeTrackerStore`` answers with an empty tracker (the context is
  gone for that turn) and the turn is not saved.
- SQLite: SQLAlchemy 1.4 opens a new SQLite connection for every session of a file database
  (``NullPool``), and every commit waits for an fsync in rollback-journal mode. The store keeps a
  small pool of connections and uses write-ahead logging with ``synchronous=NORMAL`` (a commit is
  durable against a crash of the process; a power cut may lose the last turns, never corrupt the file).
- Both: Rasa's ``save`` first counts the conversation's stored events to know which are new. A turn
  always reads the tracker under the conversation's lock before it saves it, so the store
  remembers how many of the tracker's events are stored: the number the read returned, then the
  tracker's length after each save (a new conversation's tracker is saved twice in its first turn:
  once when Rasa creates it, once at the end of the turn). A save without a read before it in this
  process (or more than ``COUNT_TTL`` seconds after it) counts as Rasa does.
- Both: the read of the current session is one SQL statement (the same query Rasa's ORM builds) and
  new events are written with one multi-row INSERT instead of one ORM object each. On SQLite both
  are compiled once for the database driver (``DriverStatements``) and sent on a pooled connection,
  without an ORM session and without SQLAlchemy working out a cache key for them on every turn.
  Reads of all sessions (``retrieve_full_tracker``) are Rasa's own.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from rasa_stores.events_table import WRITTEN_COLUMNS
from rasa_stores.pg_events import PostgresEvents, insert_statement

logger = logging.getLogger(__name__)

COUNT_TTL = 60.0  # seconds a remembered event count stays usable (Rasa's lock lifetime)
MAX_REMEMBERED = 10_000  # conversations whose count is remembered at once
INSERT_CHUNK = 100  # rows per INSERT (6 parameters each: under SQLite's oldest limit of 999)
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")


def is_sqlite_file(url: sa.engine.URL) -> bool:
    """True for a SQLite database stored in a file (not ``:memory:``)."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def engine_options(url: sa.engine.URL) -> Dict[str, Any]:
    """``create_engine`` options: a kept pool for SQLite files, pre-ping for server databases."""
    if is_sqlite_file(url):
        # one connection per concurrent session; Rasa calls the store from its event-loop thread
        return {"poolclass": QueuePool, "pool_size": 2, "max_overflow": 8,
                "connect_args": {"check_same_thread": False}}
    return {"pool_pre_ping": True, **create_engine_kwargs(url)}


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead log, no fsync per commit, wait for a busy database instead of failing."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def session_events_statement(dialect: Any, table: str) -> sa.sql.elements.TextClause:
    """SQL of SQLTrackerStore._event_query for the current session: the events since the latest
    session start (all of them before the first one), in stored order."""
    quote = dialect.identifier_preparer.quote
    events, ts = quote(table), quote("timestamp")
    started = (f"(SELECT max({ts}) FROM {events} WHERE sender_id = :sender_id AND type_name = :started)")
    return sa.text(f"SELECT data FROM {events} WHERE sender_id = :sender_id "
                   f"AND ({ts} >= {started} OR {started} IS NULL) ORDER BY id")


class DriverStatements:
    """The session read and the multi-row INSERT, compiled once into the driver's own SQL and parameters."""

    def __init__(self, dialect: Any, read: sa.sql.elements.TextClause, table: sa.Table) -> None:
        """Compile the read now; INSERTs per number of rows, when first needed."""
        self.dialect = dialect
        self.table = table
        self.read_sql, self._read_order = self._compile(read)
        self._inserts: Dict[int, Tuple[str, Optional[Sequence[str]]]] = {}

    def _compile(self, statement: Any) -> Tuple[str, Optional[Sequence[str]]]:
        """SQL text for the driver, and the parameter order when the driver's parameters are positional."""
        compiled = statement.compile(dialect=self.dialect)
        return str(compiled), (list(compiled.positiontup) if self.dialect.positional else None)

    @staticmethod
    def _parameters(values: Dict[str, Any], order: Optional[Sequence[str]]) -> Any:
        """Named parameters as the driver takes them: a tuple in statement order, or the dictionary."""
        return tuple(values[name] for name in order) if order is not None else values

    def read(self, sender_id: str, started: str) -> Tuple[str, Any]:
        """SQL and parameters of the current-session read."""
        return self.read_sql, self._parameters({"sender_id": sender_id, "started": started}, self._read_order)

    def insert(self, rows: List[Dict[str, Any]]) -> Tuple[str, Any]:
        """SQL and parameters of one INSERT of these rows (at most INSERT_CHUNK)."""
        count = len(rows)
        if count not in self._inserts:
            values = [{column: sa.bindparam(f"{column}_{i}") for column in WRITTEN_COLUMNS} for i in range(count)]
            self._inserts[count] = self._compile(self.table.insert().values(values))
        sql, order = self._inserts[count]
        named = {f"{column}_{i}": row[column] for i, row in enumerate(rows) for column in WRITTEN_COLUMNS}
        return sql, self._parameters(named, order)


def postgres_events(url: sa.engine.URL, dialect: Any, table: str) -> PostgresEvents:
    """The asyncpg statements of a PostgreSQL tracker store: the session read and the INSERT."""
    read = session_events_statement(dialect, table).text
    read = read.replace(":sender_id", "$1").replace(":started", "$2")
    insert = insert_statement(table, WRITTEN_COLUMNS, dialect.identifier_preparer.quote)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresEvents(dsn, read, insert)


def event_row(sender_id: str, event: Any) -> Dict[str, Any]:
    """The row SQLTrackerStore.save writes for one event."""
    data = event.as_dict()
    return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data)}


class ResilientSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with pre-pinged server connections, tuned SQLite and no count query per save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store as Rasa does, then rebuild its engine with the options above."""
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, **engine_options(url))
        if is_sqlite_file(url):
            sa.event.listen(self.engine, "connect", _set_sqlite_pragmas)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self._stored_counts: "OrderedDict[str, Tuple[int, float]]" = OrderedDict()
        table = self.SQLEvent.__table__
        self._statements = DriverStatements(self.engine.dialect,
                                            session_events_statement(self.engine.dialect, table.name), table)
        self._async_events: Optional[PostgresEvents] = (
            postgres_events(url, self.engine.dialect, table.name) if url.get_backend_name() == "postgresql" else None)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        """The conversation's current session (prepared query) or all of it (Rasa's); remembers the count."""
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if self._async_events is not None:
            rows = [(data,) for data in await self._async_events.read(sender_id, SessionStarted.type_name)]
        else:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql(*self._statements.read(sender_id, SessionStarted.type_name)).fetchall()
        if not rows:
            self._remember_count(sender_id, 0)
            return None
        if not self.domain:
            return None
        self._remember_count(sender_id, len(rows))
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for (data,) in rows], self.domain.slots)

    def warm_up(self) -> None:
        """Run the read and a one-row INSERT in a transaction that is rolled back (nothing is stored)."""
        row = {"sender_id": "warm-up", "type_name": "action", "timestamp": 0.0, "intent_name": None,
               "action_name": "action_listen", "data": "{}"}
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.exec_driver_sql(*self._statements.read("warm-up", SessionStarted.type_name)).fetchall()
                connection.exec_driver_sql(*self._statements.insert([row]))
            finally:
                transaction.rollback()

    async def warm_up_async(self) -> None:
        """``warm_up``, and on PostgreSQL the asyncpg connection and its prepared statements too."""
        self.warm_up()
        if self._async_events is not None:
            await self._async_events.warm_up(SessionStarted.type_name)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events Rasa would store (same columns), in one INSERT per INSERT_CHUNK events."""
        await self.stream_events(tracker)
        rows = [event_row(tracker.sender_id, event) for event in self._additional_events(tracker)]
        if rows and self._async_events is not None:
            await self._async_events.insert([tuple(row[column] for column in WRITTEN_COLUMNS) for row in rows])
        elif rows:
            with self.engine.begin() as connection:
                for start in range(0, len(rows), INSERT_CHUNK):
                    connection.exec_driver_sql(*self._statements.insert(rows[start:start + INSERT_CHUNK]))
        self._remember_count(tracker.sender_id, len(tracker.events))  # all of them are stored now

    def _additional_events(self, tracker: DialogueStateTracker) -> Iterator:
        """The events not stored yet: from the count of this turn's read, else counted as Rasa does."""
        stored = self._take_count(tracker.sender_id)
        if stored is None or stored > len(tracker.events):
            with self.session_scope() as session:  # Rasa's own count, in its ORM session
                return super()._additional_events(session, tracker)  # counts now, returns the new events
        return itertools.islice(tracker.events, stored, len(tracker.events))

    def _remember_count(self, sender_id: str, count: int) -> None:
        """Keep the number of stored session events of one conversation (bounded, newest last)."""
        self._stored_counts[sender_id] = (count, time.monotonic())
        self._stored_counts.move_to_end(sender_id)
        while len(self._stored_counts) > MAX_REMEMBERED:
            self._stored_counts.popitem(last=False)

    def _take_count(self, sender_id: str) -> Optional[int]:
        """The remembered count (the save remembers the next); None when there is none or it is older than COUNT_TTL."""
        entry = self._stored_counts.pop(sender_id, None)
        if entry is None or time.monotonic() - entry[1] > COUNT_TTL:
            return None
        return entry[0]
