"""Rasa 3.6's ``events`` table: the one description the project reads and writes it by.

Rasa's ``SQLTrackerStore`` creates the table (``SQLTrackerStore.SQLEvent``) and stores one row per
event. The project's tracker store writes the same rows (rasa_stores.tracker_store, and over asyncpg
rasa_stores.pg_events), the staff report reads them (webapp.report) and so does the evaluation
(evaluation.run_eval). All of them take the table's name, columns and types from here;
tests/rasa_stores/test_events_table.py checks this description against Rasa's own class.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

TABLE_NAME = "events"
NAME_LENGTH = 255  # VARCHAR(255): sender_id, type_name, intent_name, action_name


@dataclass(frozen=True)
class EventColumn:
    """One column of the table: its name, SQL kind and, for strings, its length."""

    name: str
    kind: str  # "integer", "string", "float" or "text"
    length: Optional[int] = None
    primary_key: bool = False


COLUMNS: Tuple[EventColumn, ...] = (
    EventColumn("id", "integer", primary_key=True),
    EventColumn("sender_id", "string", NAME_LENGTH),
    EventColumn("type_name", "string", NAME_LENGTH),
    EventColumn("timestamp", "float"),
    EventColumn("intent_name", "string", NAME_LENGTH),
    EventColumn("action_name", "string", NAME_LENGTH),
    EventColumn("data", "text"),
)
# the columns SQLTrackerStore.save writes for each event, in this order (the id is generated)
WRITTEN_COLUMNS: Tuple[str, ...] = tuple(column.name for column in COLUMNS if not column.primary_key)
SENDER_ID_LENGTH = NAME_LENGTH  # the longest conversation id the table can keep

_POSTGRES_TYPES = {"integer": "int4", "string": "varchar", "float": "float8", "text": "text"}


def column(name: str) -> EventColumn:
    """The column of that name (KeyError for a column the table does not have)."""
    for candidate in COLUMNS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def postgres_types(names: Sequence[str] = WRITTEN_COLUMNS) -> Tuple[str, ...]:
    """PostgreSQL type names of these columns, in the same order."""
    return tuple(_POSTGRES_TYPES[column(name).kind] for name in names)


def select_sql(names: Sequence[str]) -> str:
    """``SELECT <names> FROM events ORDER BY id``: every row in stored order (plain SQL, any database)."""
    for name in names:
        column(name)  # only columns the table has
    return f"SELECT {', '.join(names)} FROM {TABLE_NAME} ORDER BY id"


def _sqlalchemy_type(spec: EventColumn) -> Any:
    """The SQLAlchemy type of one column."""
    import sqlalchemy as sa

    if spec.kind == "string":
        return sa.String(spec.length)
    return {"integer": sa.Integer, "float": sa.Float, "text": sa.Text}[spec.kind]


def sqlalchemy_table(metadata: Any) -> Any:
    """The table as a ``sqlalchemy.Table`` in ``metadata`` (for reading; Rasa creates it)."""
    import sqlalchemy as sa

    return sa.Table(TABLE_NAME, metadata, *[sa.Column(spec.name, _sqlalchemy_type(spec), primary_key=spec.primary_key)
                                            for spec in COLUMNS])
