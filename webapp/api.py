"""The staff desk's JSON API: pure payload builders over the KB, plus the Sanic blueprint.

Every payload builder takes the KnowledgeBase and already-parsed arguments and returns plain
JSON-ready data, or raises ApiError (a status and a Chinese message). The blueprint only parses the
request, checks the staff token and runs the builders; it never lets bad input become a 500.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from policies_kb import KnowledgeBase, Measure, normalise_region
from policies_kb.labels import VALIDITY_LABELS, agency_name, join_names, platform_name, platforms_text, validity_label

from . import report as report_mod

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_PARAM_CHARS = 100
MAX_LIMIT = 200
DEFAULT_SEARCH_LIMIT = 20
MAX_SENDER_ID_CHARS = 255

# The validity filter's three choices on the page and the statuses each stands for; a status code is accepted too.
VALIDITY_CHOICES: dict[str, set[str]] = {
    VALIDITY_LABELS["in_force"]: {"in_force", "targets_future"},
    VALIDITY_LABELS["targets_past"]: {"targets_past"},
    VALIDITY_LABELS["expired"]: {"expired"},
}
VALIDITY_FILTERS: dict[str, set[str]] = {**VALIDITY_CHOICES, **{status: {status} for status in VALIDITY_LABELS}}


class ApiError(Exception):
    """A client-facing error: HTTP status and a Chinese message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---- JSON ------------------------------------------------------------------------------------
def dumps(data: Any, **_: Any) -> str:
    """UTF-8 JSON with Chinese kept readable."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# ---- parameters ------------------------------------------------------------------------------
def text_param(args: Mapping[str, Any], name: str, max_chars: int = MAX_PARAM_CHARS) -> str | None:
    """A stripped text parameter (first value), None when absent or blank; too long → 400."""
    value = args.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if len(value) > max_chars:
        raise ApiError(400, f"参数 {name} 过长（最多 {max_chars} 个字符）")
    if "\x00" in value:
        raise ApiError(400, f"参数 {name} 含有非法字符")
    return value


def int_param(args: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = text_param(args, name, MAX_PARAM_CHARS)
    if raw is None:
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit():
        raise ApiError(400, f"参数 {name} 应为整数")
    value = int(raw) if len(raw) <= 12 else high + 1
    if not low <= value <= high:
        raise ApiError(400, f"参数 {name} 应在 {low} 到 {high} 之间")
    return value


def date_param(args: Mapping[str, Any], name: str) -> dt.date | None:
    """A YYYY-MM-DD parameter."""
    raw = text_param(args, name, 10)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"参数 {name} 的日期格式应为 YYYY-MM-DD") from None


# ---- records ---------------------------------------------------------------------------------
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


# ---- lookups ---------------------------------------------------------------------------------
def find_measure(kb: KnowledgeBase, measure_id: str) -> Measure:
    """The measure with this id, or a 404."""
    measure = kb.get((measure_id or "").strip())
    if measure is None:
        raise ApiError(404, f"未找到条目：{measure_id[:80]}")
    return measure


def resolve_topic(kb: KnowledgeBase, value: str) -> str:
    """A topic id from an id or a label, or a 400."""
    if value in kb.topics:
        return value
    for topic in kb.topics.values():
        if value == topic.label or value == topic.intent:
            return topic.id
    raise ApiError(400, f"未知主题：{value}")


def resolve_region(value: str) -> str:
    """上海, 大同 or 全国 from a region word, or a 400."""
    region = normalise_region(value)
    if region is None:
        raise ApiError(400, f"未知地区：{value}（可选：上海、大同、全国）")
    return region


# ---- payloads --------------------------------------------------------------------------------
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


def agencies_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/agencies: every agency with how many measures name it."""
    items = []
    for agency in kb.agencies.values():
        items.append({"id": agency.id, "name": agency.name, "region": agency.region, "aliases": list(agency.aliases),
                      "user_aliases": list(agency.user_aliases),
                      "measure_count": len(kb.measures_naming_agency(agency.id))})
    return {"total": len(items), "agencies": items}


def agency_payload(kb: KnowledgeBase, key: str, today: dt.date) -> dict[str, Any]:
    """GET /api/agencies/<id or name>: every measure naming it, grouped by document."""
    key = (key or "").strip()
    if not key or len(key) > MAX_PARAM_CHARS:
        raise ApiError(404, "未找到该单位")
    agency = kb.agencies.get(key) or kb.resolve_agency(key)
    if agency is None:
        raise ApiError(404, f"未找到单位：{key}")
    measures = kb.measures_naming_agency(agency.id)
    return {"agency": {"id": agency.id, "name": agency.name, "region": agency.region,
                       "aliases": list(agency.aliases), "user_aliases": list(agency.user_aliases)},
            "query": key, "total": len(measures), "groups": group_by_document(kb, measures, today)}


def platforms_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/platforms: every platform with how many measures name it."""
    items = []
    for platform in kb.platforms.values():
        items.append({"id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
                      "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
                      "purpose": platform.purpose,
                      "measure_count": len(kb.measures_naming_platform(platform.id))})
    return {"total": len(items), "platforms": items}


def platform_payload(kb: KnowledgeBase, key: str, today: dt.date) -> dict[str, Any]:
    """GET /api/platforms/<id or name>: every measure naming it, grouped by document."""
    key = (key or "").strip()
    if not key or len(key) > MAX_PARAM_CHARS:
        raise ApiError(404, "未找到该平台")
    platform = kb.platforms.get(key) or kb.resolve_platform(key)
    if platform is None:
        raise ApiError(404, f"未找到平台：{key}")
    measures = kb.measures_naming_platform(platform.id)
    return {"platform": {"id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
                         "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
                         "purpose": platform.purpose},
            "query": key, "total": len(measures), "groups": group_by_document(kb, measures, today)}


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


def topics_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/topics: the controlled topic list with measure counts."""
    items = [{"id": t.id, "label": t.label, "intent": t.intent,
              "measure_count": sum(1 for m in kb.measures if t.id in m.topics)} for t in kb.topics.values()]
    return {"total": len(items), "topics": items}


def beneficiaries_payload(kb: KnowledgeBase) -> dict[str, Any]:
    """GET /api/beneficiaries: the beneficiary groups the measures name, most frequent first."""
    counts: dict[str, int] = {}
    for measure in kb.measures:
        for name in measure.beneficiaries:
            counts[name] = counts.get(name, 0) + 1
    items = [{"name": name, "measure_count": count} for name, count in sorted(counts.items(), key=lambda kv: -kv[1])]
    return {"total": len(items), "beneficiaries": items}


def _sentence(text: str) -> str:
    """Text ending with a full stop (Chinese punctuation kept)."""
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "；", "：")) else text + "。"


def build_reply(kb: KnowledgeBase, measure: Measure, today: dt.date) -> str:
    """A short Chinese answer to paste, built from KB fields only."""
    citation, text = kb.citation(measure), measure.text.strip()
    if citation.endswith(measure.title) and text.startswith(measure.title + "。"):
        text = text[len(measure.title) + 1:].strip() or text  # the citation already names the title
    parts = [f"根据{citation}：{_sentence(text)}"]
    named = join_names(ref.as_written for ref in measure.agencies if not ref.inferred)
    inferred = join_names(agency_name(kb, ref) for ref in measure.agencies if ref.inferred)
    if named:
        parts.append(f"责任单位：{named}。")
    elif inferred:
        parts.append(f"责任单位：本条未单独列明（相关单位：{inferred}）。")
    platforms = platforms_text(measure)
    if platforms:
        parts.append(f"办理平台：{platforms}。")
    note = kb.validity_note(measure, today)
    if note:
        parts.append(_sentence(note))
    return "".join(parts)


def reply_payload(kb: KnowledgeBase, measure_id: str, today: dt.date) -> dict[str, Any]:
    """GET /api/reply/<id>: the paste-ready answer."""
    measure = find_measure(kb, measure_id)
    return {"id": measure.id, "citation": kb.citation(measure), "text": build_reply(kb, measure, today)}


def period_args(args: Mapping[str, Any]) -> tuple:
    """since/until of the report, validated."""
    since = date_param(args, "since")
    until = date_param(args, "until")
    if since and until and since > until:
        raise ApiError(400, "开始日期不能晚于结束日期")
    return since, until


# ---- auth ------------------------------------------------------------------------------------
def presented_token(headers: Mapping[str, str]) -> str | None:
    """The token a request carries: Authorization: Bearer … or X-Staff-Token."""
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = headers.get("x-staff-token")
    return token.strip() if token and token.strip() else None


def check_token(expected: str, presented: str | None) -> None:
    """Raise 503 when no token is configured, 401 when the presented one is missing or wrong."""
    if not expected:
        raise ApiError(503, "STAFF_TOKEN 未配置")
    if not presented or not hmac.compare_digest(_header_bytes(presented), expected.encode("utf-8")):
        raise ApiError(401, "未授权：请提供正确的工作人员口令")


def _header_bytes(value: str) -> bytes:
    """The raw bytes of a header value (servers decode header bytes as Latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


# ---- blueprint -------------------------------------------------------------------------------
def make_blueprint(name: str = "staff_api") -> Any:
    """The /api blueprint (a fresh one per app)."""
    from sanic import Blueprint, response

    bp = Blueprint(name, url_prefix="/api")

    def ok(data: Any, status: int = 200) -> Any:
        return response.json(data, status=status, dumps=dumps, content_type="application/json; charset=utf-8")

    def today_of(request: Any) -> dt.date:
        return date_param(request.args, "today") or dt.date.today()

    @bp.middleware("request")
    async def authenticate(request: Any) -> Any:
        try:
            check_token(request.app.ctx.settings.staff_token, presented_token(request.headers))
        except ApiError as err:
            if err.status == 401:
                logger.warning("staff API: rejected token for %s from %s", request.path, request.ip)
            headers = {"WWW-Authenticate": 'Bearer realm="staff"'} if err.status == 401 else None
            return response.json({"error": err.message, "status": err.status}, status=err.status, headers=headers,
                                 dumps=dumps, content_type="application/json; charset=utf-8")
        return None

    def kb_of(request: Any) -> KnowledgeBase:
        return request.app.ctx.kb

    @bp.get("/session")
    async def session(request: Any) -> Any:
        return ok({"status": "ok"})

    @bp.get("/search")
    async def search(request: Any) -> Any:
        return ok(search_payload(kb_of(request), request.args, today_of(request)))

    @bp.get("/measures/<measure_id:str>", unquote=True)
    async def measure(request: Any, measure_id: str) -> Any:
        return ok(measure_payload(kb_of(request), measure_id, today_of(request)))

    @bp.get("/reply/<measure_id:str>", unquote=True)
    async def reply(request: Any, measure_id: str) -> Any:
        return ok(reply_payload(kb_of(request), measure_id, today_of(request)))

    @bp.get("/agencies")
    async def agencies(request: Any) -> Any:
        return ok(agencies_payload(kb_of(request)))

    @bp.get("/agencies/<key:str>", unquote=True)
    async def agency(request: Any, key: str) -> Any:
        return ok(agency_payload(kb_of(request), key, today_of(request)))

    @bp.get("/platforms")
    async def platforms(request: Any) -> Any:
        return ok(platforms_payload(kb_of(request)))

    @bp.get("/platforms/<key:str>", unquote=True)
    async def platform(request: Any, key: str) -> Any:
        return ok(platform_payload(kb_of(request), key, today_of(request)))

    @bp.get("/figures")
    async def figures(request: Any) -> Any:
        region = text_param(request.args, "region")
        return ok(figures_payload(kb_of(request), today_of(request), resolve_region(region) if region else None))

    @bp.get("/topics")
    async def topics(request: Any) -> Any:
        return ok(topics_payload(kb_of(request)))

    @bp.get("/beneficiaries")
    async def beneficiaries(request: Any) -> Any:
        return ok(beneficiaries_payload(kb_of(request)))

    async def in_thread(func: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(func, *args))

    @bp.get("/report")
    async def unanswered(request: Any) -> Any:
        since, until = period_args(request.args)
        fmt = text_param(request.args, "format") or "json"
        if fmt not in ("json", "csv"):
            raise ApiError(400, "参数 format 只能是 json 或 csv")
        try:
            data = await in_thread(report_mod.unanswered_report, request.app.ctx.settings.tracker_db_url,
                                   kb_of(request), since, until)
        except report_mod.TrackerStoreError as err:
            raise ApiError(503, f"无法读取对话记录库：{err}") from None
        if fmt == "csv":
            name = f"unanswered-{dt.date.today():%Y%m%d}.csv"
            return response.raw(report_mod.csv_text(data).encode("utf-8"), content_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return ok(data)

    @bp.get("/conversations/<sender_id:path>", unquote=True)
    async def conversation(request: Any, sender_id: str) -> Any:
        if not sender_id or len(sender_id) > MAX_SENDER_ID_CHARS:
            raise ApiError(400, "会话编号无效")
        try:
            events = await in_thread(report_mod.conversation, request.app.ctx.settings.tracker_db_url, sender_id)
        except report_mod.TrackerStoreError as err:
            raise ApiError(503, f"无法读取对话记录库：{err}") from None
        if not events:
            raise ApiError(404, "未找到该会话")
        return ok({"sender_id": sender_id, "total": len(events), "events": events})

    @bp.route("/<rest:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(request: Any, rest: str) -> Any:
        raise ApiError(404, "没有这个接口")

    return bp
