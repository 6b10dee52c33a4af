"""Warm the Rasa server up at start-up, so that the first user's answer is as fast as the next ones.

The first message after ``rasa run`` used to take about twice as long as the following ones:
TensorFlow builds DIET's prediction function on its first call, jieba and the featurisers fill their
caches, the policies and SQLAlchemy compile their queries, the first action call sets up its
client. ``warm_up(agent)`` does that work once, before users come, without storing anything: it
runs whole turns (NLU, policies, the action server, the responses) for a few messages of different
lengths on a copy of Rasa's message processor that keeps its tracker in memory, and runs the real
tracker store's read and INSERT in a transaction that is rolled back (rasa_stores.tracker_store; on PostgreSQL
this also opens the asyncpg connection and prepares both statements).
It is started by the readiness channel (rasa_runtime/readiness.py) after the server has started;
it installs nothing.
Afterwards it collects the garbage that loading left behind (Rasa 3.6 loads a DIET model by fitting
it on one example before it reads the trained weights; TensorFlow's objects of that run form
reference cycles) and hands the freed heap back to the system (glibc's ``malloc_trim``): the server
goes from about 1.20 to 1.10 GiB resident.
"""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import gc
import logging
import time
import uuid
from typing import Any, Sequence

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore

logger = logging.getLogger(__name__)

WARM_UP_TEXTS: Sequence[str] = (
    "你好",
    "专利质押融资有贴息吗？",
    "我们是上海一家做传感器的小公司，手里有十几件发明专利，想问问能不能拿去银行做质押贷款，找哪个部门？",
)


async def warm_up(agent: Any, texts: Sequence[str] = WARM_UP_TEXTS) -> float:
    """Run one turn per text, warm the store, free memory; returns the seconds (0: no model)."""
    if agent is None or not agent.is_ready():
        return 0.0
    started = time.perf_counter()
    for text in texts:
        await warm_turn(agent, text)
    store = agent.tracker_store
    while store is not None and not hasattr(store, "warm_up_async"):
        store = getattr(store, "_tracker_store", None)  # Rasa wraps the configured store
    if store is not None:
        await store.warm_up_async()  # rasa_stores.tracker_store: its read and INSERT, rolled back
    gc.collect()
    trimmed = release_free_memory()
    seconds = time.perf_counter() - started
    logger.info("Warm-up done in %.2f s (%d turns run, nothing stored; free memory %s).",
                seconds, len(texts), "returned to the system" if trimmed else "kept (no glibc)")
    return seconds


async def warm_turn(agent: Any, text: str) -> int:
    """One whole turn on a copy of the processor whose tracker lives in memory; returns the messages."""
    processor = copy.copy(agent.processor)
    processor.tracker_store = InMemoryTrackerStore(processor.domain)
    output = CollectingOutputChannel()
    await processor.handle_message(UserMessage(text, output, sender_id=f"warm-up-{uuid.uuid4().hex}"))
    return len(output.messages)


def release_free_memory() -> bool:
    """Return freed heap memory to the system (glibc only); True when it was called."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        return False
    if trim is None:
        return False
    trim(0)
    return True
