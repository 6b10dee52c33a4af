"""The knowledge base facade: load once, get, filter, search, cite."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from . import scope
from .docref import DocumentFeatures, described_documents, document_features
from .loader import KBValidationError, load_registry, validate
from .model import Agency, Document, Measure, Platform, Registry, Topic
from .normalise import TextNormaliser, load_readings
from .paths import DATA_DIR, READINGS_FILE, SOURCES_DIR
from .search import SearchHit, SearchIndex, TopicHint, Tokenizer, kb_vocabulary

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000  # characters of a question the KB reads (the channels cut messages to this length too)
REGION_WORDS: Dict[str, Tuple[str, ...]] = {
    "上海": ("上海", "沪", "浦东", "闵行", "徐汇", "静安", "黄浦", "长宁", "普陀", "虹口", "杨浦", "宝山",
             "嘉定", "金山", "松江", "青浦", "奉贤", "崇明", "临港", "漕河泾", "张江"),
    "大同": ("大同", "山西", "晋", "云冈", "平城", "云州", "新荣", "阳高", "天镇", "广灵", "灵丘", "浑源", "左云"),
    "全国": ("全国", "国家层面", "中央层面", "国家那边", "国家的政策", "试点城市"),
}
REGION_NAMES = re.compile(r"上海市|上海|大同市|大同|山西省|山西|全国范围|全国|国家层面|本市|我市")
BENEFICIARY_WORDS = ("专精特新", "小巨人", "高新技术企业", "科技型企业", "科创板", "拟上市", "高校", "科研机构",
                     "医疗卫生机构", "医院", "优势示范企业", "试点城市", "金融机构", "行业协会")


class KnowledgeBase:
    """Read-only access to the documents, measures, agencies and platforms."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.documents: Dict[str, Document] = registry.documents
        self.measures: List[Measure] = registry.measures
        self.agencies: Dict[str, Agency] = registry.agencies
        self.platforms: Dict[str, Platform] = registry.platforms
        self.topics: Dict[str, Topic] = registry.topics
        self._by_id = {measure.id: measure for measure in self.measures}
        self._position = {measure.id: i for i, measure in enumerate(self.measures)}
        self.vocabulary = sorted(kb_vocabulary(registry))
        self.tokenizer = Tokenizer(self.vocabulary)
        self.index = SearchIndex(registry, self.tokenizer)
        # names of three characters or more, longest first (the order _mentions needs), built once
        self._agency_names = _longest_first((n, a.id, a.region) for a in self.agencies.values() for n in a.names()
                                            if len(n) >= 3)
        self._platform_names = _longest_first((n, p.id) for p in self.platforms.values() for n in p.names()
                                              if len(n) >= 3)
        region_words = {word for words in REGION_WORDS.values() for word in words}
        self._masked_names = sorted({name for name, *_ in self._agency_names + self._platform_names
                                     if name not in region_words},  # 试点城市 as an agency still says 全国
                                    key=lambda name: (-len(name), name))
        self._normaliser: Optional[TextNormaliser] = None
        self._document_features: Optional[DocumentFeatures] = None

    def normalise(self, text: str) -> str:
        """A question as the KB reads it: simplified script, ASCII letters, no proposal wrapper, typos fixed."""
        if self._normaliser is None:
            places = [word for words in REGION_WORDS.values() for word in words]  # 大铜 is a typo of 大同 too
            self._normaliser = TextNormaliser([*self.vocabulary, *places], load_readings(READINGS_FILE),
                                              self.tokenizer.dictionary_words, self.tokenizer.frequency)
        return self._normaliser(text)

    # ---- lookup ------------------------------------------------------------------------------
    def get(self, measure_id: str) -> Optional[Measure]:
        """The measure with this id, or None."""
        return self._by_id.get(measure_id)

    def document(self, measure: Measure) -> Document:
        """The document a measure belongs to."""
        return self.documents[measure.document_id]

    def region_of(self, measure: Measure) -> str:
        """The region of a measure's document."""
        return self.documents[measure.document_id].region

    def filter(self, region: Optional[str] = None, topic: Optional[str] = None, agency: Optional[str] = None,
               platform: Optional[str] = None, beneficiary: Optional[str] = None, document: Optional[str] = None,
               validity: Optional[str] = None, today: Optional[dt.date] = None) -> List[Measure]:
        """Measures matching every given filter (names are resolved through the registries)."""
        agency_ids = self._agency_ids(agency) if agency else None
        platform_ids = self._platform_ids(platform) if platform else None
        region = normalise_region(region) if region else None
        out = []
        for measure in self.measures:
            if region and self.region_of(measure) != region:
                continue
            if topic and topic not in measure.topics:
                continue
            if document and measure.document_id != document:
                continue
            if agency_ids is not None and not {r.agency_id for r in measure.agencies} & agency_ids:
                continue
            if platform_ids is not None and not {r.platform_id for r in measure.platforms} & platform_ids:
                continue
            if beneficiary and not any(beneficiary in b or b in beneficiary for b in measure.beneficiaries):
                continue
            if validity and self.validity_status(measure, today) != validity:
                continue
            out.append(measure)
        return out

    def _agency_ids(self, name: str) -> set:
        """Agency ids that a name or id refers to."""
        if name in self.agencies:
            return {name}
        return {agency.id for agency in self.agencies.values() if name in agency.names()} or {
            agency.id for agency in self.agencies.values() if any(name in n for n in agency.names())
        }

    def _platform_ids(self, name: str) -> set:
        """Platform ids that a name or id refers to."""
        if name in self.platforms:
            return {name}
        return {p.id for p in self.platforms.values() if name in p.names()} or {
            p.id for p in self.platforms.values() if any(name in n for n in p.names())
        }

    def resolve_agency(self, name: str) -> Optional[Agency]:
        """The agency a name refers to (exact name or alias first, then containment)."""
        ids = self._agency_ids(name.strip())
        return self.agencies[sorted(ids)[0]] if len(ids) >= 1 else None

    def resolve_platform(self, name: str) -> Optional[Platform]:
        """The platform a name refers to (exact name or alias first, then containment)."""
        ids = self._platform_ids(name.strip())
        return self.platforms[sorted(ids)[0]] if len(ids) >= 1 else None

    def measures_naming_agency(self, agency_id: str) -> List[Measure]:
        """Every measure that names (or is inferred to involve) the agency."""
        return [m for m in self.measures if any(r.agency_id == agency_id for r in m.agencies)]

    def measures_naming_platform(self, platform_id: str) -> List[Measure]:
        """Every measure that names the platform."""
        return [m for m in self.measures if any(r.platform_id == platform_id for r in m.platforms)]

    # ---- mentions in free text ---------------------------------------------------------------
    def agencies_in(self, text: str, region: Optional[str] = None) -> List[Agency]:
        """Agencies a question names, longest name first, without overlaps."""
        names = [(n, i) for n, i, r in self._agency_names if region is None or r == region]
        return [self.agencies[i] for i in _mentions(text, names)]

    def platforms_in(self, text: str) -> List[Platform]:
        """Platforms a question names, longest name first, without overlaps."""
        return [self.platforms[i] for i in _mentions(text, self._platform_names)]

    def mask_names(self, text: str) -> str:
        """The text with agency, platform and document names blanked (their words are not regions)."""
        for name in self._masked_names:
            if name in text:
                text = text.replace(name, " " * len(name))
        return text

    def neighbours_in(self, text: str) -> List[str]:
        """Terms of IP matters the documents do not cover (商标续展, 软件著作权 …) that a question names."""
        return scope.neighbours_in(self, text or "")

    def other_places_in(self, text: str) -> List[str]:
        """Places outside the documents' regions that a question names, when it names none of theirs."""
        return scope.other_places_in(self, text or "")

    def region_in(self, text: str) -> Optional[str]:
        """The region a question names, not counting words inside agency or platform names."""
        return detect_region(self.mask_names(text or ""))

    def documents_in(self, text: str) -> List[str]:
        """Documents a question names by 文号 (or its short form, e.g. 7号文), else describes (2017年那个通知)."""
        found = []
        for doc in self.documents.values():
            numbers = [doc.doc_number, doc.implements] if doc.doc_number else []
            if any(n and n in text for n in numbers) or any(w in text for w in _short_doc_names(doc)):
                found.append(doc.id)
        if found or not text:
            return found
        if self._document_features is None:
            self._document_features = document_features(self)
        return described_documents(self, text, self._document_features)

    # ---- search ------------------------------------------------------------------------------
    def search(self, query: str, region: Optional[str] = None, topic: Optional[str] = None,
               agency: Optional[str] = None, platform: Optional[str] = None, topic_hint: TopicHint = None,
               exclude: Sequence[str] = (), limit: int = 10) -> List[SearchHit]:
        """Ranked measures for a Chinese question, with optional filters and a topic hint."""
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        wanted = normalise_region(region) if region else None  # a region asked for wins over a document of another named
        documents = [d for d in self.documents_in(query) if not wanted or self.documents[d].region == wanted]
        excluded = set(exclude)
        candidates = [self._position[m.id] for m in self.filter(region=region, topic=topic, agency=agency, platform=platform)
                      if m.id not in excluded and (not documents or m.document_id in documents)]
        if not candidates:
            return []
        platform_ids = [p.id for p in self.platforms_in(query)]
        agency_ids = [a.id for a in self.agencies_in(query, normalise_region(region) if region else None)]
        beneficiaries = [word for word in BENEFICIARY_WORDS if word in query]
        lexical = REGION_NAMES.sub(" ", query) if platform_ids or REGION_NAMES.sub("", query).strip() else query
        if documents:
            lexical = self._without_title_words(lexical, documents)
        return self.index.search(lexical, candidates, topic_hint=topic_hint, platform_ids=platform_ids,
                                 agency_ids=agency_ids, beneficiary_terms=beneficiaries, limit=limit)

    def _without_title_words(self, query: str, documents: Sequence[str]) -> str:
        """A question scoped to documents, without the words of their titles and 文号 (every candidate shares
        them): what is left tells their provisions apart. The question itself when nothing would be left."""
        words = set()
        for doc_id in documents:
            doc = self.documents[doc_id]
            words.update(self.tokenizer.words(f"{doc.title} {doc.short_title} {doc.doc_number or ''}"))
            words.update((f"{doc.date.year}年", str(doc.date.year)))
        reduced = query
        for word in sorted(words, key=len, reverse=True):
            if len(word) >= 2:
                reduced = reduced.replace(word, " ")
        weights, _ = self.index.query_weights(reduced)
        return reduced if any(len(term) >= 2 and self.index.has_term(term) for term in weights) else query

    def warm_up(self) -> None:
        """Build the tokenizer, the index and the normaliser now rather than on the first question."""
        self.index.build()
        self.search(self.normalise("知識產權質押融資"))

    # ---- citation and validity ---------------------------------------------------------------
    def citation(self, measure: Measure) -> str:
        """A citation a civil servant accepts: the document reference and the article as written."""
        doc = self.document(measure)
        return f"{doc.reference}{article_label(measure)}"

    def short_citation(self, measure: Measure) -> str:
        """A compact citation for lists: 文号 (or issuers and date) and the article."""
        return f"{self.document(measure).short_reference} {article_label(measure)}"

    def validity_status(self, measure: Measure, today: Optional[dt.date] = None) -> str:
        """expired, targets_past, targets_future or in_force, as of today."""
        today = today or dt.date.today()
        doc = self.document(measure)
        if doc.validity_status == "expired":
            return "expired"
        dated = [t.deadline for t in measure.targets if t.deadline]
        if dated:
            return "targets_past" if max(dated) < today else "targets_future"
        return "in_force"

    def validity_note(self, measure: Measure, today: Optional[dt.date] = None) -> str:
        """A short note on whether the provision still applies, when it matters."""
        today = today or dt.date.today()
        status = self.validity_status(measure, today)
        doc = self.document(measure)
        if status == "expired":
            return doc.validity_note
        by_date = {}
        for target in sorted(measure.targets, key=lambda t: len(t.deadline_text)):
            if target.deadline:
                by_date.setdefault(target.deadline, target.deadline_text.rstrip("前"))
        deadlines = [by_date[d] for d in sorted(by_date)]
        if status == "targets_past":
            return f"本条目标的期限（{'、'.join(deadlines)}）已过（截至{today:%Y年%m月%d日}），目前执行情况请以主管部门最新发布为准。"
        if status == "targets_future":
            return f"本条目标期限为{'、'.join(deadlines)}。"
        return ""


def article_label(measure: Measure) -> str:
    """The article as a citation writes it: 第(二十六)项, 第11条, （一）申报对象."""
    article = measure.article
    if re.fullmatch(r"\d+\.", article) and measure.id.startswith("cnipa"):
        return f"{measure.section_path[0].split('、')[0]}、{measure.section_path[-1]}第{article[:-1]}项"
    if re.fullmatch(r"\d+\.", article):
        return f"第{article[:-1]}条"
    if re.fullmatch(r"[（(][一二三四五六七八九十]+[）)]", article):
        if measure.id.startswith(("cnipa", "shipa")):
            return f"{measure.section_path[0].split('、')[0]}、{article}{measure.title}"
        return f"第{article}项"
    if re.fullmatch(r"（\d）", article):
        return f"一、{article}{measure.title}"
    if article.endswith("、"):
        return f"{measure.section_path[0]}"
    return article


def _short_doc_names(doc: Document) -> Tuple[str, ...]:
    """Ways users name a document without its full 文号 (沪府办发7号, 30号文, 9号文)."""
    if not doc.doc_number:
        return ()
    match = re.match(r"(.+?)〔(\d{4})〕(\d+)号", doc.doc_number)
    if not match:
        return ()
    prefix, year, number = match.groups()
    return (f"{prefix}{year}{number}号", f"{prefix}〔{year}〕{number}号", f"{prefix}[{year}]{number}号",
            f"{prefix}({year}){number}号", f"{prefix}（{year}）{number}号", f"{prefix}{number}号")


def _longest_first(rows: Iterable[tuple]) -> List[tuple]:
    """Rows whose first item is a name, longest name first (a stable sort: ties keep their order)."""
    return sorted(rows, key=lambda row: len(row[0]), reverse=True)


def _mentions(text: str, names: Iterable[Tuple[str, str]]) -> List[str]:
    """Ids whose names (given longest first) occur in text, non-overlapping, in order of appearance."""
    taken = [False] * len(text)
    found = []
    for name, ident in names:
        start = text.find(name)
        if start == -1 or any(taken[start:start + len(name)]):
            continue
        for i in range(start, start + len(name)):
            taken[i] = True
        found.append((start, ident))
    seen, out = set(), []
    for _, ident in sorted(found):
        if ident not in seen:
            seen.add(ident)
            out.append(ident)
    return out


def normalise_region(value: Optional[str]) -> Optional[str]:
    """Map a region word (浦东, 山西, 国家层面 …) to 上海, 大同 or 全国."""
    if not value:
        return None
    value = value.strip()
    for region, words in REGION_WORDS.items():
        if value == region or value in words:
            return region
    return detect_region(value)


def detect_region(text: str) -> Optional[str]:
    """The region a question names, if exactly one region is named."""
    found = {region for region, words in REGION_WORDS.items() if any(word in text for word in words if len(word) >= 2 or word == "沪")}
    if "全国" in found and len(found) > 1:
        found.discard("全国")
    return found.pop() if len(found) == 1 else None


_CACHE: Dict[Path, KnowledgeBase] = {}
_CACHE_LOCK = threading.Lock()


def load_kb(data_dir: Optional[Path] = None, sources_dir: Optional[Path] = None, check: bool = True) -> KnowledgeBase:
    """Load (once per folder) and validate the KB; raise KBValidationError naming file and line."""
    data_dir = Path(data_dir or DATA_DIR).resolve()
    with _CACHE_LOCK:
        if data_dir in _CACHE:
            return _CACHE[data_dir]
        registry, locations = load_registry(data_dir)
        if check:
            problems = validate(registry, locations, Path(sources_dir or SOURCES_DIR), data_dir)
            if problems:
                raise KBValidationError(problems)
        kb = KnowledgeBase(registry)
        _CACHE[data_dir] = kb
        logger.info("knowledge base loaded: %d measures from %s", len(kb.measures), data_dir)
        return kb


def clear_cache() -> None:
    """Forget loaded knowledge bases (for tests and reloads)."""
    with _CACHE_LOCK:
        _CACHE.clear()
