"""End-to-end test of the web chat widget against the running stack (web server + Rasa + action server).

Flow: open the demo page, open the widget, ask a financing question, get an answer with a citation and a
measure card, expand the original text, click a quick reply, give feedback, reload (history and session are
kept), ask a follow-up, survive a dropped connection, and check the 375px phone layout.
Screenshots go to tests/artifacts/widget-*.png.
"""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.browser

CITATION = re.compile(r"沪府办发〔2024〕7号|沪知局〔2023〕9号|国知办发管字|大同市")
QUESTION = "专利质押贷款有贴息吗？"
FOLLOW_UP = "这项政策由哪个部门负责？"
BOT_TIMEOUT = 60_000  # ms; the first answer of a freshly started Rasa can be slow

BOT_TEXTS = ".ipw-msg--bot .ipw-msg-text"
USER_TEXTS = ".ipw-msg--user .ipw-msg-text"

# Point the embed snippet at the stack's Rasa (it runs on a free port, index.html names the default
# http://localhost:5005). The attribute is rewritten as the parser inserts the <script>, before the deferred
# script runs; the page itself is served untouched (a route-fulfilled document would lose its loopback
# address space and Chromium's local-network-access checks would then block the socket).
POINT_AT_RASA = """(() => {
  const url = %s;
  new MutationObserver((mutations, observer) => {
    for (const m of mutations) for (const node of m.addedNodes) {
      if (node.tagName === 'SCRIPT' && /\\/widget\\/embed(\\.min)?\\.js/.test(node.src || '')) {
        node.setAttribute('data-socket-url', url);
        observer.disconnect();
      }
    }
  }).observe(document, {childList: true, subtree: true});
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || ''));
  });
})();"""


def _base(url: str) -> str:
    return url.rstrip("/")


def _open_page(context, stack):
    from playwright.sync_api import expect

    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.add_init_script(script=POINT_AT_RASA % json.dumps(_base(stack.rasa_url)))
    page.goto(_base(stack.web_url) + "/")
    expect(page.locator(".ipw-launcher")).to_be_visible()
    return page, errors


def _last_bot_texts(page, count_before: int, timeout: int = BOT_TIMEOUT):
    """Wait until more bot bubbles than `count_before` exist and the typing indicator is gone."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n",
        arg=[BOT_TEXTS, count_before],
        timeout=timeout,
    )
    page.wait_for_timeout(800)  # let the rest of this turn's messages (cards, buttons) arrive
    return page.locator(BOT_TEXTS).all_inner_texts()[count_before:]


def _wait_for_citation(page, count_before: int) -> None:
    """Wait for a new bot bubble that cites one of the four documents."""
    page.wait_for_function(
        "([sel, n, re]) => Array.from(document.querySelectorAll(sel)).slice(n)"
        ".some((e) => new RegExp(re).test(e.textContent))",
        arg=[BOT_TEXTS, count_before, CITATION.pattern],
        timeout=BOT_TIMEOUT,
    )


def _shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"widget-{name}.png"))


def test_widget_conversation_flow(browser_context, stack, artifacts_dir):
    from playwright.sync_api import expect

    page, errors = _open_page(browser_context, stack)
    launcher = page.locator(".ipw-launcher")
    panel = page.locator(".ipw-panel")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    _shot(page, artifacts_dir, "01-page")

    # Keyboard: the launcher is a <button> reached with Tab, Enter opens, focus goes to the input.
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.classList.contains('ipw-launcher')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('ipw-launcher')"), "launcher not in Tab order"
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".ipw-title")).to_have_text("知识产权政策助手")
    expect(page.locator(".ipw-messages")).to_have_attribute("aria-live", "polite")
    textbox = page.get_by_role("textbox", name="输入您的问题")
    expect(textbox).to_be_focused()
    expect(textbox).to_have_attribute("placeholder", "请输入您的问题，例如：专利质押贷款有贴息吗？")
    expect(page.locator(".ipw-status")).to_be_hidden(timeout=20_000)  # connected, session confirmed
    session_id = page.evaluate("localStorage.getItem('ipw:session_id')")
    assert session_id, "session_confirm did not store a session id"

    # Ask; the typing indicator shows; a bot bubble with a citation arrives.
    bots_before = page.locator(BOT_TEXTS).count()
    textbox.fill(QUESTION)
    textbox.press("Enter")
    expect(page.locator(USER_TEXTS).last).to_have_text(QUESTION)
    expect(textbox).to_have_value("")
    try:
        _wait_for_citation(page, bots_before)
    except Exception:  # noqa: BLE001 - explain the usual cause
        said = page.locator(BOT_TEXTS).all_inner_texts()[bots_before:]
        hint = (
            " No bot_uttered reached the browser: the stock Rasa 3.6.21 socketio channel does not await"
            " enter_room (RasaHQ/rasa#13027), so with session_persistence the replies go to an empty room."
            if not said
            else ""
        )
        pytest.fail(f"no answer citing a policy document; bot said: {said}.{hint}")
    expect(page.locator(".ipw-typing")).to_be_hidden()

    # The kb_answer custom message renders as compact cards with a "查看原文" toggle.
    card = page.locator(".ipw-card").first
    expect(card).to_be_visible(timeout=10_000)
    expect(card.locator(".ipw-card-title")).not_to_be_empty()
    assert CITATION.search(card.locator(".ipw-card-cite").inner_text()), "card without a known citation"
    toggle = card.locator("button.ipw-toggle")
    expect(toggle).to_have_text("查看原文")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    text_block = card.locator(".ipw-card-text")
    expect(text_block).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("收起原文")
    expect(text_block).to_be_visible()
    assert len(text_block.inner_text().strip()) > 10, "original text is empty"
    _shot(page, artifacts_dir, "02-answer-card")

    # Quick replies / buttons: clicking sends the payload, shows the title, disables the group.
    chips = page.locator(".ipw-chips:not(.ipw-suggestions) .ipw-chip:enabled")
    try:
        chips.first.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 - turn the timeout into a readable failure
        said = page.locator(BOT_TEXTS).all_inner_texts()
        pytest.fail(f"the answer offered no quick-reply buttons; bot said: {said}")
    region_chip = chips.filter(has_text=re.compile("大同|上海|全国"))
    chip = region_chip.first if region_chip.count() else chips.first
    title = chip.inner_text().strip()
    group = chip.locator("xpath=..")
    bots_before = page.locator(BOT_TEXTS).count()
    users_before = page.locator(USER_TEXTS).count()
    chip.click()
    expect(page.locator(USER_TEXTS)).to_have_count(users_before + 1)
    expect(page.locator(USER_TEXTS).last).to_have_text(title)
    expect(group.locator(".ipw-chip:enabled")).to_have_count(0)
    new_texts = _last_bot_texts(page, bots_before)
    assert any(t.strip() for t in new_texts), "no bot reply after the quick reply"
    _shot(page, artifacts_dir, "03-quick-reply")

    # Feedback is silent: no user bubble, a thank-you note.
    feedback = page.locator(".ipw-feedback").last
    expect(feedback.get_by_role("button", name="有用")).to_be_visible()
    users_before = page.locator(USER_TEXTS).count()
    feedback.get_by_role("button", name="有用").click()
    expect(feedback).to_contain_text("感谢反馈")
    page.wait_for_timeout(1500)
    expect(page.locator(USER_TEXTS)).to_have_count(users_before)

    # Reload: the conversation and the session id survive.
    history_before = page.locator(".ipw-messages").inner_text()
    user_count = page.locator(USER_TEXTS).count()
    page.reload()
    expect(launcher).to_be_visible()
    if not panel.is_visible():
        launcher.click()
    expect(panel).to_be_visible()
    expect(page.locator(USER_TEXTS)).to_have_count(user_count)
    expect(page.locator(USER_TEXTS).first).to_have_text(QUESTION)
    expect(page.locator(BOT_TEXTS).filter(has_text=CITATION).first).to_be_visible()
    expect(page.locator(".ipw-card").first).to_be_visible()
    expect(page.locator(".ipw-feedback").last).to_contain_text("感谢反馈")
    assert page.evaluate("localStorage.getItem('ipw:session_id')") == session_id
    assert QUESTION in history_before
    expect(page.locator(".ipw-status")).to_be_hidden(timeout=20_000)
    _shot(page, artifacts_dir, "04-after-reload")

    # A follow-up after the reload is answered (the server keeps the context by session_id).
    bots_before = page.locator(BOT_TEXTS).count()
    textbox = page.get_by_role("textbox", name="输入您的问题")
    textbox.fill(FOLLOW_UP)
    textbox.press("Enter")
    new_texts = _last_bot_texts(page, bots_before)
    assert any(t.strip() for t in new_texts), "no answer after reload"

    # A dropped connection shows the notice, reconnects, and keeps the same session.
    page.evaluate("window.IPPolicyWidget.instance.socket.io.engine.close()")
    expect(page.locator(".ipw-status")).to_have_text("连接中断，正在重连…")
    expect(page.locator(".ipw-status")).to_be_hidden(timeout=20_000)
    assert page.evaluate("localStorage.getItem('ipw:session_id')") == session_id
    bots_before = page.locator(BOT_TEXTS).count()
    textbox.fill(QUESTION)
    textbox.press("Enter")
    _wait_for_citation(page, bots_before)
    page.wait_for_timeout(800)
    _shot(page, artifacts_dir, "05-after-reconnect")

    # Phone: under 480px the panel is full-screen and nothing overflows sideways.
    page.set_viewport_size({"width": 375, "height": 740})
    page.wait_for_timeout(300)
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375.5, box
    assert box["width"] >= 370, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740.5, box
    assert page.evaluate(
        "(() => { const l = document.querySelector('.ipw-messages'); return l.scrollWidth <= l.clientWidth + 1; })()"
    ), "message list scrolls sideways at 375px"
    for selector in (".ipw-close", ".ipw-input", ".ipw-send"):
        b = page.locator(selector).bounding_box()
        assert b and b["x"] >= 0 and b["x"] + b["width"] <= 375.5, (selector, b)
    _shot(page, artifacts_dir, "06-phone-375")

    # The full-screen panel keeps Tab inside it.
    page.locator(".ipw-close").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('.ipw-panel')"), "Tab left the full-screen panel"

    # Esc closes the panel and gives focus back to the launcher.
    page.get_by_role("textbox", name="输入您的问题").focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    _shot(page, artifacts_dir, "07-phone-closed")

    assert page.evaluate("window.__cspViolations") == [], "Content-Security-Policy violations"
    assert errors == [], errors
