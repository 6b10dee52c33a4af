"""rasa_runtime.warmup: the warm-up stores no conversation and hands memory back; the stack runs the tuned store."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from rasa_runtime.warmup import release_free_memory, warm_up
from devstack.local import Stack


def test_warm_up_without_a_model_does_nothing() -> None:
    """No agent (model not loaded yet): nothing to warm, no error."""
    assert asyncio.run(warm_up(None)) == 0.0


def test_free_memory_is_returned_on_glibc() -> None:
    """This machine's libc has malloc_trim; the call succeeds."""
    assert release_free_memory() is True


@pytest.mark.stack
def test_server_warms_up_and_stores_nothing_for_it(stack: Stack) -> None:
    """The Rasa log reports the warm-up; the tracker database holds no warm-up conversation."""
    assert "Warm-up done" in stack.log("rasa")
    assert "free memory returned to the system" in stack.log("rasa")
    with sqlite3.connect(stack.tracker_db) as conn:
        senders = [row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert not [s for s in senders if s.startswith("warm-up-")]
    assert mode == "wal"  # the stack runs endpoints.yml's store (rasa_stores.tracker_store)
