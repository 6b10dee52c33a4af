"""Property-based input tests (hypothesis) against the running assistant (`stack`).

REST, socket.io and the signed WeChat webhook get empty and whitespace-only messages, 100,000
characters, emoji, control characters, mixed scripts, lone surrogates, slash commands, malformed
JSON and XML, and wrong content types. Required: no 5xx, every request answered in bounded time,
and afterwards each channel still answers a normal question with cited measures.
"""

from __future__ import annotations

import json
import string
import threading
import time
import uuid
from typing import Any

import pytest
import requests
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

QUESTION = "专利质押贷款有贴息吗？"
FUZZ_SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=False,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])
REQUEST_TIMEOUT = 60.0  # a turn with a 2,000-character message takes ~1 s; 60 s means a hang
WECHAT_TIMEOUT = 10.0  # WeChat gives 5 s; the channel answers within WECHAT_REPLY_TIMEOUT (4 s)

SPECIAL_TEXTS = [
    "", " ", "   \t\n\r  ", "\u3000\u3000", "\u200b\u200b\u200b",
    "专" * 100_000, "a" * 100_000, "专利 " * 20_000,
    "😀" * 3_000, "👨‍👩‍👧‍👦🇨🇳🏳️‍🌈" * 200, "专利😀质押💰贷款🏦",
    "\x00", "\x00\x01\x02\x03\x1b[31m专利质押\x7f\x9f", "专利\r\n质押\v\f贷款",
    "\u202e专利质押\u202d贷款", "\ufeff专利", "\ud800", "专利\udfff质押",
    "Patent 专利 патент براءة 特許 특허 पेटेंट ප්‍රකාශ", "ＰＡＴＥＮＴ　专利（全角）",
    "/restart", "/session_start", '/ask_other_region{"region":"大同"}', "/ask_financing{bad json",
    "/nonexistent_intent", "/feedback_helpful", "<script>alert(1)</script>", "{{7*7}}${7*7}",
    "' OR 1=1; DROP TABLE events; --", "%00%0d%0a", "\\u0000", "更多", "1", "99",
]

texts = st.one_of(
    st.sampled_from(SPECIAL_TEXTS),
    st.text(max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=60),
    st.text(alphabet=st.characters(whitelist_categories=("Cc", "Cf", "Zs", "So", "Sk")), max_size=40),
)
senders = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=24).map(lambda s: "fz-" + s),
    st.sampled_from(["", " ", "x" * 300, "a\x00b", "发送者", "😀", "\ud800", "../../etc/passwd"]),
    st.integers(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=gbk", "text/plain",
    "application/xml", "text/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
    "application/octet-stream", "", "*/*",
])
malformed_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"", b"{", b"}", b'{"sender":', b'{"sender": "a", "message": "b"', b"null", b"[]", b"0",
                     b'"text"', b"\xff\xfe\x00", b'{"sender":"a","message":"\xff\xfe"}', b"<xml><a>",
                     b"sender=a&message=b", b'{"sender":"a","message":"b"}' * 3, b"\x00" * 64]),
)


def well_formed(sender: Any, text: str) -> dict[str, Any]:
    """A REST body as the API expects it."""
    return {"sender": sender, "message": text}


rest_bodies = st.one_of(
    st.builds(well_formed, senders, texts),
    st.fixed_dictionaries({}, optional={"sender": senders | json_values, "message": texts | json_values,
                                        "metadata": json_values, "input_channel": json_values}),
    json_values,
)
rest_requests = st.one_of(
    st.tuples(st.just("json"), rest_bodies, content_types),
    st.tuples(st.just("raw"), malformed_bytes, content_types),
)


@pytest.fixture(scope="module")
def hardened(stack: Any) -> Any:
    """The stack, after checking it runs the hardened channels (otherwise one 100,000-character
    message keeps Rasa busy for minutes, and malformed REST bodies give 500)."""
    guard = requests.get(f"{stack.rasa_url}/webhooks/guard/", timeout=10)
    empty = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=b"", timeout=10)
    if guard.status_code != 200 or empty.status_code >= 500:
        pytest.fail("the stack runs Rasa's stock REST channel (empty body → "
                    f"{empty.status_code}) or no readiness probe: credentials.yml must name connectors.rest.SafeRestInput, "
                    "connectors.socketio.SafeSocketIOInput and rasa_runtime.readiness.ReadinessChannel")
    return stack


def answers_normally(stack: Any) -> None:
    """A normal question still gets cited measures over REST."""
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                             json={"sender": f"after-{uuid.uuid4().hex[:8]}", "message": QUESTION}, timeout=60)
    assert response.status_code == 200
    assert any((m.get("custom") or {}).get("type") == "kb_answer" for m in response.json()), response.text[:500]


# --------------------------------------------------------------------------------------- input rules


@FUZZ_SETTINGS
@given(text=texts | st.text(max_size=3000), limit=st.integers(min_value=1, max_value=2500))
def test_clean_text_is_bounded_storable_and_printable(text: str, limit: int) -> None:
    """What SafeRestInput/SafeSocketIOInput pass to NLU: ≤ limit characters, valid UTF-8, no C0/C1
    control characters except newline and tab."""
    from connectors.input_rules import clean_text

    cleaned = clean_text(text, limit)
    assert len(cleaned) <= limit
    cleaned.encode("utf-8")  # no lone surrogates
    assert all(ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in cleaned)


@FUZZ_SETTINGS
@given(sender=senders | json_values)
def test_valid_sender_fits_the_tracker_store(sender: Any) -> None:
    """Accepted sender ids fit VARCHAR(255), encode as UTF-8 and contain no NUL/control characters."""
    from connectors.input_rules import valid_sender

    result = valid_sender(sender)
    if result is not None:
        assert 1 <= len(result) <= 255 and result.isprintable()
        result.encode("utf-8")


# --------------------------------------------------------------------------------------- REST


@pytest.mark.stack
def test_rest_webhook_survives_arbitrary_input(hardened: Any) -> None:
    """POST /webhooks/rest/webhook: never a 5xx, never a hang; normal service afterwards."""
    url = f"{hardened.rasa_url}/webhooks/rest/webhook"

    @FUZZ_SETTINGS
    @given(request=rest_requests)
    def property_(request: tuple[str, Any, str]) -> None:
        kind, body, content_type = request
        data = json.dumps(body).encode("utf-8") if kind == "json" else body
        headers = {"Content-Type": content_type} if content_type else {}
        started = time.monotonic()
        response = requests.post(url, data=data, headers=headers, timeout=REQUEST_TIMEOUT)
        assert response.status_code < 500, (response.status_code, response.text[:300])
        assert time.monotonic() - started < REQUEST_TIMEOUT
        if response.status_code == 200:
            assert isinstance(response.json(), list)

    property_()
    answers_normally(hardened)


# --------------------------------------------------------------------------------------- socket.io


socketio_events = st.one_of(
    st.builds(lambda session, text: {"session_id": session, "message": text},
              st.one_of(st.just("fuzz-session"), senders, json_values), texts),
    st.fixed_dictionaries({}, optional={"session_id": json_values, "message": json_values | texts,
                                        "metadata": json_values | st.text(max_size=30)}),
    json_values,
)


class SocketClient:
    """A python-socketio client (long-polling) that reconnects when the server drops it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client: socketio.Client | None = None
        self.confirmed = threading.Event()
        self.bot: list[Any] = []

    def connect(self) -> socketio.Client:
        """A connected client (new if the last one was dropped)."""
        if self.client is not None and self.client.connected:
            return self.client
        client = socketio.Client(reconnection=False)
        client.on("session_confirm", lambda *_: self.confirmed.set())
        client.on("bot_uttered", lambda data: self.bot.append(data))
        client.connect(self.url, transports=["polling"], wait_timeout=15)
        self.client = client
        return client

    def responsive(self, session: str) -> bool:
        """The server confirms a session within 20 s (its event loop is not stuck)."""
        self.confirmed.clear()
        self.connect().emit("session_request", {"session_id": session})
        return self.confirmed.wait(20)

    def close(self) -> None:
        """Disconnect."""
        if self.client is not None and self.client.connected:
            self.client.disconnect()


@pytest.mark.stack
def test_socketio_survives_arbitrary_events(hardened: Any) -> None:
    """user_uttered events of any shape: the server stays responsive and answers afterwards."""
    client = SocketClient(hardened.rasa_url)
    try:
        @FUZZ_SETTINGS
        @given(event=socketio_events)
        def property_(event: Any) -> None:
            client.connect().emit("user_uttered", event)
            assert client.responsive(f"fuzz-{uuid.uuid4().hex[:8]}")

        property_()
        session = f"after-{uuid.uuid4().hex[:8]}"
        assert client.responsive(session)
        client.bot.clear()
        client.connect().emit("user_uttered", {"session_id": session, "message": QUESTION})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                isinstance(m, dict) and (m.get("type") == "kb_answer" or (m.get("custom") or {}).get("type") == "kb_answer")
                for m in client.bot):
            time.sleep(0.2)
        assert any(isinstance(m, dict) and m.get("text") for m in client.bot), client.bot[:3]
    finally:
        client.close()
    answers_normally(hardened)


# --------------------------------------------------------------------------------------- WeChat


def _cdata(value: str) -> str:
    """CDATA section (a value containing ']]>' deliberately breaks the XML)."""
    return f"<![CDATA[{value}]]>"


wechat_messages = st.one_of(
    st.builds(lambda text, msg_type: ("text", text, msg_type), texts,
              st.sampled_from(["text", "text", "text", "voice", "image", "event", "link", "", "TEXT", "未知"])),
    st.builds(lambda event: ("event", event, "event"), st.sampled_from(["subscribe", "unsubscribe", "CLICK", "", "x" * 50])),
    st.builds(lambda raw: ("raw", raw, ""), malformed_bytes),
    st.sampled_from([
        ("raw", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml>&b;</xml>', ""),
        ("raw", b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><xml><Content>&x;</Content></xml>', ""),
        ("raw", b"<xml><ToUserName>a</ToUserName></xml>", ""),
        ("raw", b"<notxml/>", ""),
        ("big", 70_000, ""),  # a body above the channel's 64 KB limit (built in _wechat_request)
    ]),
)
wechat_modes = st.sampled_from(["plain", "plain", "plain", "safe", "bad-signature", "no-signature", "stale"])


def _wechat_request(wechat: dict[str, str], message: tuple[str, Any, str], mode: str,
                    openid: str) -> tuple[dict[str, str], bytes]:
    """Query parameters and body of one push, signed (or not) as `mode` says."""
    kind, value, msg_type = message
    timestamp = str(int(time.time()) - (3600 if mode == "stale" else 0))
    nonce = uuid.uuid4().hex[:10]
    if kind == "raw":
        body = value
    elif kind == "big":
        body = b"<xml>" + b"<a>b</a>" * (value // 8) + b"</xml>"
    else:
        fields = f"<MsgType>{_cdata(msg_type)}</MsgType>"
        if kind == "event":
            fields += f"<Event>{_cdata(value)}</Event>"
        elif msg_type == "voice":
            fields += f"<Recognition>{_cdata(value)}</Recognition>"
        else:
            fields += f"<Content>{_cdata(value)}</Content>"
        body = (f"<xml><ToUserName>{_cdata('gh_fuzz')}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
                f"<CreateTime>{timestamp}</CreateTime>{fields}<MsgId>{time.time_ns()}</MsgId></xml>"
                ).encode("utf-8", "surrogatepass")
    signer = WeChatSigner()
    signer.add_data(wechat["token"], timestamp, nonce)
    params = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}
    if mode == "bad-signature":
        params["signature"] = "0" * 40
    elif mode == "no-signature":
        params = {"timestamp": timestamp, "nonce": nonce}
    elif mode == "safe":
        crypto = WeChatCrypto(wechat["token"], wechat["encoding_aes_key"], wechat["app_id"])
        try:
            encrypted = crypto.encrypt_message(body.decode("utf-8", "replace"), nonce, timestamp)
        except Exception:  # noqa: BLE001 - wechatpy cannot encrypt every byte string: send it plain
            return params, body
        import xmltodict

        outer = xmltodict.parse(encrypted)["xml"]
        body = f"<xml><ToUserName>{_cdata('gh_fuzz')}</ToUserName><Encrypt>{_cdata(outer['Encrypt'])}</Encrypt></xml>".encode()
        params.update(encrypt_type="aes", msg_signature=outer["MsgSignature"])
    return params, body


@pytest.mark.stack
def test_wechat_webhook_survives_arbitrary_pushes(hardened: Any) -> None:
    """Signed (plain and safe mode), unsigned, stale and malformed pushes: no 5xx, answered in time."""
    url = f"{hardened.rasa_url}/webhooks/wechat/webhook"

    @FUZZ_SETTINGS
    @given(message=wechat_messages, mode=wechat_modes, content_type=content_types)
    def property_(message: tuple[str, Any, str], mode: str, content_type: str) -> None:
        openid = "o" + uuid.uuid4().hex[:27]
        params, body = _wechat_request(hardened.wechat, message, mode, openid)
        headers = {"Content-Type": content_type} if content_type else {}
        started = time.monotonic()
        response = requests.post(url, params=params, data=body, headers=headers, timeout=WECHAT_TIMEOUT + 20)
        elapsed = time.monotonic() - started
        assert response.status_code < 500, (response.status_code, response.text[:200])
        assert elapsed < WECHAT_TIMEOUT, f"WeChat push answered after {elapsed:.1f} s"
        if mode in ("bad-signature", "no-signature", "stale"):
            assert response.status_code in (403, 413)  # the size is checked before the signature

    property_()
    openid = "o" + uuid.uuid4().hex[:27]
    params, body = _wechat_request(hardened.wechat, ("text", QUESTION, "text"), "plain", openid)
    response = requests.post(url, params=params, data=body, timeout=WECHAT_TIMEOUT + 20)
    assert response.status_code == 200 and "<xml>" in response.text
    answers_normally(hardened)
