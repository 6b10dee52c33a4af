"""KB records as the staff API lists them: measures, documents, agencies, platforms, topics and figures."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from policies_kb import KnowledgeBase, Measure
from policies_kb.labels import agency_name, platform_name, validity_label

logger = logging.getLogger(__name__)


def document_info(kb: KnowledgeBase, document_id: str) -> dict[str, Any]:
    """The facts about a document a list needs."""
    doc = kb.documents[document_id]
    return {
        "id": doc.id, "title": doc.title, "short_title": doc.short_title, "doc_number": doc.doc_number,
        "reference": doc.reference, "short_reference": doc.short_reference, "region": doc.region,
        "issuers": list(doc.issuers), "date": doc.date.isoformat(), "validity_status": doc.validity_status,
        "validity_note": doc.validity_note,
    }


def agency_refs(kb: KnowledgeBase, measure: Measure) -> list[dict[str, Any]]:
    """The agencies of a measure, as written and with their full names."""
    return [{"id": ref.agency_id, "name": ref.as_written, "full_name": agency_name(kb, ref), "inferred": ref.inferred}
            for ref in measure.agencies]


def platform_refs(kb: KnowledgeBase, measure: Measure) -> list[dict[str, Any]]:
    """The platforms of a measure, as written and with their registry names."""
    out = []
    for ref in measure.platforms:
        platform = kb.platforms.get(ref.platform_id)
        out.append({"id": ref.platform_id, "name": ref.as_written,
                    "full_name": platform_name(kb, ref),
                    "kind": platform.kind if platform else None,
                    "purpose": platform.purpose if platform else None})
    return out


def topic_refs(kb: KnowledgeBase, measure: Measure) -> list[dict[str, str]]:
    """The topics of a measure with their labels."""
    return [{"id": t, "label": kb.topics[t].label if t in kb.topics else t} for t in measure.topics]


def summary(kb: KnowledgeBase, measure: Measure, today: dt.date, score: float | None = None) -> dict[str, Any]:
    """One measure as a list entry."""
    doc = kb.document(measure)
    status = kb.validity_status(measure, today)
    return {
        "id": measure.id,
        "title": measure.title,
        "citation": kb.citation(measure),
        "short_citation": kb.short_citation(measure),
        "region": doc.region,
        "document": doc.id,
        "document_title": doc.title,
        "doc_number": doc.doc_number,
        "article": measure.article,
        "section_path": list(measure.section_path),
        "agencies": agency_refs(kb, measure),
        "platforms": platform_refs(kb, measure),
        "topics": topic_refs(kb, measure),
        "beneficiaries": list(measure.beneficiaries),
        "validity_status": status,
        "validity_label": validity_label(status),
        "score": score,
    }


def brief(kb: KnowledgeBase, measure: Measure) -> dict[str, Any]:
    """A measure as a link in a related list."""
    return {"id": measure.id, "title": measure.title, "short_citation": kb.short_citation(measure),
            "region": kb.region_of(measure), "document": measure.document_id}


def status_of(date: dt.date | None, today: dt.date) -> str:
    """past, future (a deadline on today is still open) or undated."""
    if date is None:
        return "undated"
    return "past" if date < today else "future"


def group_by_document(kb: KnowledgeBase, measures: Iterable[Measure], today: dt.date) -> list[dict[str, Any]]:
    """Measures grouped by their document, in the KB's document order."""
    groups: dict[str, list[Measure]] = {}
    for measure in measures:
        groups.setdefault(measure.document_id, []).append(measure)
    return [{"document": document_info(kb, doc_id), "count": len(groups[doc_id]),
             "measures": [summary(kb, m, today) for m in groups[doc_id]]}
            for doc_id in kb.documents if doc_id in groups]


def figures_of(kb: KnowledgeBase, measure: Measure, today: dt.date) -> list[dict[str, Any]]:
    """Every target and deadline a measure sets, with its status today."""
    base = {"measure_id": measure.id, "measure_title": measure.title, "citation": kb.citation(measure),
            "short_citation": kb.short_citation(measure), "region": kb.region_of(measure),
            "document": measure.document_id}
    out = []
    for target in measure.targets:
        out.append({**base, "kind": "target", "label": target.metric, "value": target.value, "unit": target.unit,
                    "qualifier": target.qualifier,
                    "deadline": target.deadline.isoformat() if target.deadline else None,
                    "deadline_text": target.deadline_text, "status": status_of(target.deadline, today),
                    "quote": target.quote})
    for deadline in measure.deadlines:
        out.append({**base, "kind": "deadline", "label": deadline.description, "value": None, "unit": None,
                    "qualifier": None, "deadline": deadline.date.isoformat() if deadline.date else None,
                    "deadline_text": deadline.date_text, "status": status_of(deadline.date, today),
                    "quote": deadline.quote})
    return out
