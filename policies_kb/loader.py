"""Load the KB files into records, checking them as they are read."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional

from .extract import EXPECTED_COUNTS
from .model import (
    REGIONS, Agency, AgencyRef, Deadline, Document, Measure, Period, Platform, PlatformRef,
    Registry, Target, Topic,
)
from .paths import DATA_DIR, SOURCES_DIR
from .yamlio import KBFileError, line_of, read_yaml

MEASURE_KEYS = {
    "id", "document", "source_line", "section_path", "article", "title", "lead_phrase", "text",
    "responsibility_text", "agencies", "platforms", "targets", "deadlines", "topics",
    "beneficiaries", "keywords", "inferred_agencies",
}
REQUIRED_MEASURE_KEYS = MEASURE_KEYS - {"inferred_agencies", "lead_phrase"}


class KBValidationError(ValueError):
    """One or more problems in the KB; each line names the file and the line."""

    def __init__(self, problems: List[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _date(value: Any, path: Path, line: int, what: str) -> Optional[dt.date]:
    """Parse an ISO date (YAML may already have made it one)."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise KBFileError(path, line, f"{what}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _require(entry: Dict[str, Any], keys: List[str], path: Path, what: str) -> None:
    """Raise a located error when an entry lacks a key."""
    if not isinstance(entry, dict):
        raise KBFileError(path, line_of(entry), f"{what}: expected a mapping, got {type(entry).__name__}")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise KBFileError(path, line_of(entry), f"{what} {entry.get('id', '?')}: missing {', '.join(missing)}")


def _list_of(data: Any, key: str, path: Path) -> List[Any]:
    """The list under a top-level key, or a located error."""
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise KBFileError(path, line_of(data), f"expected a top-level list `{key}:`")
    return data[key]


def load_documents(path: Path) -> Dict[str, Document]:
    """Read documents.yml."""
    documents = {}
    for entry in _list_of(read_yaml(path), "documents", path):
        _require(entry, ["id", "source", "title", "short_title", "doc_number", "issuers", "date", "region", "validity"], path, "document")
        validity = entry["validity"]
        periods = tuple(
            Period(label=p["label"], end=_date(p["end"], path, line_of(p), "end"), quote=p["quote"],
                   start=_date(p.get("start"), path, line_of(p), "start"))
            for p in validity.get("periods", [])
        )
        documents[entry["id"]] = Document(
            id=entry["id"], source=entry["source"], title=entry["title"], short_title=entry["short_title"],
            doc_number=entry["doc_number"], implements=entry.get("implements"), issuers=tuple(entry["issuers"]),
            date=_date(entry["date"], path, line_of(entry), "date"), region=entry["region"],
            validity_status=validity["status"], validity_note=validity["note"], periods=periods,
        )
    return documents


def load_agencies(path: Path) -> Dict[str, Agency]:
    """Read agencies.yml."""
    agencies = {}
    for entry in _list_of(read_yaml(path), "agencies", path):
        _require(entry, ["id", "name", "region", "aliases"], path, "agency")
        if entry["id"] in agencies:
            raise KBFileError(path, line_of(entry), f"agency {entry['id']}: duplicate id")
        agencies[entry["id"]] = Agency(entry["id"], entry["name"], entry["region"], tuple(entry["aliases"]),
                                       tuple(entry.get("user_aliases") or ()))
    return agencies


def load_platforms(path: Path) -> Dict[str, Platform]:
    """Read platforms.yml."""
    platforms = {}
    for entry in _list_of(read_yaml(path), "platforms", path):
        _require(entry, ["id", "name", "region", "kind", "aliases", "purpose"], path, "platform")
        if entry["id"] in platforms:
            raise KBFileError(path, line_of(entry), f"platform {entry['id']}: duplicate id")
        platforms[entry["id"]] = Platform(entry["id"], entry["name"], entry["region"], entry["kind"],
                                          tuple(entry["aliases"]), tuple(entry.get("user_aliases") or ()),
                                          entry["purpose"])
    return platforms


def load_topics(path: Path) -> Dict[str, Topic]:
    """Read topics.yml."""
    topics = {}
    for entry in _list_of(read_yaml(path), "topics", path):
        _require(entry, ["id", "label", "terms"], path, "topic")
        topics[entry["id"]] = Topic(entry["id"], entry["label"], entry.get("intent"), tuple(entry["terms"]))
    return topics


def load_synonyms(path: Path) -> Dict[str, tuple]:
    """Read synonyms.yml: canonical term → variants."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("synonyms"), dict):
        raise KBFileError(path, line_of(data), "expected a top-level mapping `synonyms:`")
    return {str(key): tuple(str(v) for v in values) for key, values in data["synonyms"].items()}


def load_neighbours(path: Path) -> tuple:
    """Read neighbours.yml: the terms of IP matters the documents do not cover (absent file: none)."""
    if not path.is_file():
        return ()
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("neighbours"), dict):
        raise KBFileError(path, line_of(data), "expected a top-level mapping `neighbours:`")
    return tuple(dict.fromkeys(str(term) for terms in data["neighbours"].values() for term in terms or []))


def load_places(path: Path) -> tuple:
    """Read places.yml: (places outside the documents' regions, words that keep a question in scope)."""
    if not path.is_file():
        return (), ()
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("places"), list):
        raise KBFileError(path, line_of(data), "expected a top-level list `places:`")
    return tuple(str(p) for p in data["places"]), tuple(str(w) for w in data.get("shared_scope") or [])


def _check_outside_terms(registry: Registry, all_text: str, data_dir: Path) -> List[str]:
    """Neighbour terms and other places must not occur in any source (they would hide a covered subject)."""
    problems = [f"{_rel(data_dir / 'neighbours.yml')}:0: neighbour term {term!r} occurs in a source document"
                for term in registry.neighbours if term in all_text]
    problems += [f"{_rel(data_dir / 'places.yml')}:0: place {place!r} occurs in a source document"
                 for place in registry.other_places if place in all_text]
    return problems


def _measure(entry: Dict[str, Any], path: Path) -> Measure:
    """Turn one YAML measure entry into a Measure."""
    _require(entry, sorted(REQUIRED_MEASURE_KEYS), path, "measure")
    unknown = set(entry) - MEASURE_KEYS
    if unknown:
        raise KBFileError(path, line_of(entry), f"measure {entry['id']}: unknown field(s) {', '.join(sorted(unknown))}")
    line = line_of(entry)
    return Measure(
        id=entry["id"], document_id=entry["document"], section_path=tuple(entry["section_path"]),
        article=str(entry["article"]), title=entry["title"], text=entry["text"],
        responsibility_text=entry["responsibility_text"],
        agencies=tuple(AgencyRef(a.get("id"), a["as_written"], bool(a["inferred"])) for a in entry["agencies"]),
        platforms=tuple(PlatformRef(p["id"], p["as_written"]) for p in entry["platforms"]),
        targets=tuple(
            Target(str(t["metric"]), str(t["value"]), str(t["unit"]), str(t["qualifier"]),
                   _date(t["deadline"], path, line_of(t) or line, "deadline"), str(t["deadline_text"]), str(t["quote"]))
            for t in entry["targets"]
        ),
        deadlines=tuple(
            Deadline(str(d["description"]), _date(d["date"], path, line_of(d) or line, "date"), str(d["date_text"]), str(d["quote"]))
            for d in entry["deadlines"]
        ),
        topics=tuple(entry["topics"]), beneficiaries=tuple(entry["beneficiaries"]),
        keywords=tuple(entry["keywords"]), source_line=int(entry.get("source_line") or 0),
    )


def load_registry(data_dir: Path = DATA_DIR) -> tuple:
    """Read every KB file; return the registry and each measure's (file, line)."""
    data_dir = Path(data_dir)
    registry = Registry(
        documents=load_documents(data_dir / "documents.yml"),
        agencies=load_agencies(data_dir / "agencies.yml"),
        platforms=load_platforms(data_dir / "platforms.yml"),
        topics=load_topics(data_dir / "topics.yml"),
        synonyms=load_synonyms(data_dir / "synonyms.yml"),
        neighbours=load_neighbours(data_dir / "neighbours.yml"),
    )
    registry.other_places, registry.shared_scope = load_places(data_dir / "places.yml")
    locations: Dict[str, tuple] = {}
    for doc in registry.documents.values():
        path = data_dir / "measures" / f"{doc.id}.yml"
        for entry in _list_of(read_yaml(path), "measures", path):
            measure = _measure(entry, path)
            if measure.id in locations:
                first = locations[measure.id]
                raise KBFileError(path, line_of(entry), f"measure {measure.id}: duplicate id (first at {first[0].name}:{first[1]})")
            locations[measure.id] = (path, line_of(entry))
            registry.measures.append(measure)
    return registry, locations


def validate(registry: Registry, locations: Dict[str, tuple], sources_dir: Path = SOURCES_DIR,
             data_dir: Path = DATA_DIR) -> List[str]:
    """Every check the KB must pass; returns the problems found (empty when valid)."""
    problems: List[str] = []
    sources = {}
    for doc in registry.documents.values():
        source_path = Path(sources_dir) / doc.source
        try:
            sources[doc.id] = source_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{source_path}:0: cannot read source ({exc})")
    problems += _check_checksums(Path(sources_dir))
    all_text = "\n".join(sources.values())
    problems += _check_documents(registry, sources, Path(data_dir) / "documents.yml")
    problems += _check_registry_names(registry, all_text, Path(data_dir))
    problems += _check_outside_terms(registry, all_text, Path(data_dir))
    for measure in registry.measures:
        path, line = locations[measure.id]
        where = f"{_rel(path)}:{line}: measure {measure.id}"
        problems += [f"{where}: {p}" for p in _check_measure(measure, registry, sources.get(measure.document_id, ""))]
    counts: Dict[str, int] = {}
    for measure in registry.measures:
        counts[measure.document_id] = counts.get(measure.document_id, 0) + 1
    for doc_id, expected in EXPECTED_COUNTS.items():
        path = Path(data_dir) / "measures" / f"{doc_id}.yml"
        if counts.get(doc_id, 0) != expected:
            problems.append(f"{_rel(path)}:0: {doc_id} has {counts.get(doc_id, 0)} measures, expected {expected} (a provision is missing or extra)")
    return problems


def _rel(path: Path) -> str:
    """A path relative to the project root when possible."""
    try:
        return str(Path(path).resolve().relative_to(DATA_DIR.parent.parent))
    except ValueError:
        return str(path)


def _check_checksums(sources_dir: Path) -> List[str]:
    """The sources must be byte-for-byte the documents received (SHA256SUMS)."""
    sums = sources_dir / "SHA256SUMS"
    if not sums.exists():
        return [f"{_rel(sums)}:0: checksum file missing"]
    problems = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        target = sources_dir / name
        if not target.exists():
            problems.append(f"{_rel(sums)}:{number}: {name} is missing")
        elif hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            problems.append(f"{_rel(target)}:0: changed: its SHA-256 differs from {sums.name} line {number}")
    return problems


def _check_documents(registry: Registry, sources: Dict[str, str], path: Path) -> List[str]:
    """Document records quote their sources verbatim."""
    problems = []
    for doc in registry.documents.values():
        text = sources.get(doc.id, "")
        for value in [doc.title, doc.doc_number, doc.implements, *doc.issuers, *(p.quote for p in doc.periods)]:
            if value and value not in text:
                problems.append(f"{_rel(path)}:0: document {doc.id}: {value!r} is not found verbatim in {doc.source}")
        if doc.region not in REGIONS:
            problems.append(f"{_rel(path)}:0: document {doc.id}: unknown region {doc.region!r}")
    return problems


def _check_registry_names(registry: Registry, all_text: str, data_dir: Path) -> List[str]:
    """Agency aliases and platform names are verbatim from some document."""
    problems = []
    for agency in registry.agencies.values():
        for alias in agency.aliases:
            if alias not in all_text:
                problems.append(f"{_rel(data_dir / 'agencies.yml')}:0: agency {agency.id}: alias {alias!r} is in no document")
        if agency.region not in REGIONS:
            problems.append(f"{_rel(data_dir / 'agencies.yml')}:0: agency {agency.id}: unknown region {agency.region!r}")
    for platform in registry.platforms.values():
        for name in (platform.name, *platform.aliases):
            if name not in all_text:
                problems.append(f"{_rel(data_dir / 'platforms.yml')}:0: platform {platform.id}: {name!r} is in no document")
    return problems


def _check_measure(measure: Measure, registry: Registry, source: str) -> List[str]:
    """Schema and verbatim checks of one measure."""
    problems = []
    if measure.document_id not in registry.documents:
        return [f"unknown document {measure.document_id!r}"]
    if not measure.text or measure.text not in source:
        problems.append("text is not found verbatim in its source")
    if not measure.title:
        problems.append("title is empty")
    if measure.responsibility_text and measure.responsibility_text not in source:
        problems.append("责任单位 text is not found verbatim in its source")
    if not measure.agencies:
        problems.append("names no agency (stated or inferred)")
    for ref in measure.agencies:
        if ref.agency_id not in registry.agencies:
            problems.append(f"agency {ref.as_written!r} ({ref.agency_id}) is not in the agency registry")
        elif ref.as_written not in registry.agencies[ref.agency_id].names() + (registry.agencies[ref.agency_id].name,):
            problems.append(f"agency {ref.as_written!r} is not a name of {ref.agency_id}")
        if not ref.inferred and ref.as_written not in (measure.responsibility_text or ""):
            problems.append(f"agency {ref.as_written!r} is marked stated but is not in the 责任单位")
    for ref in measure.platforms:
        if ref.platform_id not in registry.platforms:
            problems.append(f"platform {ref.as_written!r} ({ref.platform_id}) is not in the platform registry")
        if ref.as_written not in measure.text:
            problems.append(f"platform {ref.as_written!r} is not in the measure text")
    for target in measure.targets:
        if target.quote not in source:
            problems.append(f"target quote {target.quote!r} is not verbatim in the source")
        if target.value != "全覆盖" and target.value not in target.quote:
            problems.append(f"target value {target.value!r} is not in its quote")
    for deadline in measure.deadlines:
        if deadline.quote not in measure.text:
            problems.append(f"deadline quote {deadline.quote!r} is not in the measure text")
    if not measure.topics:
        problems.append("has no topic")
    for topic in measure.topics:
        if topic not in registry.topics:
            problems.append(f"unknown topic {topic!r}")
    return problems
