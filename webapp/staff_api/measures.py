"""One measure in full with its related measures, and every target, deadline and period (GET /api/measures, /api/figures)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from policies_kb import KnowledgeBase, Measure

from .lookups import find_measure
from .records import brief, document_info, figures_of, status_of, summary

logger = logging.getLogger(__name__)


def measure_payload(kb: KnowledgeBase, measure_id: str, today: dt.date) -> dict[str, Any]:
    """GET /api/measures/<id>: the full record, figures, validity and related measures."""
    measure = find_measure(kb, measure_id)
    figures = figures_of(kb, measure, today)
    record = measure.to_dict()
    record.update(summary(kb, measure, today))
    record.update({
        "text": measure.text,
        "responsibility_text": measure.responsibility_text,
        "document_info": document_info(kb, measure.document_id),
        "validity_note": kb.validity_note(measure, today),
        "figures": figures,
        "targets": [item for item in figures if item["kind"] == "target"],
        "deadlines": [item for item in figures if item["kind"] == "deadline"],
        "related": related_payload(kb, measure),
        "today": today.isoformat(),
    })
    return record


def related_payload(kb: KnowledgeBase, measure: Measure) -> dict[str, list[dict[str, Any]]]:
    """Other measures naming the same agency or platform, grouped by that agency or platform."""
    agencies, seen = [], set()
    for ref in measure.agencies:
        if ref.agency_id in seen or ref.agency_id not in kb.agencies:
            continue
        seen.add(ref.agency_id)
        others = [brief(kb, m) for m in kb.measures_naming_agency(ref.agency_id) if m.id != measure.id]
        agencies.append({"id": ref.agency_id, "name": kb.agencies[ref.agency_id].name, "as_written": ref.as_written,
                         "inferred": ref.inferred, "count": len(others), "measures": others})
    platforms, seen = [], set()
    for ref in measure.platforms:
        if ref.platform_id in seen or ref.platform_id not in kb.platforms:
            continue
        seen.add(ref.platform_id)
        others = [brief(kb, m) for m in kb.measures_naming_platform(ref.platform_id) if m.id != measure.id]
        platforms.append({"id": ref.platform_id, "name": kb.platforms[ref.platform_id].name,
                          "as_written": ref.as_written, "count": len(others), "measures": others})
    return {"agencies": agencies, "platforms": platforms}


def figures_payload(kb: KnowledgeBase, today: dt.date, region: str | None = None) -> dict[str, Any]:
    """GET /api/figures: every target, deadline and document period with its status today."""
    items: list[dict[str, Any]] = []
    for measure in kb.measures:
        if region and kb.region_of(measure) != region:
            continue
        items.extend(figures_of(kb, measure, today))
    periods = []
    for doc in kb.documents.values():
        if region and doc.region != region:
            continue
        for period in doc.periods:
            periods.append({"kind": "period", "document": doc.id, "citation": doc.reference,
                            "short_citation": doc.short_reference, "region": doc.region, "label": period.label,
                            "start": period.start.isoformat() if period.start else None,
                            "deadline": period.end.isoformat(), "status": status_of(period.end, today),
                            "quote": period.quote})
    counts: dict[str, int] = {"past": 0, "future": 0, "undated": 0}
    for item in items:
        counts[item["status"]] += 1
    return {"today": today.isoformat(), "total": len(items), "counts": counts, "figures": items,
            "periods": periods}
