"""The blind held-out set: turn writers' files into the evaluation schema, split into dev and a locked test.

Writers (helpers who saw only the four source documents and a persona brief) mark each expected
provision with a verbatim quote from its document. This module resolves each quote to the measure
whose lines hold it, maps ``expect`` to the scorer's categories, and splits every writer's cases and
conversations between ``dev.yml`` (read and tuned on) and ``test.yml`` (locked: run only to report,
never read case by case) by a hash of the case id, so both splits have every writer and persona.

    python -m evaluation.heldout build --source DIR [--out tests/eval/heldout]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from evaluation.baseline import build_paragraphs

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = ROOT / "tests" / "eval" / "heldout"
CATEGORY_OF_EXPECT = {"answer": "policy", "unstated": "unstated", "out_of_scope": "out_of_scope",
                      "chitchat": "chitchat"}
TEST_SHARE = 2  # one in TEST_SHARE ids (by hash) goes to the locked test split
# Writing rounds: each round was written after the code had been tuned on the earlier rounds' dev split, so
# its first run measures generalisation to unseen wording (every round is split between dev and test alike).
ROUND_OF_WRITER = {"alpha": 1, "bravo": 1, "charlie": 1, "delta": 1, "echo": 1, "foxtrot": 1,
                   "golf": 2, "hotel": 2, "india": 2, "juliet": 2, "kilo": 3, "lima": 3, "mike": 3,
                   "november": 4, "oscar": 4, "papa": 4}


def round_of(case_id: str) -> int:
    """The writing round of a case or conversation id (0 when its writer is not listed)."""
    return ROUND_OF_WRITER.get(case_id.split("-", 1)[0], 0)


class QuoteResolver:
    """Maps (document id, verbatim quote) to the measure whose lines hold the quote."""

    def __init__(self, sources: Mapping[str, str], measures: Sequence[Any]) -> None:
        self.sources = dict(sources)
        self.paragraphs = build_paragraphs(self.sources, measures)
        self.measures = list(measures)

    def resolve(self, doc: str, quote: str) -> list[str]:
        """Measure ids for a quote: the measures whose text holds it, else those of its paragraph."""
        quote = (quote or "").strip()
        if not quote or doc not in self.sources:
            return []
        by_text = [m.id for m in self.measures if m.document_id == doc and quote in m.text]
        if by_text:
            return by_text[:1]
        for paragraph in self.paragraphs:
            if paragraph.document_id == doc and quote in paragraph.text and paragraph.measure_ids:
                return list(paragraph.measure_ids[:1])
        return []


def split_of(case_id: str) -> str:
    """``test`` or ``dev``, fixed by the id's hash."""
    digest = int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16)
    return "test" if digest % TEST_SHARE == 0 else "dev"


def _ids(resolver: QuoteResolver, refs: Any, problems: list[str], where: str) -> list[str]:
    """Resolved ids of a list of {doc, quote} (or one mapping), problems noted."""
    if isinstance(refs, Mapping):
        refs = [refs]
    ids: list[str] = []
    for ref in refs or []:
        if not isinstance(ref, Mapping):
            problems.append(f"{where}: quote is not a mapping: {ref!r}")
            continue
        found = resolver.resolve(str(ref.get("doc") or "").removesuffix(".txt"), str(ref.get("quote") or ""))
        if not found:
            problems.append(f"{where}: quote not found in {ref.get('doc')}: {ref.get('quote')!r}")
        ids += [i for i in found if i not in ids]
    return ids


def convert_case(raw: Mapping[str, Any], resolver: QuoteResolver, problems: list[str], where: str
                 ) -> dict[str, Any] | None:
    """A writer's case or turn in the scorer's schema, or None when it cannot be scored."""
    category = CATEGORY_OF_EXPECT.get(str(raw.get("expect") or ""))
    text = raw.get("text")
    if not category or not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: bad expect or text")
        return None
    out: dict[str, Any] = {"text": text, "category": category, "class": raw.get("class") or "",
                           "persona": raw.get("persona") or ""}
    if raw.get("aspect"):
        out["aspect"] = raw["aspect"]
    if category in ("policy", "unstated"):
        cite_any = _ids(resolver, raw.get("quotes"), problems, where)
        first = _ids(resolver, raw.get("first"), problems, where) if raw.get("first") else []
        cite_any += [i for i in first if i not in cite_any]
        if category == "policy" and not cite_any:
            problems.append(f"{where}: no resolvable quote, dropped")
            return None
        if cite_any:
            out["cite_any"] = cite_any
        if first:
            out["cite_first"] = first
    return out


def build(source: Path, resolver: QuoteResolver) -> tuple[dict[str, dict[str, list]], list[str]]:
    """Both splits from every writer file in a folder, and the problems met."""
    splits: dict[str, dict[str, list]] = {name: {"cases": [], "conversations": []} for name in ("dev", "test")}
    problems: list[str] = []
    for path in sorted(source.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        writer = str(data.get("writer") or path.stem)
        for raw in data.get("cases") or []:
            case_id = f"{writer}-{raw.get('id')}" if not str(raw.get("id", "")).startswith(writer) else str(raw["id"])
            case = convert_case(raw, resolver, problems, f"{path.name} {case_id}")
            if case:
                splits[split_of(case_id)]["cases"].append({"id": case_id, **case})
        for raw in data.get("conversations") or []:
            conv_id = str(raw.get("id"))
            persona = raw.get("persona") or ""
            turns = [convert_case(dict(turn, persona=turn.get("persona") or persona), resolver, problems,
                                  f"{path.name} {conv_id} turn {n}")
                     for n, turn in enumerate(raw.get("turns") or [], start=1)]
            if len(turns) < 2 or any(t is None for t in turns):
                problems.append(f"{path.name} {conv_id}: conversation dropped")
                continue
            splits[split_of(conv_id)]["conversations"].append({"id": conv_id, "persona": persona, "turns": turns})
    return splits, problems


def default_resolver() -> QuoteResolver:
    """A resolver over the project's knowledge base and its source copies."""
    from policies_kb import load_kb
    from policies_kb.paths import SOURCES_DIR

    kb = load_kb()
    sources = {doc.id: (SOURCES_DIR / doc.source).read_text(encoding="utf-8") for doc in kb.documents.values()}
    return QuoteResolver(sources, kb.measures)


HEADER = ("# Blind held-out set, {split} split. Written by helpers who saw only the four source documents and a\n"
          "# persona brief (see README.md here). {note}\n")
NOTES = {"dev": "Read and tune on this split.",
         "test": "LOCKED: do not read case by case; run only to report (make eval-locked)."}


def write_splits(splits: Mapping[str, Mapping[str, list]], out: Path) -> None:
    """dev.yml and test.yml in the scorer's schema."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in splits.items():
        body = yaml.safe_dump(dict(content), allow_unicode=True, sort_keys=False, width=200)
        (out / f"{name}.yml").write_text(HEADER.format(split=name, note=NOTES[name]) + body, encoding="utf-8")


def counts(content: Mapping[str, list]) -> dict[str, Any]:
    """Counts of a split by category, class and persona (no case text)."""
    cases = content.get("cases") or []
    convs = content.get("conversations") or []
    return {"cases": len(cases), "conversations": len(convs),
            "turns": sum(len(c["turns"]) for c in convs),
            "by_category": dict(Counter(c["category"] for c in cases)),
            "by_class": dict(Counter(c["class"] for c in cases)),
            "by_persona": dict(Counter(c["persona"] for c in cases))}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the splits from a folder of writer files."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.heldout")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="resolve quotes and write dev.yml and test.yml")
    build_cmd.add_argument("--source", type=Path, required=True, help="folder of the writers' YAML files")
    build_cmd.add_argument("--out", type=Path, default=HELDOUT_DIR)
    args = parser.parse_args(argv)
    splits, problems = build(args.source, default_resolver())
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    write_splits(splits, args.out)
    for name, content in splits.items():
        print(name, counts(content))
    return 0


if __name__ == "__main__":
    sys.exit(main())
