"""The words for a measure's agencies, platforms and validity: one wording for the chat, the CLI and the staff desk."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .kb import KnowledgeBase
from .model import AgencyRef, Measure, PlatformRef

logger = logging.getLogger(__name__)

# A measure's validity status (KnowledgeBase.validity_status; a document's status uses the same codes).
VALIDITY_LABELS: dict[str, str] = {
    "in_force": "现行",
    "targets_future": "现行（目标期限未到）",
    "targets_past": "目标期限已过",
    "expired": "历史文件",
}
INFERRED_MARK = "推定"  # after one agency the file does not name (CLI: 市知识产权局（推定）)
INFERRED_NOTE = "（文件未列明责任单位，据条文推定）"  # after a list of agencies that are all inferred (chat)


def validity_label(status: str) -> str:
    """The Chinese label of a validity status (the code itself when unknown)."""
    return VALIDITY_LABELS.get(status, status)


def join_names(names: Iterable[str], empty: str = "") -> str:
    """Names each once, in order, joined by 、 (``empty`` when there are none)."""
    return "、".join(dict.fromkeys(names)) or empty


def agency_name(kb: KnowledgeBase, ref: AgencyRef) -> str:
    """The registry's full name of an agency a measure names (as written when it is not registered)."""
    agency = kb.agencies.get(ref.agency_id)
    return agency.name if agency else ref.as_written


def platform_name(kb: KnowledgeBase, ref: PlatformRef) -> str:
    """The registry's name of a platform a measure names (as written when it is not registered)."""
    platform = kb.platforms.get(ref.platform_id)
    return platform.name if platform else ref.as_written


def agency_label(kb: KnowledgeBase, ref: AgencyRef, full_name: bool = True, mark_inferred: bool = False) -> str:
    """An agency as the measure writes it, then in brackets its full name where it differs and 推定 if asked."""
    notes = []
    if full_name and agency_name(kb, ref) != ref.as_written:
        notes.append(agency_name(kb, ref))
    if mark_inferred and ref.inferred:
        notes.append(INFERRED_MARK)
    return ref.as_written + (f"（{'，'.join(notes)}）" if notes else "")


def agencies_text(kb: KnowledgeBase, measure: Measure, full_names: bool = True, mark_each: bool = False,
                  empty: str = "") -> str:
    """The responsible agencies of a measure, joined by 、.

    Inference is marked after each agency (``mark_each``), or else once after the list when every agency
    is inferred.
    """
    text = join_names((agency_label(kb, ref, full_names, mark_each) for ref in measure.agencies), empty)
    if not mark_each and measure.agencies and all(ref.inferred for ref in measure.agencies):
        text += INFERRED_NOTE
    return text


def platforms_text(measure: Measure, empty: str = "") -> str:
    """The platforms and organisations a measure names, as written, joined by 、."""
    return join_names((ref.as_written for ref in measure.platforms), empty)
