"""The registries as the staff desk browses them: agencies, platforms, topics and beneficiary groups."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from policies_kb import KnowledgeBase

from .params import MAX_PARAM_CHARS
from .records import group_by_document
from .responses import ApiError

logger = logging.getLogger(__name__)


def agencies_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/agencies: every agency with how many measures name it."""
    items = []
    for agency in kb.agencies.values():
        items.append({"id": agency.id, "name": agency.name, "region": agency.region, "aliases": list(agency.aliases),
                      "user_aliases": list(agency.user_aliases),
                      "measure_count": len(kb.measures_naming_agency(agency.id))})
    return {"total": len(items), "agencies": items}


def agency_payload(kb: KnowledgeBase, key: str, today: dt.date) -> dict[str, Any]:
    """GET /api/agencies/<id or name>: every measure naming it, grouped by document."""
    key = (key or "").strip()
    if not key or len(key) > MAX_PARAM_CHARS:
        raise ApiError(404, "未找到该单位")
    agency = kb.agencies.get(key) or kb.resolve_agency(key)
    if agency is None:
        raise ApiError(404, f"未找到单位：{key}")
    measures = kb.measures_naming_agency(agency.id)
    return {"agency": {"id": agency.id, "name": agency.name, "region": agency.region,
                       "aliases": list(agency.aliases), "user_aliases": list(agency.user_aliases)},
            "query": key, "total": len(measures), "groups": group_by_document(kb, measures, today)}


def platforms_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/platforms: every platform with how many measures name it."""
    items = []
    for platform in kb.platforms.values():
        items.append({"id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
                      "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
                      "purpose": platform.purpose,
                      "measure_count": len(kb.measures_naming_platform(platform.id))})
    return {"total": len(items), "platforms": items}


def platform_payload(kb: KnowledgeBase, key: str, today: dt.date) -> dict[str, Any]:
    """GET /api/platforms/<id or name>: every measure naming it, grouped by document."""
    key = (key or "").strip()
    if not key or len(key) > MAX_PARAM_CHARS:
        raise ApiError(404, "未找到该平台")
    platform = kb.platforms.get(key) or kb.resolve_platform(key)
    if platform is None:
        raise ApiError(404, f"未找到平台：{key}")
    measures = kb.measures_naming_platform(platform.id)
    return {"platform": {"id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
                         "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
                         "purpose": platform.purpose},
            "query": key, "total": len(measures), "groups": group_by_document(kb, measures, today)}


def topics_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/topics: the controlled topic list with measure counts."""
    items = [{"id": t.id, "label": t.label, "intent": t.intent,
              "measure_count": sum(1 for m in kb.measures if t.id in m.topics)} for t in kb.topics.values()]
    return {"total": len(items), "topics": items}


def beneficiaries_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/beneficiaries: the beneficiary groups the measures name, most frequent first."""
    counts: dict[str, int] = {}
    for measure in kb.measures:
        for name in measure.beneficiaries:
            counts[name] = counts.get(name, 0) + 1
    items = [{"name": name, "measure_count": count} for name, count in sorted(counts.items(), key=lambda kv: -kv[1])]
    return {"total": len(items), "beneficiaries": items}
