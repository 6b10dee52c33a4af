"""GET /api/search: measures ranked by the KB's search, or filtered, with the staff desk's filters."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from policies_kb import KnowledgeBase, Measure
from policies_kb.labels import VALIDITY_LABELS

from .lookups import resolve_region, resolve_topic
from .params import DEFAULT_SEARCH_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, int_param, text_param
from .records import summary
from .responses import ApiError

logger = logging.getLogger(__name__)

# The validity filter's three choices on the page and the statuses each stands for; a status code is accepted too.
VALIDITY_CHOICES: dict[str, set[str]] = {
    VALIDITY_LABELS["in_force"]: {"in_force", "targets_future"},
    VALIDITY_LABELS["targets_past"]: {"targets_past"},
    VALIDITY_LABELS["expired"]: {"expired"},
}
VALIDITY_FILTERS: dict[str, set[str]] = {**VALIDITY_CHOICES, **{status: {status} for status in VALIDITY_LABELS}}


def search_payload(kb: KnowledgeBase, args: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """GET /api/search: ranked by kb.search when q is given, else kb.filter."""
    query = text_param(args, "q", MAX_QUERY_CHARS)
    region = text_param(args, "region")
    topic = text_param(args, "topic")
    agency = text_param(args, "agency")
    platform = text_param(args, "platform")
    beneficiary = text_param(args, "beneficiary")
    validity = text_param(args, "validity")
    limit = int_param(args, "limit", DEFAULT_SEARCH_LIMIT if query else MAX_LIMIT, 1, MAX_LIMIT)

    region_id = resolve_region(region) if region else None
    topic_id = resolve_topic(kb, topic) if topic else None
    agency_rec = kb.resolve_agency(agency) if agency else None
    if agency and agency_rec is None:
        raise ApiError(400, f"未找到单位：{agency}")
    platform_rec = kb.resolve_platform(platform) if platform else None
    if platform and platform_rec is None:
        raise ApiError(400, f"未找到平台：{platform}")
    allowed_status = None
    if validity:
        if validity not in VALIDITY_FILTERS:
            raise ApiError(400, f"未知有效性：{validity}（可选：{'、'.join(VALIDITY_CHOICES)}）")
        allowed_status = VALIDITY_FILTERS[validity]

    def keep(measure: Measure) -> bool:
        if beneficiary and not any(beneficiary in b or b in beneficiary for b in measure.beneficiaries):
            return False
        return allowed_status is None or kb.validity_status(measure, today) in allowed_status

    agency_id = agency_rec.id if agency_rec else None
    platform_id = platform_rec.id if platform_rec else None
    if query:
        hits = kb.search(kb.normalise(query), region=region_id, topic=topic_id, agency=agency_id, platform=platform_id,
                         limit=len(kb.measures))
        ranked = [(hit.measure, hit.score) for hit in hits if keep(hit.measure)]
    else:
        ranked = [(m, None) for m in kb.filter(region=region_id, topic=topic_id, agency=agency_id,
                                               platform=platform_id) if keep(m)]
    return {
        "query": query,
        "mode": "search" if query else "filter",
        "filters": {"region": region_id, "topic": topic_id, "agency": agency_id, "platform": platform_id,
                    "beneficiary": beneficiary, "validity": validity},
        "today": today.isoformat(),
        "total": len(ranked),
        "results": [summary(kb, m, today, score) for m, score in ranked[:limit]],
    }
