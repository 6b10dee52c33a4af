"""HTTP-level tests of connectors.wechat.channel.WeChatInput; the WeChat side is played by wechatpy."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional
from urllib.parse import parse_qs, urlparse

import pytest
import requests


import xmltodict
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature

from connectors.wechat import channel as channel_module
from connectors.wechat.api import WeChatApiClient, WeChatApiError
from connectors.wechat.channel import WeChatInput
from connectors.wechat.config import WeChatSettings, load_settings
from connectors.wechat.format import (
    ERROR_TEXT,
    HOLDING_TEXT,
    MORE_HINT,
    ONLY_TEXT_NOTE,
    PASSIVE_LIMIT_BYTES,
    PROMPT_TEXT,
    VOICE_UNRECOGNIZED_NOTE,
    WELCOME_MENU,
)
from connectors.wechat.protocol import sender_hash
from connectors.wechat.store import MemoryStore


TOKEN = "test-token-Qx7"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-app-secret-9f8e"
AES_KEY = base64.b64encode(b"0123456789abcdefghijklmnopqrstuv").decode().rstrip("=")
ACCOUNT = "gh_0123456789ab"
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"

ANSWER = "专利质押融资可享受贴息支持。\n来源：沪府办发〔2024〕7号"
BUTTONS = [
    {"title": "大同", "payload": '/ask_other_region{"region":"大同"}'},
    {"title": "全国", "payload": '/ask_other_region{"region":"全国"}'},
]
_msg_ids = itertools.count(int(time.time() * 1000))


# --------------------------------------------------------------------------- fakes


Responder = Callable[[UserMessage], Awaitable[None]]


async def default_responder(message: UserMessage) -> None:
    """Answer like the assistant: text, buttons, and a custom kb_answer payload."""
    out = message.output_channel
    await out.send_text_message(message.sender_id, ANSWER)
    await out.send_text_with_buttons(message.sender_id, "您还想了解其他地区吗？", list(BUTTONS))
    await out.send_custom_json(
        message.sender_id,
        {"type": "kb_answer", "measures": [{"id": "shgov-12"}], "query": message.text},
    )


class FakeAgent:
    """Stands in for rasa.core.agent.Agent; counts calls, can be slow or fail."""

    def __init__(self) -> None:
        """Start with the default responder and no delay."""
        self.calls: List[UserMessage] = []
        self.delay = 0.0
        self.responder: Responder = default_responder

    async def handle_message(self, message: UserMessage) -> None:
        """Record the message, wait, then answer into the collector."""
        self.calls.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        await self.responder(message)

    @property
    def texts(self) -> List[str]:
        """Return the texts Rasa received."""
        return [m.text for m in self.calls]


class FakeWeChatApi:
    """A local HTTP fake of api.weixin.qq.com's token and custom-send endpoints."""

    def __init__(self) -> None:
        """Start the server on 127.0.0.1 with a free port."""
        self.token_requests: List[Dict[str, List[str]]] = []
        self.sends: List[Dict[str, Any]] = []
        self.raw_bodies: List[bytes] = []
        self.reject_next_send_with: Optional[int] = None
        self.token_counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            """Request handler bound to this fake."""

            def log_message(self, *args: Any) -> None:
                """Stay quiet."""

            def _reply(self, data: Dict[str, Any]) -> None:
                """Send a JSON answer."""
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                """Serve /cgi-bin/token."""
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path != "/cgi-bin/token":
                    self._reply({"errcode": 404})
                    return
                fake.token_requests.append(query)
                ok = query.get("appid") == [APP_ID] and query.get("secret") == [APP_SECRET]
                if not ok or query.get("grant_type") != ["client_credential"]:
                    self._reply({"errcode": 40013, "errmsg": "invalid appid"})
                    return
                fake.token_counter += 1
                self._reply({"access_token": fake.current_token, "expires_in": 7200})

            def do_POST(self) -> None:
                """Serve /cgi-bin/message/custom/send."""
                url = urlparse(self.path)
                query = parse_qs(url.query)
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if url.path != "/cgi-bin/message/custom/send":
                    self._reply({"errcode": 404})
                    return
                if fake.reject_next_send_with is not None:
                    code, fake.reject_next_send_with = fake.reject_next_send_with, None
                    self._reply({"errcode": code, "errmsg": "rejected"})
                    return
                if query.get("access_token") != [fake.current_token]:
                    self._reply({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                fake.raw_bodies.append(raw)
                fake.sends.append(json.loads(raw.decode("utf-8")))
                self._reply({"errcode": 0, "errmsg": "ok"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def current_token(self) -> str:
        """Return the currently valid access token."""
        return f"ACCESS_TOKEN_{self.token_counter}"

    def wait_for_sends(self, count: int, timeout: float = 8.0) -> List[Dict[str, Any]]:
        """Wait until count messages were sent through custom/send."""
        end = time.time() + timeout
        while time.time() < end and len(self.sends) < count:
            time.sleep(0.02)
        return self.sends

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


class LiveRasaApp:
    """A Sanic app with the channel registered like Rasa does, served on 127.0.0.1."""

    def __init__(self, channel: WeChatInput, agent: FakeAgent) -> None:
        """Register the channel and start serving in a background thread."""
        self.channel = channel
        # like sanic_testing: lets several apps start in one process (TouchUp, registry)
        Sanic.test_mode = True
        self.app = Sanic(f"wechat_test_{uuid.uuid4().hex[:10]}")
        self.app.ctx.agent = agent
        register([channel], self.app, route="/webhooks/")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self._ready.wait(15), "sanic test server did not start"

    def _run(self) -> None:
        """Run the server's event loop."""
        asyncio.set_event_loop(self.loop)

        async def start() -> Any:
            server = await self.app.create_server(
                sock=self.sock, return_asyncio_server=True, access_log=False
            )
            await server.startup()
            return server

        self._server = self.loop.run_until_complete(start())
        self._ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        """Cancel background tasks and stop the loop."""

        async def shutdown() -> None:
            for task in list(self.channel._tasks):
                task.cancel()
            self._server.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# --------------------------------------------------------------------------- WeChat side


def sign(*parts: str) -> str:
    """WeChat's signature, computed with wechatpy."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WeChatClient:
    """Plays the WeChat server: builds signed (optionally encrypted) pushes."""

    def __init__(self, base_url: str, token: str = TOKEN) -> None:
        """Point at /webhooks/wechat on the live app."""
        self.hook = f"{base_url}/webhooks/wechat/webhook"
        self.token = token
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    @staticmethod
    def message_xml(fields: Dict[str, Any]) -> str:
        """Render a push message like WeChat does (CDATA strings)."""
        nodes = []
        for key, value in fields.items():
            if isinstance(value, int):
                nodes.append(f"<{key}>{value}</{key}>")
            else:
                nodes.append(f"<{key}><![CDATA[{value}]]></{key}>")
        return "<xml>" + "".join(nodes) + "</xml>"

    @staticmethod
    def text_fields(content: str, msg_id: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
        """Fields of a text message."""
        fields: Dict[str, Any] = {
            "ToUserName": ACCOUNT,
            "FromUserName": OPENID,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id if msg_id is not None else next(_msg_ids),
        }
        fields.update(extra)
        return fields

    def params(self, timestamp: Optional[str] = None, nonce: str = "") -> Dict[str, str]:
        """Signed query parameters."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or uuid.uuid4().hex[:10]
        return {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": OPENID,
        }

    def post(
        self,
        fields: Dict[str, Any],
        safe: bool = False,
        params: Optional[Dict[str, str]] = None,
        timeout: float = 10.0,
    ) -> requests.Response:
        """POST a message, encrypting it with wechatpy in safe mode."""
        params = dict(params if params is not None else self.params())
        xml = self.message_xml(fields)
        if not safe:
            return requests.post(self.hook, params=params, data=xml.encode(), timeout=timeout)
        encrypted = self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
        parsed = xmltodict.parse(encrypted)["xml"]
        body = self.message_xml({"ToUserName": ACCOUNT, "Encrypt": parsed["Encrypt"]})
        params.update(encrypt_type="aes", msg_signature=parsed["MsgSignature"])
        return requests.post(self.hook, params=params, data=body.encode(), timeout=timeout)

    def text(self, content: str, safe: bool = False, **kw: Any) -> requests.Response:
        """POST a text message."""
        return self.post(self.text_fields(content, **kw), safe=safe)

    def reply(self, resp: requests.Response, safe: bool = False) -> Any:
        """Parse (and in safe mode verify + decrypt) our passive reply with wechatpy."""
        assert resp.status_code == 200, resp.status_code
        body = resp.text
        if safe:
            parsed = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(
                body, parsed["MsgSignature"], parsed["TimeStamp"], parsed["Nonce"]
            )
        return parse_message(body)

    def content(self, resp: requests.Response, safe: bool = False) -> str:
        """Return the Content of our text reply."""
        message = self.reply(resp, safe)
        assert message.type == "text"
        assert message.source == ACCOUNT and message.target == OPENID
        return message.content


class Harness:
    """Everything one test needs: live app, fake agent, fake WeChat API, WeChat client."""

    def __init__(self, reply_timeout: float = 3.0, **channel_kw: Any) -> None:
        """Start the fake API and the app."""
        self.api = FakeWeChatApi()
        self.agent = FakeAgent()
        kwargs: Dict[str, Any] = dict(
            token=TOKEN,
            app_id=APP_ID,
            app_secret=APP_SECRET,
            encoding_aes_key=AES_KEY,
            api_base=self.api.url,
            reply_timeout=reply_timeout,
            store=MemoryStore(),
        )
        kwargs.update(channel_kw)
        self.channel = WeChatInput(**kwargs)
        self.live = LiveRasaApp(self.channel, self.agent)
        self.url = self.live.url
        self.wx = WeChatClient(self.url)

    def close(self) -> None:
        """Stop everything."""
        self.live.close()
        self.api.close()


@pytest.fixture
def h() -> Iterator[Harness]:
    """A harness with a 3-second reply timeout."""
    harness = Harness()
    yield harness
    harness.close()


# --------------------------------------------------------------------------- channel shape


def test_channel_shape_and_credentials_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """name(), url prefix, and empty credentials values fall back to settings."""
    fallback = WeChatSettings(
        wechat_token="from-settings",
        wechat_app_id=APP_ID,
        wechat_app_secret="s",
        wechat_encoding_aes_key=AES_KEY,
        wechat_api_base="http://127.0.0.1:9",
        wechat_reply_timeout=2.5,
    )
    monkeypatch.setattr(channel_module, "load_settings", lambda: fallback)
    channel = WeChatInput.from_credentials(
        {"token": "", "app_id": None, "app_secret": "from-creds", "encoding_aes_key": ""}
    )
    assert WeChatInput.name() == "wechat" and channel.url_prefix() == "wechat"
    assert channel.protocol.token == "from-settings"
    assert channel.protocol.app_id == APP_ID
    assert channel.protocol.crypto is not None
    assert channel.reply_timeout == 2.5
    assert channel.api.api_base == "http://127.0.0.1:9"
    assert channel.api._app_secret == "from-creds"
    assert WeChatInput.from_credentials(None).protocol.token == "from-settings"


def test_settings_are_read_through_settings_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings() maps settings.get_settings() fields."""
    monkeypatch.setenv("WECHAT_TOKEN", "env-token")
    monkeypatch.setenv("WECHAT_REPLY_TIMEOUT", "3.5")
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:1/")
    monkeypatch.delenv("REDIS_URL", raising=False)
    s = load_settings()
    assert s.wechat_token == "env-token"
    assert s.wechat_reply_timeout == 3.5
    assert s.wechat_api_base.startswith("http://127.0.0.1:1")
    assert s.redis_url is None


def test_bad_aes_key_disables_safe_mode_only() -> None:
    """A malformed EncodingAESKey is logged, not fatal; plaintext still works."""
    channel = WeChatInput(token=TOKEN, app_id=APP_ID, encoding_aes_key="short", store=MemoryStore())
    assert channel.protocol.crypto is None


def test_health_route(h: Harness) -> None:
    """GET /webhooks/wechat/ answers ok."""
    resp = requests.get(f"{h.url}/webhooks/wechat/", timeout=5)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


# --------------------------------------------------------------------------- verification


def test_verification_get_valid(h: Harness) -> None:
    """A correctly signed GET echoes echostr (signature checked with wechatpy too)."""
    params = h.wx.params()
    check_signature(TOKEN, params["signature"], params["timestamp"], params["nonce"])
    params["echostr"] = "8431295761023947261"
    resp = requests.get(h.wx.hook, params=params, timeout=5)
    assert resp.status_code == 200 and resp.text == "8431295761023947261"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(signature="0" * 40),
        lambda p: p.update(signature=sign("wrong-token", p["timestamp"], p["nonce"])),
        lambda p: p.update(nonce="other"),
        lambda p: p.pop("signature"),
        lambda p: p.pop("timestamp"),
        lambda p: p.update(signature="签名"),
    ],
    ids=["zeros", "wrong-token", "nonce-changed", "no-signature", "no-timestamp", "non-ascii"],
)
def test_verification_get_forged(h: Harness, mutate: Callable[[Dict[str, str]], Any]) -> None:
    """Forged or incomplete verification requests get 403 and no echo."""
    params = h.wx.params()
    params["echostr"] = "12345"
    mutate(params)
    with pytest.raises(InvalidSignatureException):
        check_signature(
            TOKEN, params.get("signature", ""), params.get("timestamp", ""), params["nonce"]
        )
    resp = requests.get(h.wx.hook, params=params, timeout=5)
    assert resp.status_code == 403 and "12345" not in resp.text


def test_verification_get_stale_and_missing_echostr(h: Harness) -> None:
    """Old timestamps are refused; a valid signature without echostr is a 400."""
    old = h.wx.params(timestamp=str(int(time.time()) - 301))
    old["echostr"] = "1"
    assert requests.get(h.wx.hook, params=old, timeout=5).status_code == 403
    assert requests.get(h.wx.hook, params=h.wx.params(), timeout=5).status_code == 400


# --------------------------------------------------------------------------- text messages


def test_text_plaintext_reply_with_numbered_buttons(h: Harness) -> None:
    """A text message reaches Rasa once and the passive reply carries the answer."""
    resp = h.wx.text("专利质押融资有什么支持")
    content = h.wx.content(resp)
    assert "专利质押融资可享受贴息支持" in content and "沪府办发〔2024〕7号" in content
    assert "回复数字选择：" in content and "1. 大同" in content and "2. 全国" in content
    assert "kb_answer" not in content
    assert len(content.encode("utf-8")) <= PASSIVE_LIMIT_BYTES
    assert h.agent.texts == ["专利质押融资有什么支持"]
    call = h.agent.calls[0]
    assert call.sender_id == OPENID and call.input_channel == "wechat"
    assert call.metadata["wechat"]["msg_type"] == "text"
    assert h.api.sends == []


def test_text_safe_mode_reply_is_encrypted(h: Harness) -> None:
    """In safe mode the request is decrypted and our reply decrypts with wechatpy."""
    resp = h.wx.text("专利质押融资有什么支持", safe=True)
    assert "<Encrypt>" in resp.text and "贴息" not in resp.text
    content = h.wx.content(resp, safe=True)
    assert "专利质押融资可享受贴息支持" in content
    assert h.agent.texts == ["专利质押融资有什么支持"]


def test_safe_mode_forged_msg_signature_is_403(h: Harness) -> None:
    """A tampered msg_signature (valid plain signature) is refused."""
    params = h.wx.params()
    fields = h.wx.text_fields("hello")
    xml = h.wx.message_xml(fields)
    encrypted = xmltodict.parse(
        h.wx.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
    )
    body = h.wx.message_xml({"ToUserName": ACCOUNT, "Encrypt": encrypted["xml"]["Encrypt"]})
    params.update(encrypt_type="aes", msg_signature="f" * 40)
    resp = requests.post(h.wx.hook, params=params, data=body.encode(), timeout=5)
    assert resp.status_code == 403 and resp.text == ""
    params.pop("msg_signature")
    resp = requests.post(h.wx.hook, params=params, data=body.encode(), timeout=5)
    assert resp.status_code == 403
    assert h.agent.calls == []


def test_safe_mode_with_other_app_id_is_refused(h: Harness) -> None:
    """A message encrypted for another AppID does not decrypt into a turn."""
    params = h.wx.params()
    other = WeChatCrypto(TOKEN, AES_KEY, "wxffffffffffffffff")
    xml = h.wx.message_xml(h.wx.text_fields("hello"))
    enc = xmltodict.parse(other.encrypt_message(xml, params["nonce"], params["timestamp"]))["xml"]
    body = h.wx.message_xml({"ToUserName": ACCOUNT, "Encrypt": enc["Encrypt"]})
    params.update(encrypt_type="aes", msg_signature=enc["MsgSignature"])
    resp = requests.post(h.wx.hook, params=params, data=body.encode(), timeout=5)
    assert resp.status_code == 403
    assert h.agent.calls == []


def test_safe_mode_without_key_and_unknown_encrypt_type_are_400() -> None:
    """Safe mode needs a configured key; unknown encrypt_type values are refused."""
    harness = Harness(encoding_aes_key="")
    try:
        resp = harness.wx.text("hello", safe=True)
        assert resp.status_code == 400
        params = harness.wx.params()
        params["encrypt_type"] = "rsa"
        xml = harness.wx.message_xml(harness.wx.text_fields("hello"))
        resp = requests.post(harness.wx.hook, params=params, data=xml.encode(), timeout=5)
        assert resp.status_code == 400
        assert harness.agent.calls == []
    finally:
        harness.close()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(signature="0" * 40),
        lambda p: p.update(signature=sign("guess", p["timestamp"], p["nonce"])),
        lambda p: p.pop("nonce"),
        lambda p: p.clear(),
    ],
    ids=["zeros", "wrong-token", "no-nonce", "no-params"],
)
def test_forged_post_is_403_without_reply(
    h: Harness, mutate: Callable[[Dict[str, str]], Any]
) -> None:
    """A forged POST never reaches Rasa and gets an empty 403."""
    params = h.wx.params()
    mutate(params)
    resp = h.wx.post(h.wx.text_fields("hello"), params=params)
    assert resp.status_code == 403 and resp.text == ""
    assert h.agent.calls == []


@pytest.mark.parametrize("offset", [-301, 301, -3600, 10**9])
def test_stale_or_future_timestamp_is_403(h: Harness, offset: int) -> None:
    """Timestamps more than five minutes off are refused even with a valid signature."""
    params = h.wx.params(timestamp=str(int(time.time()) + offset))
    resp = h.wx.post(h.wx.text_fields("hello"), params=params)
    assert resp.status_code == 403
    resp = h.wx.post(h.wx.text_fields("hello"), safe=True, params=params)
    assert resp.status_code == 403
    assert h.agent.calls == []


def test_non_numeric_timestamp_is_403(h: Harness) -> None:
    """A garbage timestamp is an authentication failure, not a crash."""
    params = h.wx.params(timestamp="yesterday")
    assert h.wx.post(h.wx.text_fields("hello"), params=params).status_code == 403


# --------------------------------------------------------------------------- de-duplication


def test_replayed_msgid_is_handled_once_with_same_reply(h: Harness) -> None:
    """WeChat's retries (sequential and concurrent) share one Rasa turn and one reply."""
    h.agent.delay = 0.4
    fields = h.wx.text_fields("专利质押融资有什么支持", msg_id=987654321)
    with ThreadPoolExecutor(max_workers=3) as pool:
        responses = list(pool.map(lambda _: h.wx.post(fields), range(3)))
    later = h.wx.post(fields)
    later_safe = h.wx.post(fields, safe=True)
    contents = [h.wx.content(r) for r in responses + [later]] + [h.wx.content(later_safe, True)]
    assert len(set(contents)) == 1 and "贴息" in contents[0]
    assert len(h.agent.calls) == 1


def test_replayed_event_is_handled_once(h: Harness) -> None:
    """Events are keyed by FromUserName + CreateTime."""
    fields = {
        "ToUserName": ACCOUNT,
        "FromUserName": OPENID,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "subscribe",
    }
    first = h.wx.content(h.wx.post(fields))
    second = h.wx.content(h.wx.post(fields))
    assert first == second


# --------------------------------------------------------------------------- slow answers


def test_slow_handler_holds_then_uses_customer_service_api() -> None:
    """After WECHAT_REPLY_TIMEOUT the user gets a holding text; the answer follows via the API."""
    harness = Harness(reply_timeout=0.4)
    try:
        harness.agent.delay = 1.0
        fields = harness.wx.text_fields("专利质押融资有什么支持")
        started = time.time()
        resp = harness.wx.post(fields)
        assert time.time() - started < 1.0
        assert harness.wx.content(resp) == HOLDING_TEXT
        # a retry while the answer is still being prepared: same reply, no second turn
        assert harness.wx.content(harness.wx.post(fields)) == HOLDING_TEXT
        sends = harness.api.wait_for_sends(1)
        assert len(sends) == 1
        sent = sends[0]
        assert sent["touser"] == OPENID and sent["msgtype"] == "text"
        assert "专利质押融资可享受贴息支持" in sent["text"]["content"]
        assert "1. 大同" in sent["text"]["content"]
        # UTF-8 on the wire, not \\u escapes
        assert "贴息".encode("utf-8") in harness.api.raw_bodies[0]
        assert harness.api.token_requests[0]["grant_type"] == ["client_credential"]
        # the numbered options of the late answer work too
        harness.agent.delay = 0.0
        harness.wx.content(harness.wx.text("2"))
        assert harness.agent.texts[-1] == BUTTONS[1]["payload"]
        # a second slow answer reuses the cached access token
        harness.agent.delay = 1.0
        assert harness.wx.content(harness.wx.text("再问一个")) == HOLDING_TEXT
        harness.api.wait_for_sends(2)
        assert len(harness.api.sends) == 2
        assert len(harness.api.token_requests) == 1
        assert len(harness.agent.calls) == 3
    finally:
        harness.close()


def test_slow_answer_kept_for_more_when_api_fails() -> None:
    """Without app credentials the late answer is kept and “更多” shows it."""
    harness = Harness(reply_timeout=0.3, app_secret="")
    try:
        harness.agent.delay = 0.6
        assert harness.wx.content(harness.wx.text("专利质押融资有什么支持")) == HOLDING_TEXT
        time.sleep(1.0)
        assert harness.api.sends == []
        harness.agent.delay = 0.0
        content = harness.wx.content(harness.wx.text("更多"))
        assert "专利质押融资可享受贴息支持" in content
        assert len(harness.agent.calls) == 1
    finally:
        harness.close()


def test_handler_error_gives_polite_reply_not_500(h: Harness) -> None:
    """An exception inside Rasa becomes a polite text."""

    async def boom(message: UserMessage) -> None:
        raise RuntimeError("model exploded")

    h.agent.responder = boom
    resp = h.wx.text("专利质押融资有什么支持")
    assert resp.status_code == 200
    assert h.wx.content(resp) == ERROR_TEXT


# --------------------------------------------------------------------------- message types


def test_voice_with_recognition_is_treated_as_text(h: Harness) -> None:
    """Voice with Recognition goes to Rasa as its text."""
    fields = h.wx.text_fields("", MsgType="voice", MediaId="m1", Format="amr")
    fields.pop("Content")
    fields["Recognition"] = "专利质押融资有什么支持"
    content = h.wx.content(h.wx.post(fields, safe=True), safe=True)
    assert "贴息" in content
    assert h.agent.texts == ["专利质押融资有什么支持"]
    assert h.agent.calls[0].metadata["wechat"]["msg_type"] == "voice"


def test_voice_without_recognition_gets_polite_note(h: Harness) -> None:
    """Voice without Recognition is not sent to Rasa."""
    fields = h.wx.text_fields("", MsgType="voice", MediaId="m1", Format="amr")
    fields.pop("Content")
    assert h.wx.content(h.wx.post(fields)) == VOICE_UNRECOGNIZED_NOTE
    assert h.agent.calls == []


def test_subscribe_welcome_menu_and_number_choice(h: Harness) -> None:
    """Subscribing shows a numbered menu; replying with a number asks that question."""
    fields = {
        "ToUserName": ACCOUNT,
        "FromUserName": OPENID,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "subscribe",
        "EventKey": "",
    }
    content = h.wx.content(h.wx.post(fields, safe=True), safe=True)
    assert "欢迎" in content
    assert f"1. {WELCOME_MENU[0][0]}" in content
    assert "〔" not in content  # no policy text in the greeting
    assert h.agent.calls == []
    h.wx.content(h.wx.text("1"))
    assert h.agent.texts == [WELCOME_MENU[0][1]]


def test_unsubscribe_and_other_events_get_empty_success(h: Harness) -> None:
    """unsubscribe (and unrelated events) get the empty 'success' answer."""
    for event in ("unsubscribe", "LOCATION", "VIEW"):
        fields = {
            "ToUserName": ACCOUNT,
            "FromUserName": OPENID,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": event,
        }
        resp = h.wx.post(fields)
        assert resp.status_code == 200 and resp.text == "success"
    assert h.agent.calls == []


@pytest.mark.parametrize(
    "extra",
    [
        {"MsgType": "image", "PicUrl": "http://mmbiz.qpic.cn/x.jpg", "MediaId": "m"},
        {"MsgType": "location", "Location_X": "31.2", "Location_Y": "121.4", "Label": "上海"},
        {"MsgType": "link", "Title": "t", "Description": "d", "Url": "http://example.com"},
        {"MsgType": "video", "MediaId": "m", "ThumbMediaId": "t"},
        {"MsgType": "shortvideo", "MediaId": "m", "ThumbMediaId": "t"},
        {"MsgType": "miniprogrampage", "Title": "t"},
        {"MsgType": "brand_new_type"},
    ],
    ids=lambda e: e["MsgType"],
)
def test_non_text_messages_get_polite_note(h: Harness, extra: Dict[str, str]) -> None:
    """Images, locations, links, videos and unknown types get the only-text note."""
    fields = h.wx.text_fields("")
    fields.pop("Content")
    fields.update(extra)
    assert h.wx.content(h.wx.post(fields)) == ONLY_TEXT_NOTE
    assert h.agent.calls == []


def test_blank_text_is_not_sent_to_rasa(h: Harness) -> None:
    """An empty text gets a prompt instead of a Rasa turn."""
    assert h.wx.content(h.wx.text("   ")) == PROMPT_TEXT
    assert h.agent.calls == []


# ----------------------------------------------------------------- formatting over the wire


def test_long_reply_is_split_and_more_returns_the_rest(h: Harness) -> None:
    """A long answer is sent in ≤2048-byte parts; “更多” pages through without Rasa."""
    paragraphs = [
        ("第%d条措施：支持知识产权质押融资，给予贴息和风险补偿，鼓励金融机构创新产品。" % i) * 4
        + f"\n来源：沪知局〔2023〕9号 第{i}条"
        for i in range(1, 13)
    ]

    async def long_answer(message: UserMessage) -> None:
        for para in paragraphs:
            await message.output_channel.send_text_message(message.sender_id, para)

    h.agent.responder = long_answer
    parts = [h.wx.content(h.wx.text("专利质押融资有什么支持", safe=True), safe=True)]
    while parts[-1].endswith(MORE_HINT):
        assert len(parts) < 20
        parts.append(h.wx.content(h.wx.text("更多")))
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= PASSIVE_LIMIT_BYTES for p in parts)
    assert len(h.agent.calls) == 1
    bodies = [p.replace("\n\n" + MORE_HINT, "") for p in parts]
    for i, para in enumerate(paragraphs, start=1):
        assert sum(para in body for body in bodies) == 1
        assert sum(f"来源：沪知局〔2023〕9号 第{i}条" in b for b in bodies) == 1
    # nothing left: “更多” is now an ordinary message for the assistant (ask_more)
    h.agent.responder = default_responder
    h.wx.content(h.wx.text("更多"))
    assert h.agent.texts[-1] == "更多"
    assert len(h.agent.calls) == 2


def test_more_retry_does_not_skip_a_part(h: Harness) -> None:
    """A retried “更多” returns the same part instead of advancing twice."""

    async def long_answer(message: UserMessage) -> None:
        for i in range(8):
            await message.output_channel.send_text_message(
                message.sender_id, f"段落{i}：" + "内容" * 200
            )

    h.agent.responder = long_answer
    h.wx.content(h.wx.text("问题"))
    more = h.wx.text_fields("更多")
    first = h.wx.content(h.wx.post(more))
    again = h.wx.content(h.wx.post(more))
    assert first == again
    following = h.wx.content(h.wx.text("更多"))
    assert following != first


def test_numbered_button_reply_maps_to_payload(h: Harness) -> None:
    """Replying '2' (or '２') sends the second button's payload; out of range is plain text."""
    content = h.wx.content(h.wx.text("专利质押融资有什么支持"))
    assert "2. 全国" in content
    h.wx.content(h.wx.text("２"))
    assert h.agent.texts[-1] == BUTTONS[1]["payload"]
    h.wx.content(h.wx.text("1"))
    assert h.agent.texts[-1] == BUTTONS[0]["payload"]
    h.wx.content(h.wx.text("9"))
    assert h.agent.texts[-1] == "9"


def test_numbers_without_options_are_plain_text(h: Harness) -> None:
    """A number with no options on record is passed through."""

    async def plain(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "好的")

    h.agent.responder = plain
    h.wx.content(h.wx.text("你好"))
    h.wx.content(h.wx.text("1"))
    assert h.agent.texts == ["你好", "1"]


# --------------------------------------------------------------------------- bad input


def test_oversized_body_is_413(h: Harness) -> None:
    """Bodies over 64 KiB are refused (declared length and chunked)."""
    fields = h.wx.text_fields("专" * 30000)
    resp = h.wx.post(fields)
    assert resp.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b"<a>" + b"x" * 1021

    resp = requests.post(h.wx.hook, params=h.wx.params(), data=chunks(), timeout=10)
    assert resp.status_code == 413
    assert h.agent.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml><ToUserName>gh",
        b"not xml at all",
        b"\xff\xfe\x00garbage",
        b"<notxml><MsgType>text</MsgType></notxml>",
        b"<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Content>hi</Content></xml>",
    ],
    ids=["empty", "truncated", "text", "binary", "wrong-root", "no-sender"],
)
def test_malformed_xml_is_400(h: Harness, body: bytes) -> None:
    """Malformed or incomplete XML is a 400, never a 500."""
    resp = requests.post(h.wx.hook, params=h.wx.params(), data=body, timeout=5)
    assert resp.status_code == 400
    assert h.agent.calls == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_expansion_and_dtd_are_400(h: Harness, body: bytes) -> None:
    """DTDs and entities are refused (plaintext, and inside a safe-mode envelope)."""
    started = time.time()
    resp = requests.post(h.wx.hook, params=h.wx.params(), data=body, timeout=5)
    assert resp.status_code == 400
    # the same payload smuggled inside the encrypted envelope
    params = h.wx.params()
    enc = xmltodict.parse(
        h.wx.crypto.encrypt_message(body.decode(), params["nonce"], params["timestamp"])
    )["xml"]
    envelope = h.wx.message_xml({"ToUserName": ACCOUNT, "Encrypt": enc["Encrypt"]})
    params.update(encrypt_type="aes", msg_signature=enc["MsgSignature"])
    resp = requests.post(h.wx.hook, params=params, data=envelope.encode(), timeout=5)
    assert resp.status_code == 400
    assert time.time() - started < 3
    assert h.agent.calls == []


# --------------------------------------------------------------------------- logs


def test_logs_hold_no_secrets_or_payloads(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Logs carry MsgId, type and a sender hash only."""
    caplog.set_level(logging.DEBUG, logger="connectors")
    h.agent.delay = 0.0
    h.wx.content(h.wx.text("我的专利号是ZL2023SECRET", safe=True, msg_id=55501), safe=True)
    h.wx.post(h.wx.text_fields("forged"), params={**h.wx.params(), "signature": "0" * 40})
    text = caplog.text
    assert "55501" in text
    assert sender_hash(OPENID) in text
    for secret in (OPENID, TOKEN, APP_SECRET, AES_KEY, "ZL2023SECRET", "贴息"):
        assert secret not in text


# --------------------------------------------------------------------------- API client


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    """A fake WeChat API server."""
    api = FakeWeChatApi()
    yield api
    api.close()


def test_api_client_caches_and_refreshes_token(fake_api: FakeWeChatApi) -> None:
    """The token is cached, refreshed on 40001/expiry, and timeouts are explicit."""
    client = WeChatApiClient(fake_api.url, APP_ID, APP_SECRET)
    client.send_text(OPENID, "一")
    client.send_text(OPENID, "二")
    assert len(fake_api.token_requests) == 1
    fake_api.reject_next_send_with = 40001
    client.send_text(OPENID, "三")
    assert len(fake_api.token_requests) == 2
    client._token_expires_at = 0.0
    client.send_text(OPENID, "四")
    assert len(fake_api.token_requests) == 3
    assert [s["text"]["content"] for s in fake_api.sends] == ["一", "二", "三", "四"]


def test_api_client_errors_are_wechat_api_errors(fake_api: FakeWeChatApi) -> None:
    """Bad credentials, errcodes, and unreachable hosts raise WeChatApiError."""
    with pytest.raises(WeChatApiError):
        WeChatApiClient(fake_api.url, APP_ID, "wrong").send_text(OPENID, "x")
    with pytest.raises(WeChatApiError):
        WeChatApiClient(fake_api.url, "", "").send_text(OPENID, "x")
    client = WeChatApiClient(fake_api.url, APP_ID, APP_SECRET)
    fake_api.reject_next_send_with = 45015  # response out of time limit
    with pytest.raises(WeChatApiError):
        client.send_text(OPENID, "x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WeChatApiError):
        WeChatApiClient(
            f"http://127.0.0.1:{port}", APP_ID, APP_SECRET, timeout=(0.5, 0.5)
        ).send_text(OPENID, "x")


def test_output_channel_sends_through_api(fake_api: FakeWeChatApi) -> None:
    """get_output_channel() pushes bot messages (buttons numbered) via custom/send."""
    channel = WeChatInput(
        token=TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        api_base=fake_api.url,
        store=MemoryStore(),
    )
    out = channel.get_output_channel()
    assert out is not None and out.name() == "wechat"

    async def scenario() -> None:
        await out.send_text_with_buttons(OPENID, "选择地区", list(BUTTONS))
        await out.send_custom_json(OPENID, {"type": "kb_answer"})

    asyncio.run(scenario())
    assert len(fake_api.sends) == 1
    assert "1. 大同" in fake_api.sends[0]["text"]["content"]
    assert WeChatInput(token=TOKEN, store=MemoryStore()).get_output_channel() is None
