"""Reading Rasa's ``events`` table (rasa_stores.events_table) from the SQL tracker store, read-only."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa_stores import events_table

from .days import period_bounds

logger = logging.getLogger(__name__)


class TrackerStoreError(RuntimeError):
    """The tracker store cannot be read (bad URL, database down, unexpected schema)."""


@dataclass(frozen=True)
class EventRow:
    """One row of Rasa's ``events`` table."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None
    data: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text of a user or bot event."""
        return str(self.data.get("text") or "")

    @property
    def response(self) -> str | None:
        """The domain response a bot event came from (metadata utter_action), if any."""
        metadata = self.data.get("metadata")
        return metadata.get("utter_action") if isinstance(metadata, dict) else None

    @property
    def intent(self) -> str | None:
        """The intent of a user event (column first, then the JSON)."""
        if self.intent_name:
            return self.intent_name
        return ((self.data.get("parse_data") or {}).get("intent") or {}).get("name")


_ENGINES: dict[str, Any] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(db_url: str) -> Any | None:
    """A cached SQLAlchemy engine, or None when a SQLite file does not exist (yet)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    try:
        url = make_url(db_url)
    except Exception as exc:  # noqa: BLE001 - any parse problem is a configuration error
        raise TrackerStoreError(f"TRACKER_DB_URL 无效（{type(exc).__name__}）") from None
    is_file_db = url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:")
    if is_file_db and not Path(url.database).exists():
        return None  # reading must not create the database
    with _ENGINES_LOCK:
        engine = _ENGINES.get(db_url)
        if engine is None:
            try:
                engine = sa.create_engine(db_url, pool_pre_ping=True)
            except Exception as exc:  # noqa: BLE001 - missing driver, bad options
                raise TrackerStoreError(f"无法连接数据库（{type(exc).__name__}）") from None
            _ENGINES[db_url] = engine
        return engine


def _events_table(engine: Any) -> Any | None:
    """The ``events`` table (rasa_stores.events_table), or None when Rasa has not created it yet."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table(events_table.TABLE_NAME):
        return None
    return events_table.sqlalchemy_table(sa.MetaData())


def _row(row: Any) -> EventRow:
    """An EventRow from a result row (bad JSON becomes an empty dict)."""
    try:
        data = json.loads(row.data) if row.data else {}
    except (TypeError, ValueError):
        data = {}
    return EventRow(id=row.id, sender_id=row.sender_id, type_name=row.type_name,
                    timestamp=float(row.timestamp or 0.0), intent_name=row.intent_name,
                    action_name=row.action_name, data=data if isinstance(data, dict) else {})


def read_events(db_url: str, since: dt.date | None = None, until: dt.date | None = None,
                sender_id: str | None = None, types: Sequence[str] = ("user", "bot", "action")) -> list[EventRow]:
    """Events of every conversation with a user message in the period (or of one sender), in order."""
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(db_url)
    if engine is None:
        return []
    try:
        table = _events_table(engine)
        if table is None:
            return []
        query = sa.select(table).where(table.c.type_name.in_(list(types)))
        if sender_id is not None:
            query = query.where(table.c.sender_id == sender_id)
        else:
            start, end = period_bounds(since, until)
            senders = sa.select(table.c.sender_id).where(table.c.type_name == "user")
            if start is not None:
                senders = senders.where(table.c.timestamp >= start)
            if end is not None:
                senders = senders.where(table.c.timestamp < end)
            if start is not None or end is not None:
                query = query.where(table.c.sender_id.in_(senders.distinct()))
        query = query.order_by(table.c.sender_id, table.c.id)
        with engine.connect() as conn:
            return [_row(row) for row in conn.execute(query)]
    except SQLAlchemyError as exc:
        logger.warning("tracker store read failed: %s", exc)
        raise TrackerStoreError(f"读取失败（{type(exc).__name__}）") from None
