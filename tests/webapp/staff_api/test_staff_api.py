"""The staff desk's JSON API, served in-process through Sanic's ASGI interface.

sanic-testing is not in requirements.lock, so the tests drive the app with a minimal ASGI client
(lifespan start-up, then one HTTP request per call): the same path Sanic's own asgi_client takes.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote, unquote, urlsplit

import pytest


from policies_kb import load_kb
from settings import get_settings, PROJECT_ROOT as ROOT
from webapp import create_app


TOKEN = "test-staff-token-ü"  # non-ASCII on purpose: compared as UTF-8 bytes
AUTH = {"Authorization": "Bearer " + TOKEN}
TODAY = "2026-11-21"


class Response:
    """Status, headers (lower-case names) and body of one response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


class AsgiClient:
    """Run the Sanic app's ASGI lifespan once, then send requests through app(scope, receive, send)."""

    def __init__(self, app) -> None:
        from sanic import Sanic

        # As sanic-testing does: lets several apps start in one process (Sanic 21.12's TouchUp
        # rewrites protocol methods on start-up and can only redo that from the originals in test mode).
        Sanic.test_mode = True
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        self._lifespan: asyncio.Queue = asyncio.Queue()
        started = asyncio.Event()

        async def send(message):
            if message["type"] == "lifespan.startup.complete":
                started.set()

        await self._lifespan.put({"type": "lifespan.startup"})
        self._task = asyncio.ensure_future(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, self._lifespan.get, send))
        await asyncio.wait_for(started.wait(), 120)

    def close(self) -> None:
        async def stop():
            await self._lifespan.put({"type": "lifespan.shutdown"})
            # Sanic 21.12 ends its lifespan call with an AttributeError (it treats it as a request).
            await asyncio.wait([self._task], timeout=10)
            if self._task.done() and not self._task.cancelled():
                self._task.exception()  # retrieved, so asyncio does not log it

        self.loop.run_until_complete(stop())
        self.loop.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        return self.loop.run_until_complete(self._request("GET", url, headers or {}))

    async def _request(self, method: str, url: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(url)
        all_headers = {"host": "testserver", **headers}
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": unquote(parts.path), "raw_path": parts.path.encode("ascii"), "root_path": "",
            "query_string": parts.query.encode("ascii"), "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
            "headers": [(k.lower().encode("latin-1"), v.encode("utf-8")) for k, v in all_headers.items()],
        }
        done = False

        async def receive():
            nonlocal done
            if not done:
                done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(3600)

        result = {"status": None, "headers": {}, "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
                result["headers"] = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                result["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return Response(result["status"], result["headers"], result["body"])


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.fixture(scope="module")
def client(kb, tmp_path_factory):
    db = tmp_path_factory.mktemp("trackers") / "empty.db"
    settings = get_settings({"STAFF_TOKEN": TOKEN, "TRACKER_DB_URL": f"sqlite:///{db}"})
    c = AsgiClient(create_app(kb=kb, settings=settings))
    yield c
    c.close()


def api(client: AsgiClient, path: str, **params) -> Response:
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return client.get(path + ("?" + query if query else ""), AUTH)


# ---- search ----------------------------------------------------------------------------------
def test_search_ranks_pledge_loan_subsidy_first(client):
    resp = api(client, "/api/search", q="质押贷款贴息")
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert "质押" in resp.text  # ensure_ascii=False: Chinese is not \u-escaped
    data = resp.json()
    assert data["mode"] == "search"
    first = data["results"][0]
    assert first["id"] == "shgov-26"
    assert "沪府办发〔2024〕7号" in first["citation"]
    assert first["short_citation"] == "沪府办发〔2024〕7号 第(二十六)项"
    assert first["region"] == "上海" and first["document"] == "shanghai-gov-2024-7"
    assert first["article"] == "(二十六)" and first["section_path"]
    assert {"name": "市知识产权局", "full_name": "上海市知识产权局", "inferred": False}.items() <= first["agencies"][0].items()
    assert first["score"] > 0
    assert first["validity_status"] in ("in_force", "targets_future", "targets_past", "expired")
    for key in ("platforms", "topics", "beneficiaries"):
        assert isinstance(first[key], list)


def test_filter_without_query_by_region_and_validity(client, kb):
    data = api(client, "/api/search", region="大同").json()
    assert data["mode"] == "filter"
    assert data["total"] == len([m for m in kb.measures if m.document_id == "datong-2023-zjtx"])
    assert {r["region"] for r in data["results"]} == {"大同"}
    old = api(client, "/api/search", validity="历史文件").json()
    assert old["total"] > 0 and {r["document"] for r in old["results"]} == {"cnipa-2017-30"}
    past = api(client, "/api/search", validity="目标期限已过", today=TODAY).json()
    assert "shgov-25" in {r["id"] for r in past["results"]}
    assert {r["validity_status"] for r in past["results"]} == {"targets_past"}


def test_filters_combine_with_query(client):
    data = api(client, "/api/search", q="专利导航", region="上海").json()
    assert data["results"] and {r["region"] for r in data["results"]} == {"上海"}
    by_topic = api(client, "/api/search", topic="financing").json()
    assert by_topic["results"] and all(any(t["id"] == "financing" for t in r["topics"]) for r in by_topic["results"])
    by_agency = api(client, "/api/search", agency="市教委").json()
    assert by_agency["filters"]["agency"] == "sh-edu" and by_agency["total"] > 0
    by_platform = api(client, "/api/search", platform="上海知识产权交易中心").json()
    assert [r["id"] for r in by_platform["results"]] == ["shipa-12"]
    by_beneficiary = api(client, "/api/search", beneficiary="医疗卫生机构").json()
    assert by_beneficiary["total"] > 0
    assert all(any("医疗卫生机构" in b for b in r["beneficiaries"]) for r in by_beneficiary["results"])
    limited = api(client, "/api/search", limit=3).json()
    assert len(limited["results"]) == 3 and limited["total"] > 3


def test_search_reads_traditional_script_and_typos_like_simplified(client):
    simplified = [r["id"] for r in api(client, "/api/search", q="质押贷款贴息").json()["results"][:3]]
    for typed in ("質押貸款貼息", "质压贷款贴息"):
        assert [r["id"] for r in api(client, "/api/search", q=typed).json()["results"][:3]] == simplified


@pytest.mark.parametrize("params, fragment", [
    ({"q": "专" * 600}, "q"),
    ({"limit": "abc"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"region": "北京"}, "地区"),
    ({"topic": "nonsense"}, "主题"),
    ({"agency": "不存在的单位甲乙"}, "单位"),
    ({"platform": "不存在的平台甲乙"}, "平台"),
    ({"validity": "永久"}, "有效性"),
    ({"today": "2026-13-01"}, "today"),
])
def test_bad_search_parameters_are_400_with_chinese_message(client, params, fragment):
    resp = api(client, "/api/search", **params)
    assert resp.status == 400
    body = resp.json()
    assert fragment in body["error"] and body["status"] == 400


NASTY = ["", " ", "%00", "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "😀" * 30, "\u202e反转", "../../etc/passwd",
         "a" * 101, "%", "%%", "1e9", "-1", "上海 大同", "现行\n"]


@pytest.mark.parametrize("param", ["q", "region", "topic", "agency", "platform", "beneficiary", "validity", "limit",
                                   "today"])
def test_nasty_parameters_never_give_500(client, param):
    for value in NASTY:
        resp = client.get(f"/api/search?{param}={quote(value)}", AUTH)
        assert resp.status in (200, 400), (param, value, resp.status, resp.text)
        assert resp.json()


def test_nasty_path_segments_never_give_500(client):
    for base in ("/api/measures/", "/api/reply/", "/api/agencies/", "/api/platforms/", "/api/conversations/"):
        for value in NASTY[2:]:
            resp = client.get(base + quote(value, safe=""), AUTH)
            assert resp.status in (200, 400, 404), (base, value, resp.status, resp.text)
    for query in ("since=x", "until=2026-02-30", "since=2026-11-01&until=" + "9" * 50, "format=" + quote("😀")):
        assert client.get("/api/report?" + query, AUTH).status == 400, query


# ---- measures, reply ---------------------------------------------------------------------------
def test_measure_detail_has_text_figures_and_related(client, kb):
    data = api(client, "/api/measures/shgov-25", today=TODAY).json()
    assert data["text"] == kb.get("shgov-25").text
    assert data["validity_status"] == "targets_past" and "已过" in data["validity_note"]
    target = next(t for t in data["targets"] if t["value"] == "300")
    assert target["unit"] == "亿元" and target["status"] == "past" and target["deadline"] == "2025-12-31"
    assert data["deadlines"] and data["document_info"]["doc_number"] == "沪府办发〔2024〕7号"
    related = {g["id"]: g for g in data["related"]["agencies"]}
    assert "sh-ipa" in related and related["sh-ipa"]["count"] >= 50
    assert "shgov-25" not in {m["id"] for m in related["sh-ipa"]["measures"]}
    platform = api(client, "/api/measures/shipa-12").json()
    groups = {g["id"]: g for g in platform["related"]["platforms"]}
    assert "sh-ip-exchange" in groups


def test_unknown_measure_is_404(client):
    for path in ("/api/measures/shgov-999", "/api/reply/nope", "/api/measures/" + quote("不存在"), "/api/nothing-here"):
        resp = client.get(path, AUTH)
        assert resp.status == 404, path
        assert resp.json()["status"] == 404


def test_reply_is_ready_to_paste(client):
    data = api(client, "/api/reply/shgov-26").json()
    text = data["text"]
    assert text.startswith("根据《上海市专利转化运用专项行动实施方案》（沪府办发〔2024〕7号）第(二十六)项：")
    assert "质押贷款贴息" in text and "责任单位：市知识产权局、各区政府。" in text
    shipa = api(client, "/api/reply/shipa-12").json()["text"]
    assert "沪知局〔2023〕9号" in shipa and "办理平台：上海知识产权交易中心" in shipa
    assert "本条未单独列明" in shipa  # the agency is inferred, and the reply says so
    expired = api(client, "/api/reply/cnipa-procedure-2").json()["text"]
    assert "国知办发管字〔2017〕30号" in expired and "历史参考" in expired
    datong = api(client, "/api/reply/datong-1").json()["text"]
    assert "大同市市场监督管理局" in datong and "2023年1月17日" in datong  # no 文号: issuers and date


# ---- agencies, platforms ---------------------------------------------------------------------
def test_agency_view_for_city_ip_office_lists_all_shgov_and_shipa(client, kb):
    data = client.get("/api/agencies/" + quote("市知识产权局"), AUTH).json()
    assert data["agency"]["id"] == "sh-ipa"
    groups = {g["document"]["id"]: [m["id"] for m in g["measures"]] for g in data["groups"]}
    assert groups["shanghai-gov-2024-7"] == [f"shgov-{i}" for i in range(1, 31)]
    assert len(groups["shanghai-ipa-2023-9"]) >= 20 and "shipa-12" in groups["shanghai-ipa-2023-9"]
    assert data["total"] == sum(len(v) for v in groups.values())
    by_id = client.get("/api/agencies/sh-ipa", AUTH).json()
    assert by_id["total"] == data["total"]


def test_agency_view_for_market_regulation_lists_datong(client, kb):
    data = client.get("/api/agencies/" + quote("市场监管部门"), AUTH).json()
    assert data["agency"]["name"] == "大同市市场监督管理局"
    assert [g["document"]["id"] for g in data["groups"]] == ["datong-2023-zjtx"]
    ids = [m["id"] for m in data["groups"][0]["measures"]]
    assert {"datong-6", "datong-7", "datong-9"} <= set(ids)


def test_agency_and_platform_lists(client, kb):
    agencies = api(client, "/api/agencies").json()
    assert agencies["total"] == len(kb.agencies)
    assert next(a for a in agencies["agencies"] if a["id"] == "sh-ipa")["measure_count"] >= 50
    platforms = api(client, "/api/platforms").json()
    assert platforms["total"] == len(kb.platforms)
    assert client.get("/api/agencies/" + quote("没有这个单位甲乙丙"), AUTH).status == 404
    assert client.get("/api/platforms/" + quote("没有这个平台甲乙丙"), AUTH).status == 404


def test_platform_view_for_shanghai_ip_exchange(client):
    data = client.get("/api/platforms/" + quote("上海知识产权交易中心"), AUTH).json()
    assert data["platform"]["id"] == "sh-ip-exchange"
    assert [m["id"] for g in data["groups"] for m in g["measures"]] == ["shipa-12"]
    assert data["groups"][0]["document"]["doc_number"] == "沪知局〔2023〕9号"


# ---- figures, topics ----------------------------------------------------------------------------
def test_figures_have_300_billion_target_past(client):
    data = api(client, "/api/figures", today=TODAY).json()
    item = next(f for f in data["figures"] if f["value"] == "300" and f["unit"] == "亿元")
    assert item["measure_id"] == "shgov-25" and item["status"] == "past" and item["deadline"] == "2025-12-31"
    assert "300亿元" in item["quote"] and "沪府办发〔2024〕7号" in item["citation"]
    assert data["counts"]["past"] > 0
    earlier = api(client, "/api/figures", today="2025-01-01").json()
    assert next(f for f in earlier["figures"] if f["value"] == "300")["status"] == "future"
    assert any(p["label"] == "申报截止" and p["status"] == "past" for p in data["periods"])


def test_topics_and_beneficiaries(client, kb):
    topics = api(client, "/api/topics").json()["topics"]
    assert {t["id"] for t in topics} == set(kb.topics)
    assert next(t for t in topics if t["id"] == "financing")["measure_count"] > 0
    beneficiaries = api(client, "/api/beneficiaries").json()["beneficiaries"]
    assert beneficiaries[0]["name"] == "中小企业"


def test_report_on_empty_store_is_empty_not_500(client):
    data = api(client, "/api/report", since="2026-11-01", until="2026-11-30").json()
    assert data["total"] == 0 and data["groups"] == []
    assert api(client, "/api/report", since="2026-11-31").status == 400
    assert api(client, "/api/report", since="2026-11-30", until="2026-11-01").status == 400
    assert api(client, "/api/report", format="xml").status == 400
    assert client.get("/api/conversations/nobody", AUTH).status == 404


# ---- auth ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/search?q=x", "/api/measures/shgov-26", "/api/agencies", "/api/figures",
                                  "/api/report", "/api/conversations/abc", "/api/nothing-here"])
def test_no_token_is_401(client, path):
    resp = client.get(path)
    assert resp.status == 401
    assert resp.json()["error"].startswith("未授权")
    assert resp.headers.get("www-authenticate", "").startswith("Bearer")


def test_wrong_token_is_401_and_both_headers_work(client):
    assert client.get("/api/topics", {"Authorization": "Bearer wrong"}).status == 401
    assert client.get("/api/topics", {"X-Staff-Token": "wrong"}).status == 401
    assert client.get("/api/topics", {"Authorization": "Basic " + TOKEN}).status == 401
    assert client.get("/api/topics", {"X-Staff-Token": TOKEN}).status == 200
    assert client.get("/api/topics", {"Authorization": "bearer " + TOKEN}).status == 200


def test_unset_token_refuses_everything_with_503(kb):
    c = AsgiClient(create_app(kb=kb, settings=get_settings({})))
    try:
        for headers in ({}, AUTH, {"Authorization": "Bearer "}):
            resp = c.get("/api/search?q=x", headers)
            assert resp.status == 503
            assert resp.json()["error"] == "STAFF_TOKEN 未配置"
        assert c.get("/healthz").json() == {"status": "ok"}
    finally:
        c.close()


# ---- pages -----------------------------------------------------------------------------------
def test_pages_and_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    staff = client.get("/staff/")
    assert staff.status == 200 and "text/html" in staff.headers["content-type"]
    assert "知识产权政策查询台" in staff.text
    assert "default-src 'self'" in staff.headers["content-security-policy"]
    assert client.get("/staff").status in (301, 302)
    assert client.get("/staff/staff.js").headers["content-type"].startswith("application/javascript")
    assert client.get("/staff/staff.css").headers["content-type"].startswith("text/css")
    for path in ("/staff/../api.py", "/staff/%2e%2e/api.py", "/widget/../../settings.py", "/staff/.hidden",
                 "/vendor/socket.io/../../package.json"):
        assert client.get(path).status == 404, path
    index = ROOT / "webapp" / "static" / "index.html"
    assert client.get("/").status == (200 if index.exists() else 404)
    widget = ROOT / "webapp" / "static" / "widget"
    for asset in sorted(widget.glob("*.js"))[:1]:
        assert client.get("/widget/" + asset.name).status == 200
    dist = ROOT / "webapp" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    if dist.exists():
        assert client.get("/vendor/socket.io/socket.io.min.js").status == 200
