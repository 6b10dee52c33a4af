"""Plain data records of the knowledge base: documents, measures, agencies and platforms."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

REGIONS = ("上海", "大同", "全国")


@dataclass(frozen=True)
class Period:
    """A dated window a document sets (an application deadline, a pilot period)."""

    label: str
    end: dt.date
    quote: str
    start: Optional[dt.date] = None


@dataclass(frozen=True)
class Document:
    """One of the four source documents."""

    id: str
    source: str
    title: str
    short_title: str
    doc_number: Optional[str]
    implements: Optional[str]
    issuers: Tuple[str, ...]
    date: dt.date
    region: str
    validity_status: str
    validity_note: str
    periods: Tuple[Period, ...] = ()

    @property
    def reference(self) -> str:
        """How a civil servant cites the document: its 文号, else its issuers and date."""
        if self.doc_number:
            return f"《{self.title}》（{self.doc_number}）"
        issued = f"{self.date.year}年{self.date.month}月{self.date.day}日"
        return f"{'、'.join(self.issuers)}《{self.title}》（{issued}）"

    @property
    def short_reference(self) -> str:
        """A compact reference: the 文号, else the first issuer and the date."""
        if self.doc_number:
            return self.doc_number
        issued = f"{self.date.year}年{self.date.month}月{self.date.day}日"
        return f"{'、'.join(self.issuers)}（{issued}印发）"


@dataclass(frozen=True)
class AgencyRef:
    """An agency named by (or inferred for) a measure."""

    agency_id: str
    as_written: str
    inferred: bool


@dataclass(frozen=True)
class PlatformRef:
    """A platform or organisation named by a measure."""

    platform_id: str
    as_written: str


@dataclass(frozen=True)
class Target:
    """A quantitative target with its deadline."""

    metric: str
    value: str
    unit: str
    qualifier: str
    deadline: Optional[dt.date]
    deadline_text: str
    quote: str


@dataclass(frozen=True)
class Deadline:
    """A date by which something must be done."""

    description: str
    date: Optional[dt.date]
    date_text: str
    quote: str


@dataclass(frozen=True)
class Measure:
    """One numbered provision of a document, with everything the assistant may say about it."""

    id: str
    document_id: str
    section_path: Tuple[str, ...]
    article: str
    title: str
    text: str
    responsibility_text: Optional[str]
    agencies: Tuple[AgencyRef, ...]
    platforms: Tuple[PlatformRef, ...]
    targets: Tuple[Target, ...]
    deadlines: Tuple[Deadline, ...]
    topics: Tuple[str, ...]
    beneficiaries: Tuple[str, ...]
    keywords: Tuple[str, ...]
    source_line: int = 0

    def to_dict(self) -> Dict[str, Any]:
        """The record as plain JSON-ready data."""
        data = asdict(self)
        return _jsonable(data)


@dataclass(frozen=True)
class Agency:
    """An agency and the names the documents and users give it."""

    id: str
    name: str
    region: str
    aliases: Tuple[str, ...]
    user_aliases: Tuple[str, ...]

    def names(self) -> Tuple[str, ...]:
        """Every name that refers to the agency, longest first."""
        return tuple(sorted({self.name, *self.aliases, *self.user_aliases}, key=len, reverse=True))


@dataclass(frozen=True)
class Platform:
    """A platform, organisation or programme the documents name."""

    id: str
    name: str
    region: str
    kind: str
    aliases: Tuple[str, ...]
    user_aliases: Tuple[str, ...]
    purpose: str

    def names(self) -> Tuple[str, ...]:
        """Every name that refers to the platform, longest first."""
        return tuple(sorted({self.name, *self.aliases, *self.user_aliases}, key=len, reverse=True))


@dataclass(frozen=True)
class Topic:
    """A topic of the controlled list."""

    id: str
    label: str
    intent: Optional[str]
    terms: Tuple[str, ...]


@dataclass
class Registry:
    """Everything loaded from the KB files, before indexing."""

    documents: Dict[str, Document] = field(default_factory=dict)
    measures: List[Measure] = field(default_factory=list)
    agencies: Dict[str, Agency] = field(default_factory=dict)
    platforms: Dict[str, Platform] = field(default_factory=dict)
    topics: Dict[str, Topic] = field(default_factory=dict)
    synonyms: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    neighbours: Tuple[str, ...] = ()  # IP matters the documents do not cover (data/neighbours.yml)
    other_places: Tuple[str, ...] = ()  # places outside the documents' regions (data/places.yml)
    shared_scope: Tuple[str, ...] = ()  # words that keep such a question in scope (长三角)


def _jsonable(value: Any) -> Any:
    """Turn dates and tuples into JSON-ready values, recursively."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def to_jsonable(value: Any) -> Any:
    """Public alias of the JSON conversion, for dataclass dumps elsewhere."""
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return _jsonable(value)
