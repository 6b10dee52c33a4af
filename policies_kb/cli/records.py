"""A measure as the commands print it: the full JSON record, dates, targets and deadlines as lines."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from ..kb import KnowledgeBase
from ..model import Measure

logger = logging.getLogger(__name__)


def measure_record(kb: KnowledgeBase, measure: Measure) -> Dict[str, Any]:
    """The full JSON record of a measure: its fields plus citation, region and document."""
    doc = kb.document(measure)
    record = measure.to_dict()
    record.update({
        "citation": kb.citation(measure),
        "short_citation": kb.short_citation(measure),
        "region": doc.region,
        "document": doc.title,
        "document_reference": doc.reference,
        "validity_status": kb.validity_status(measure),
        "validity_note": kb.validity_note(measure),
    })
    return record


def cn_date(value: Any) -> str:
    """A date as 2025年12月31日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def targets_lines(measure: Measure) -> List[str]:
    """Figures and targets with their deadlines."""
    out = []
    for target in measure.targets:
        qualifier = target.qualifier
        if qualifier in ("以上", "左右"):
            figure = f"{target.value}{target.unit}{qualifier}"
        else:
            figure = f"{qualifier}{target.value}{target.unit}"
        deadline = f"（期限：{target.deadline_text}，即{cn_date(target.deadline)}）" if target.deadline else ""
        out.append(f"{target.metric}：{figure}{deadline}")
    return out


def deadlines_lines(measure: Measure) -> List[str]:
    """Deadlines and periods with their dates."""
    out = []
    for item in measure.deadlines:
        date = f"（{cn_date(item.date)}）" if item.date else ""
        out.append(f"{item.date_text}{date}　{item.description}；原文：“{item.quote}”")
    return out


# ---- loading ---------------------------------------------------------------------------------
