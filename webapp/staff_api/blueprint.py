"""The /api Sanic blueprint: parses the request, checks the staff token and runs the payload builders."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from typing import Any

from policies_kb import KnowledgeBase

from .. import reporting
from .auth import check_token, presented_token
from .lookups import resolve_region
from .measures import figures_payload, measure_payload
from .params import MAX_SENDER_ID_CHARS, date_param, period_args, text_param
from .registries import agencies_payload, agency_payload, beneficiaries_payload, platform_payload, platforms_payload, topics_payload
from .reply import reply_payload
from .responses import ApiError, dumps
from .search import search_payload

logger = logging.getLogger(__name__)


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
            data = await in_thread(reporting.unanswered_report, request.app.ctx.settings.tracker_db_url,
                                   kb_of(request), since, until)
        except reporting.TrackerStoreError as err:
            raise ApiError(503, f"无法读取对话记录库：{err}") from None
        if fmt == "csv":
            name = f"unanswered-{dt.date.today():%Y%m%d}.csv"
            return response.raw(reporting.csv_text(data).encode("utf-8"), content_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return ok(data)

    @bp.get("/conversations/<sender_id:path>", unquote=True)
    async def conversation(request: Any, sender_id: str) -> Any:
        if not sender_id or len(sender_id) > MAX_SENDER_ID_CHARS:
            raise ApiError(400, "会话编号无效")
        try:
            events = await in_thread(reporting.conversation, request.app.ctx.settings.tracker_db_url, sender_id)
        except reporting.TrackerStoreError as err:
            raise ApiError(503, f"无法读取对话记录库：{err}") from None
        if not events:
            raise ApiError(404, "未找到该会话")
        return ok({"sender_id": sender_id, "total": len(events), "events": events})

    @bp.route("/<rest:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(request: Any, rest: str) -> Any:
        raise ApiError(404, "没有这个接口")

    return bp
