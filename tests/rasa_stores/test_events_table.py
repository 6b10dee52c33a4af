"""rasa_stores.events_table: the one description of Rasa's ``events`` table matches Rasa's own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from rasa_stores import events_table


def test_columns_names_and_types_are_rasas() -> None:
    """Name, order, SQL type and length of every column as SQLTrackerStore.SQLEvent declares them."""
    rasa_table = SQLTrackerStore.SQLEvent.__table__
    ours = events_table.sqlalchemy_table(sa.MetaData())
    assert events_table.TABLE_NAME == rasa_table.name == ours.name
    assert [c.name for c in ours.columns] == [c.name for c in rasa_table.columns]
    for mine, theirs in zip(ours.columns, rasa_table.columns):
        assert type(mine.type) is type(theirs.type), mine.name
        assert getattr(mine.type, "length", None) == getattr(theirs.type, "length", None), mine.name
        assert mine.primary_key == theirs.primary_key, mine.name


def test_written_columns_are_the_rows_rasa_saves() -> None:
    """SQLTrackerStore.save fills every column but the generated id."""
    assert events_table.WRITTEN_COLUMNS == ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    assert events_table.postgres_types() == ("varchar", "varchar", "float8", "varchar", "varchar", "text")
    assert events_table.SENDER_ID_LENGTH == SQLTrackerStore.SQLEvent.__table__.c.sender_id.type.length


def test_select_sql_reads_a_store_rasa_created(tmp_path: Path) -> None:
    """The plain SELECT runs on a table Rasa created, in stored order; unknown columns are refused."""
    db = tmp_path / "rasa.db"
    SQLTrackerStore(dialect="sqlite", db=str(db))
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO events (sender_id, type_name, data) VALUES ('a', 'user', '{}'), ('b', 'bot', '{}')")
        rows = conn.execute(events_table.select_sql(("sender_id", "type_name"))).fetchall()
    assert rows == [("a", "user"), ("b", "bot")]
    with pytest.raises(KeyError):
        events_table.select_sql(("sender_id", "no_such_column"))
