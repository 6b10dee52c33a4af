"""Build the measure files from the sources, keeping the hand-curated fields.

Extracted fields (numbering, section path, verbatim text, 责任单位, agencies and platforms named,
figures, deadlines) are recomputed on every build; curated fields (title when the document has no
lead phrase, topics, beneficiaries, keywords, and agency overrides) are read back from the existing
measure file and written again unchanged. Rebuilding from unchanged sources changes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .extract import PARSERS, RawProvision, find_deadlines, find_targets, split_responsibility
from .paths import DATA_DIR, SOURCES_DIR
from .yamlio import read_yaml, write_yaml

logger = logging.getLogger(__name__)

CURATED_FIELDS = ("title", "topics", "beneficiaries", "keywords", "inferred_agencies")
HEADER = (
    "# Measures of one document. Built by `python -m policies_kb build` from policies_kb/sources/.\n"
    "# Extracted fields are rewritten on every build; the curated fields ({}) are kept as edited.\n"
)


def _names_index(entries: Iterable[Dict[str, Any]]) -> List[Tuple[str, str, str]]:
    """(name, id, region) for every verbatim name of a registry, longest first."""
    pairs = []
    for entry in entries:
        for name in {entry["name"], *entry.get("aliases", [])}:
            pairs.append((name, entry["id"], entry["region"]))
    return sorted(pairs, key=lambda item: len(item[0]), reverse=True)


def find_names(text: str, index: Sequence[Tuple[str, str, str]], regions: Sequence[str]) -> List[Tuple[str, str]]:
    """Registry entries named in text, longest match first, without overlaps, in text order."""
    taken = [False] * len(text)
    hits: List[Tuple[int, str, str]] = []
    for name, ident, region in index:
        if region not in regions:
            continue
        start = text.find(name)
        while start != -1:
            span = range(start, start + len(name))
            if not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                hits.append((start, ident, name))
            start = text.find(name, start + 1)
    seen, ordered = set(), []
    for _, ident, name in sorted(hits):
        if ident not in seen:
            seen.add(ident)
            ordered.append((ident, name))
    return ordered


def _agency_refs(raw: RawProvision, region: str, agencies: Sequence[Tuple[str, str, str]],
                 curated: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Stated 责任单位, else the curated inferred agencies, else the actors the text names."""
    if raw.responsibility_text:
        refs = []
        for name in split_responsibility(raw.responsibility_text):
            found = find_names(name, agencies, (region, "全国"))
            refs.append({"id": found[0][0] if found else None, "as_written": name, "inferred": False})
        return refs
    if curated:
        return [dict(item, inferred=True) for item in curated]
    return [{"id": ident, "as_written": name, "inferred": True}
            for ident, name in find_names(raw.text, agencies, (region, "全国"))]


def build_document(doc: Dict[str, Any], agencies: Sequence[Tuple[str, str, str]],
                   platforms: Sequence[Tuple[str, str, str]], existing: Dict[str, Dict[str, Any]],
                   sources_dir: Path = SOURCES_DIR) -> List[Dict[str, Any]]:
    """The measure records of one document, extracted and merged with curated fields."""
    text = (sources_dir / doc["source"]).read_text(encoding="utf-8")
    records = []
    for raw in PARSERS[doc["id"]](text):
        old = existing.get(raw.id, {})
        inferred = old.get("inferred_agencies")
        record: Dict[str, Any] = {
            "id": raw.id,
            "document": doc["id"],
            "source_line": raw.line,
            "section_path": list(raw.section_path),
            "article": raw.article,
            "title": old.get("title") or raw.title,
            "lead_phrase": raw.title,
            "text": raw.text,
            "responsibility_text": raw.responsibility_text,
            "agencies": _agency_refs(raw, doc["region"], agencies, inferred),
            "platforms": [{"id": ident, "as_written": name}
                          for ident, name in find_names(raw.text, platforms, ("上海", "大同", "全国"))],
            "targets": [_dated(item, "deadline") for item in find_targets(raw.text)],
            "deadlines": [_dated(item, "date") for item in find_deadlines(raw.text, int(str(doc["date"])[:4]))],
            "topics": list(old.get("topics", [])),
            "beneficiaries": list(old.get("beneficiaries", [])),
            "keywords": list(old.get("keywords", [])),
        }
        if inferred:
            record["inferred_agencies"] = [dict(item) for item in inferred]
        records.append(record)
    return records


def _dated(item: Dict[str, Any], key: str) -> Dict[str, Any]:
    """Write a date field as ISO text (or null) for YAML."""
    out = dict(item)
    out[key] = out[key].isoformat() if out.get(key) else None
    return out


def build(data_dir: Path = DATA_DIR, sources_dir: Path = SOURCES_DIR) -> Dict[str, bool]:
    """Rebuild every measure file; return which files changed."""
    documents = read_yaml(data_dir / "documents.yml")["documents"]
    agencies = _names_index(read_yaml(data_dir / "agencies.yml")["agencies"])
    platforms = _names_index(read_yaml(data_dir / "platforms.yml")["platforms"])
    changed = {}
    for doc in documents:
        path = data_dir / "measures" / f"{doc['id']}.yml"
        existing = {}
        if path.exists():
            existing = {item["id"]: item for item in (read_yaml(path) or {}).get("measures", [])}
        records = build_document(doc, agencies, platforms, existing, sources_dir)
        changed[str(path)] = write_yaml(path, {"document": doc["id"], "measures": records},
                                        HEADER.format(", ".join(CURATED_FIELDS)))
        logger.info("%s: %d measures", path.name, len(records))
    return changed
