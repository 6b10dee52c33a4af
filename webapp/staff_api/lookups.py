"""The KB record a path or parameter names (a measure, topic or region), or a 404/400."""

from __future__ import annotations

import logging

from policies_kb import KnowledgeBase, Measure, normalise_region

from .responses import ApiError

logger = logging.getLogger(__name__)


def find_measure(kb: KnowledgeBase, measure_id: str) -> Measure:
    """The measure with this id, or a 404."""
    measure = kb.get((measure_id or "").strip())
    if measure is None:
        raise ApiError(404, f"未找到条目：{measure_id[:80]}")
    return measure


def resolve_topic(kb: KnowledgeBase, value: str) -> str:
    """A topic id from an id or a label, or a 400."""
    if value in kb.topics:
        return value
    for topic in kb.topics.values():
        if value == topic.label or value == topic.intent:
            return topic.id
    raise ApiError(400, f"未知主题：{value}")


def resolve_region(value: str) -> str:
    """上海, 大同 or 全国 from a region word, or a 400."""
    region = normalise_region(value)
    if region is None:
        raise ApiError(400, f"未知地区：{value}（可选：上海、大同、全国）")
    return region
