"""The staff desk in a real browser (Debian's chromium driven by Playwright for Python).

Uses the `stack` fixture (tests/conftest.py) when there is one; otherwise it starts `python -m webapp`
itself on a free port, with a tracker store written by Rasa's SQLTrackerStore (see tests/webapp/reporting/test_report.py).
Screenshots go to tests/artifacts/staff-*.png.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from settings import PROJECT_ROOT as ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
OUT_OF_SCOPE_QUESTION = "研发费用加计扣除怎么申请？"


def _require_chromium() -> None:
    """Skip when chromium is missing on a developer machine; in CI (env CI set) that is a failure."""
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} not found (apt-get install -y chromium fonts-wqy-microhei)"
    if os.environ.get("CI"):
        pytest.fail(reason + " — required in CI", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("web server did not become healthy")


def _seed_tracker_store(db: Path) -> None:
    """The conversations of tests/webapp/reporting/test_report.py, moved to the last hours, for the report view."""
    from tests.webapp.reporting.test_report import CONVERSATIONS, save_conversations

    now = time.time()
    recent = [(sender, now - 3600 * (len(CONVERSATIONS) - i), turns) for i, (sender, _, turns) in enumerate(CONVERSATIONS)]
    save_conversations(db, recent)


@pytest.fixture(scope="module")
def desk(request, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """web_url and staff_token of a running web server (the stack's, or one started here)."""
    try:
        stack = request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        stack = None
    if stack is not None:
        import requests

        requests.post(f"{stack.rasa_url.rstrip('/')}/webhooks/rest/webhook",
                      json={"sender": f"staff-browser-{uuid.uuid4().hex[:8]}", "message": OUT_OF_SCOPE_QUESTION},
                      timeout=60)
        yield SimpleNamespace(web_url=stack.web_url.rstrip("/"), staff_token=stack.staff_token)
        return
    db = tmp_path_factory.mktemp("staff-desk") / "rasa.db"
    _seed_tracker_store(db)
    port = _free_port()
    token = secrets.token_hex(16)
    env = {**os.environ, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "STAFF_TOKEN": token,
           "TRACKER_DB_URL": f"sqlite:///{db}", "LOG_LEVEL": "WARNING"}
    url = f"http://127.0.0.1:{port}"
    with open(db.parent / "web.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "webapp"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            _wait_healthy(url, proc)
            yield SimpleNamespace(web_url=url, staff_token=token)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, desk):
    """A fresh context (empty sessionStorage) with clipboard access, collecting page errors."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=desk.web_url)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("console", lambda msg: pg.errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        yield pg
    finally:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=False)


def login(page, desk) -> None:
    from playwright.sync_api import expect

    page.goto(desk.web_url + "/staff/")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-token", desk.staff_token)
    page.click("#login-submit")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#results .result").first).to_be_visible()


def test_login_search_filter_detail_and_copy(page, desk):
    from playwright.sync_api import expect

    page.goto(desk.web_url + "/staff/")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    # Without the token the data calls fail.
    assert page.evaluate("fetch('/api/search?q=' + encodeURIComponent('贴息')).then(r => r.status)") == 401
    page.fill("#login-token", "wrong-token")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("口令错误")
    shot(page, "login")

    page.fill("#login-token", desk.staff_token)
    page.click("#login-submit")
    expect(page.locator("#app")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('staffToken')") == desk.staff_token

    page.fill("#q", "质押贷款贴息")
    page.press("#q", "Enter")
    first = page.locator("#results .result").first
    expect(first).to_contain_text("落实知识产权质押贷款贴息")
    expect(first).to_contain_text("沪府办发〔2024〕7号")
    expect(first).to_contain_text("市知识产权局")

    page.select_option("#f-region", "大同")
    expect(page.locator("#result-count")).to_contain_text("相关条目")
    expect(page.locator("#results .result").first).to_contain_text("大同")
    badges = page.locator("#results .result .result-title .badge").all_inner_texts()
    assert badges and set(badges) == {"大同"}
    page.select_option("#f-region", "上海")
    expect(page.locator("#results .result").first).to_contain_text("落实知识产权质押贷款贴息")
    assert set(page.locator("#results .result .result-title .badge").all_inner_texts()) == {"上海"}

    page.locator("#results .result").first.click()
    expect(page.locator("#detail-title")).to_have_text("落实知识产权质押贷款贴息、保险贴费、担保贴补政策")
    expect(page.locator("#verbatim")).to_contain_text("落实知识产权质押贷款贴息、保险贴费、担保贴补政策")
    expect(page.locator("#detail .section-path")).to_contain_text("六、推动知识产权金融工作提质增效")
    expect(page.locator("#detail")).to_contain_text("同一单位的其他条目")
    assert "#/measure/shgov-26" in page.url

    page.click("#copy-reply")
    expect(page.locator("#detail .copy-status")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("根据《上海市专利转化运用专项行动实施方案》（沪府办发〔2024〕7号）第(二十六)项：")
    assert "责任单位：市知识产权局、各区政府。" in copied
    shot(page, "search")

    # A measure with figures: the 300 亿元 target (deadline 2025年底) is shown with its status.
    page.goto(desk.web_url + "/staff/#/measure/shgov-25")
    expect(page.locator("#detail")).to_contain_text("300")
    expect(page.locator("#detail")).to_contain_text("数字与期限")
    shot(page, "detail-figures")
    assert not page.errors, page.errors


def test_copy_falls_back_to_a_textarea(page, desk):
    from playwright.sync_api import expect

    page.add_init_script("""
      Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => Promise.reject(new Error('denied'))}});
      window.__copied = null;
      const exec = document.execCommand.bind(document);
      document.execCommand = (cmd, ...rest) => {
        if (cmd === 'copy') { window.__copied = document.activeElement && document.activeElement.value; }
        return exec(cmd, ...rest);
      };
    """)
    login(page, desk)
    page.goto(desk.web_url + "/staff/#/measure/shipa-12")
    expect(page.locator("#detail-title")).to_have_text("拓展知识产权运营服务")
    page.click("#copy-reply")
    expect(page.locator("#detail .copy-status")).to_have_text("已复制")
    copied = page.evaluate("window.__copied")
    assert copied and "沪知局〔2023〕9号" in copied and "上海知识产权交易中心" in copied


def test_agency_platform_figures_and_report_views(page, desk):
    from playwright.sync_api import expect

    login(page, desk)
    page.click(".tabs a[data-view=agencies]")
    page.fill("#agency-filter", "市知识产权局")
    page.locator("#agency-list button", has_text="上海市知识产权局").click()
    expect(page.locator("#agency-title")).to_have_text("上海市知识产权局")
    expect(page.locator("#agency-detail")).to_contain_text("上海市专利转化运用专项行动实施方案")
    expect(page.locator("#agency-detail")).to_contain_text("沪府办发〔2024〕7号 第(三十)项")
    shot(page, "agency")

    page.click(".tabs a[data-view=platforms]")
    page.locator("#platform-list button", has_text="上海知识产权交易中心").click()
    expect(page.locator("#platform-title")).to_have_text("上海知识产权交易中心")
    expect(page.locator("#platform-detail")).to_contain_text("拓展知识产权运营服务")
    shot(page, "platform")

    page.click(".tabs a[data-view=figures]")
    row = page.locator("#figures-table tbody tr", has_text="300亿元")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已过期")
    shot(page, "figures")

    page.click(".tabs a[data-view=report]")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#report-summary")).to_contain_text("个未答复问题")
    expect(page.locator("#report-table")).to_contain_text(OUT_OF_SCOPE_QUESTION)
    page.locator("#report-table tr", has_text=OUT_OF_SCOPE_QUESTION).first.locator(".open-transcript").click()
    expect(page.locator("#transcript")).to_be_visible()
    expect(page.locator("#transcript-body")).to_contain_text(OUT_OF_SCOPE_QUESTION)
    shot(page, "report")
    page.keyboard.press("Escape")
    expect(page.locator("#transcript")).to_be_hidden()
    assert not page.errors, page.errors


def test_laptop_layout(browser, desk):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        pg = context.new_page()
        login(pg, desk)
        pg.locator("#results .result").first.click()
        expect(pg.locator("#detail-title")).to_be_visible()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366  # no horizontal scrolling on a laptop
        shot(pg, "laptop")
    finally:
        context.close()


def test_logout_and_bad_token_show_the_login_again(page, desk):
    from playwright.sync_api import expect

    login(page, desk)
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('staffToken')") is None
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()

    # A stale token in sessionStorage: the first data call gets 401 and the login comes back.
    page.evaluate("sessionStorage.setItem('staffToken', 'stale-token')")
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("口令无效或已失效")
    assert page.evaluate("sessionStorage.getItem('staffToken')") is None
    status = page.evaluate("fetch('/api/topics', {headers: {Authorization: 'Bearer stale-token'}}).then(r => r.status)")
    assert status == 401
    shot(page, "relogin")


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Kiritimati"])
def test_report_defaults_to_the_last_30_beijing_days_in_any_time_zone(browser, desk, zone):
    """The report counts Beijing days; its default period ends today in Beijing, not in the browser's zone."""
    import datetime as dt

    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id=zone)
    try:
        pg = context.new_page()
        login(pg, desk)
        pg.click(".tabs a[data-view=report]")
        beijing_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        expect(pg.locator("#r-until")).to_have_value(beijing_today.isoformat())
        expect(pg.locator("#r-since")).to_have_value((beijing_today - dt.timedelta(days=29)).isoformat())
    finally:
        context.close()
