"""Rasa input channel for a WeChat Official Account (微信公众号) server URL."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import struct
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from channels.wechat_api import WeChatApiClient, WeChatApiError, WeChatOutput
from channels.wechat_format import (
    EMPTY_ANSWER_TEXT,
    ERROR_TEXT,
    HOLDING_TEXT,
    ONLY_TEXT_NOTE,
    VOICE_UNRECOGNIZED_NOTE,
    Option,
    Rendered,
    is_more_request,
    parse_option_number,
    render_messages,
    split_reply,
    welcome,
    xml_safe,
)
from channels.wechat_store import KeyValueStore, create_store

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_REPLY_TIMEOUT = 4.0
# WeChat gives the server 5 s; stay safely below it whatever is configured.
MAX_REPLY_TIMEOUT = 4.5
MAX_TIMESTAMP_SKEW = 300  # seconds
MAX_BODY_BYTES = 64 * 1024
MAX_USER_TEXT = 2000  # characters forwarded to Rasa
PENDING_TTL = 60.0  # a claimed MsgId whose owner vanished is released after this
DONE_TTL = 600.0  # WeChat retries within ~15 s; keep finished replies well beyond
USER_STATE_TTL = 24 * 3600.0  # last options / remaining parts per user
BACKGROUND_LIMIT = 120.0  # give up on a Rasa turn after this many seconds
PROMPT_TEXT = "请直接输入您想咨询的知识产权政策问题。"

_PENDING = "P"
_DONE = "D"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class WeChatSettings:
    """The settings this channel reads (mirrors fields of settings.get_settings())."""

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_encoding_aes_key: str = ""
    wechat_api_base: str = DEFAULT_API_BASE
    wechat_reply_timeout: float = DEFAULT_REPLY_TIMEOUT
    redis_url: Optional[str] = None


def _float(value: Any, default: float) -> float:
    """Parse a float, falling back to default on junk."""
    try:
        return float(value)
    except (TypeError, ValueError):
        logger.warning("invalid number for WECHAT_REPLY_TIMEOUT; using %s", default)
        return default


def load_settings() -> WeChatSettings:
    """Read the channel's settings through the project's settings.get_settings()."""
    from settings import get_settings

    s = get_settings()
    return WeChatSettings(
        wechat_token=getattr(s, "wechat_token", "") or "",
        wechat_app_id=getattr(s, "wechat_app_id", "") or "",
        wechat_app_secret=getattr(s, "wechat_app_secret", "") or "",
        wechat_encoding_aes_key=getattr(s, "wechat_encoding_aes_key", "") or "",
        wechat_api_base=getattr(s, "wechat_api_base", "") or DEFAULT_API_BASE,
        wechat_reply_timeout=_float(
            getattr(s, "wechat_reply_timeout", None) or DEFAULT_REPLY_TIMEOUT,
            DEFAULT_REPLY_TIMEOUT,
        ),
        redis_url=getattr(s, "redis_url", None) or None,
    )


def sender_hash(openid: str) -> str:
    """Return a short, non-reversible tag for an openid (for logs)."""
    return hashlib.sha256(openid.encode("utf-8")).hexdigest()[:12]


def wechat_signature(*parts: str) -> str:
    """Return WeChat's SHA1 over the sorted, concatenated parts (via wechatpy)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signatures_match(expected: str, provided: Optional[str]) -> bool:
    """Compare two hex signatures in constant time (non-ASCII input never matches)."""
    if not provided:
        return False
    return hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8"))


class RequestRejected(Exception):
    """A request that is answered with an HTTP error status and no reply."""

    def __init__(self, status: int, reason: str) -> None:
        """Remember the status and a short, payload-free reason."""
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_xml(body: bytes) -> Dict[str, str]:
    """Parse a flat WeChat XML document safely (no DTD, no entities) into a dict."""
    try:
        root = DefusedET.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise RequestRejected(400, f"bad XML ({type(exc).__name__})") from exc
    if root.tag != "xml":
        raise RequestRejected(400, "bad XML root")
    return {child.tag: (child.text or "") for child in root}


@dataclass
class Incoming:
    """An authenticated, decrypted WeChat message."""

    fields: Dict[str, str]
    safe_mode: bool
    nonce: str

    @property
    def msg_type(self) -> str:
        """Return MsgType in lower case."""
        return self.fields.get("MsgType", "").strip().lower()

    @property
    def openid(self) -> str:
        """Return FromUserName (the user's openid)."""
        return self.fields.get("FromUserName", "")

    @property
    def account(self) -> str:
        """Return ToUserName (the official account's id)."""
        return self.fields.get("ToUserName", "")

    @property
    def event(self) -> str:
        """Return Event in lower case (events only)."""
        return self.fields.get("Event", "").strip().lower()

    def dedup_key(self) -> str:
        """Key retries of one message: MsgId, or FromUserName + CreateTime for events."""
        msg_id = self.fields.get("MsgId", "").strip()
        if msg_id and self.msg_type != "event":
            return f"msg:{self.account}:{msg_id}"
        created = self.fields.get("CreateTime", "").strip()
        return f"evt:{self.openid}:{created}:{self.event}"


class WeChatInput(InputChannel):
    """WeChat Official Account server-URL channel (plaintext and safe mode)."""

    @classmethod
    def name(cls) -> Text:
        """Return the channel name (URL prefix /webhooks/wechat/)."""
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        """Build from credentials.yml, falling back to settings for empty values."""
        creds = credentials or {}
        s = load_settings()

        def pick(key: str, fallback: Any) -> Any:
            """Return the credentials value unless it is empty."""
            value = creds.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                return fallback
            return value.strip() if isinstance(value, str) else value

        return cls(
            token=pick("token", s.wechat_token),
            app_id=pick("app_id", s.wechat_app_id),
            app_secret=pick("app_secret", s.wechat_app_secret),
            encoding_aes_key=pick("encoding_aes_key", s.wechat_encoding_aes_key),
            api_base=pick("api_base", s.wechat_api_base),
            reply_timeout=_float(
                pick("reply_timeout", s.wechat_reply_timeout), DEFAULT_REPLY_TIMEOUT
            ),
            redis_url=pick("redis_url", s.redis_url),
        )

    def __init__(
        self,
        token: str,
        app_id: str = "",
        app_secret: str = "",
        encoding_aes_key: str = "",
        api_base: str = DEFAULT_API_BASE,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        redis_url: Optional[str] = None,
        store: Optional[KeyValueStore] = None,
        api_client: Optional[WeChatApiClient] = None,
    ) -> None:
        """Configure the channel; store and api_client can be injected (tests, Redis)."""
        self.token = token or ""
        self.app_id = app_id or ""
        self.reply_timeout = min(max(float(reply_timeout), 0.1), MAX_REPLY_TIMEOUT)
        self.crypto = self._make_crypto(self.token, encoding_aes_key or "", self.app_id)
        self.store: KeyValueStore = store if store is not None else create_store(redis_url)
        self.api = api_client or WeChatApiClient(api_base, self.app_id, app_secret or "")
        self._tasks: Set[asyncio.Task] = set()
        if not self.token:
            logger.warning("WECHAT_TOKEN is not set: the wechat channel rejects all requests")

    @staticmethod
    def _make_crypto(token: str, aes_key: str, app_id: str) -> Optional[WeChatCrypto]:
        """Return a WeChatCrypto for safe mode, or None when not (validly) configured."""
        if not aes_key:
            return None
        try:
            key = base64.b64decode(aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(aes_key) != 43 or len(key) != 32 or not token or not app_id:
            logger.error(
                "WECHAT_ENCODING_AES_KEY must be 43 characters and needs WECHAT_TOKEN "
                "and WECHAT_APP_ID; safe mode (encrypt_type=aes) is disabled"
            )
            return None
        return WeChatCrypto(token, aes_key, app_id)

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Return an output channel using the customer-service API (if configured)."""
        return WeChatOutput(self.api) if self.api.configured else None

    # ------------------------------------------------------------------ security

    def _check_query_signature(self, request: Request) -> None:
        """Check signature/timestamp/nonce from the query string or raise 403."""
        if not self.token:
            raise RequestRejected(403, "channel not configured")
        signature = request.args.get("signature")
        timestamp = request.args.get("timestamp")
        nonce = request.args.get("nonce")
        if not (signature and timestamp and nonce):
            raise RequestRejected(403, "missing signature parameters")
        self._check_timestamp(timestamp)
        expected = wechat_signature(self.token, timestamp, nonce)
        if not signatures_match(expected, signature):
            raise RequestRejected(403, "bad signature")

    @staticmethod
    def _check_timestamp(timestamp: str) -> None:
        """Reject timestamps more than five minutes away from now."""
        try:
            value = int(timestamp)
        except ValueError as exc:
            raise RequestRejected(403, "bad timestamp") from exc
        if abs(time.time() - value) > MAX_TIMESTAMP_SKEW:
            raise RequestRejected(403, "stale timestamp")

    def _decrypt(self, request: Request, body: bytes) -> Dict[str, str]:
        """Verify msg_signature over <Encrypt> and decrypt with wechatpy."""
        if self.crypto is None:
            raise RequestRejected(400, "safe mode request but no valid encoding_aes_key")
        msg_signature = request.args.get("msg_signature")
        if not msg_signature:
            raise RequestRejected(403, "missing msg_signature")
        outer = parse_xml(body)
        encrypted = outer.get("Encrypt", "").strip()
        if not encrypted:
            raise RequestRejected(400, "missing Encrypt")
        timestamp = request.args.get("timestamp", "")
        nonce = request.args.get("nonce", "")
        expected = wechat_signature(self.token, timestamp, nonce, encrypted)
        if not signatures_match(expected, msg_signature):
            raise RequestRejected(403, "bad msg_signature")
        try:
            plain = self.crypto.decrypt_message(
                {"Encrypt": encrypted}, msg_signature, timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise RequestRejected(403, f"decrypt refused ({type(exc).__name__})") from exc
        except (ValueError, TypeError, IndexError, struct.error) as exc:
            raise RequestRejected(400, f"decrypt failed ({type(exc).__name__})") from exc
        return parse_xml(plain.encode("utf-8"))

    @staticmethod
    def _check_declared_length(request: Request) -> None:
        """Refuse a declared Content-Length over MAX_BODY_BYTES (413) before reading."""
        length = request.headers.get("content-length")
        if length is None:
            return
        try:
            declared = int(length)
        except ValueError as exc:
            raise RequestRejected(400, "bad Content-Length") from exc
        if declared > MAX_BODY_BYTES:
            raise RequestRejected(413, "body too large")

    @staticmethod
    async def _read_body(request: Request) -> bytes:
        """Read the (streamed) body, refusing more than MAX_BODY_BYTES with 413."""
        if request.stream is None:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                raise RequestRejected(413, "body too large")
            return body
        chunks = bytearray()
        while True:
            chunk = await request.stream.read()
            if chunk is None:
                break
            chunks += chunk
            if len(chunks) > MAX_BODY_BYTES:
                raise RequestRejected(413, "body too large")
        return bytes(chunks)

    async def _authenticate(self, request: Request) -> Incoming:
        """Run every check on a POST and return the parsed message."""
        self._check_declared_length(request)
        self._check_query_signature(request)
        body = await self._read_body(request)
        encrypt_type = (request.args.get("encrypt_type") or "raw").lower()
        if encrypt_type == "aes":
            fields = self._decrypt(request, body)
            safe_mode = True
        elif encrypt_type == "raw":
            fields = parse_xml(body)
            safe_mode = False
        else:
            raise RequestRejected(400, "unsupported encrypt_type")
        for required in ("ToUserName", "FromUserName", "MsgType"):
            if not fields.get(required, "").strip():
                raise RequestRejected(400, f"missing {required}")
        return Incoming(fields=fields, safe_mode=safe_mode, nonce=request.args.get("nonce", ""))

    def _render(self, incoming: Incoming, content: str) -> HTTPResponse:
        """Return the passive reply (encrypted in safe mode); empty → 'success'."""
        if not content:
            return response.text("success")
        xml = TextReply(
            source=incoming.account,
            target=incoming.openid,
            content=xml_safe(content),
            time=int(time.time()),
        ).render()
        if incoming.safe_mode and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, incoming.nonce, str(int(time.time())))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    # ------------------------------------------------------------------ state

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        """Start a task and keep a reference until it finishes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _load_options(self, openid: str) -> List[Option]:
        """Return the numbered options last offered to this user."""
        raw = await self.store.get(f"opts:{openid}")
        try:
            return [Option(**o) for o in json.loads(raw)] if raw else []
        except (ValueError, TypeError):
            return []

    async def _publish(self, openid: str, rendered: Rendered) -> str:
        """Remember options and remaining parts for the user; return the first part."""
        parts = split_reply(rendered.text) or [EMPTY_ANSWER_TEXT]
        if rendered.options:
            opts = json.dumps([o.__dict__ for o in rendered.options], ensure_ascii=False)
            await self.store.set(f"opts:{openid}", opts, USER_STATE_TTL)
        else:
            await self.store.delete(f"opts:{openid}")
        if len(parts) > 1:
            await self.store.set(
                f"more:{openid}", json.dumps(parts[1:], ensure_ascii=False), USER_STATE_TTL
            )
        else:
            await self.store.delete(f"more:{openid}")
        return parts[0]

    async def _next_part(self, openid: str) -> Optional[str]:
        """Pop the next stored part for “更多”, or None when nothing is left."""
        raw = await self.store.get(f"more:{openid}")
        try:
            rest = json.loads(raw) if raw else []
        except ValueError:
            rest = []
        if not rest:
            return None
        part = str(rest.pop(0))
        if rest:
            await self.store.set(
                f"more:{openid}", json.dumps(rest, ensure_ascii=False), USER_STATE_TTL
            )
        else:
            await self.store.delete(f"more:{openid}")
        return part

    # ------------------------------------------------------------------ dispatch

    async def _deduplicated(
        self, key: str, compute: Callable[[], Awaitable[str]], deadline: float
    ) -> str:
        """Run compute once per key; concurrent/later retries get the same reply."""
        loop = asyncio.get_running_loop()
        skey = f"dedup:{key}"
        while True:
            if await self.store.add(skey, _PENDING, PENDING_TTL):
                try:
                    reply = await compute()
                except Exception:
                    await self.store.delete(skey)
                    raise
                await self.store.set(skey, _DONE + reply, DONE_TTL)
                return reply
            logger.info("wechat retry (dedup hit) %s", key if key.startswith("msg:") else "event")
            while True:
                value = await self.store.get(skey)
                if value is None:
                    break  # the owner gave up: try to claim it ourselves
                if value.startswith(_DONE):
                    return value[len(_DONE) :]
                if loop.time() >= deadline:
                    return ""
                await asyncio.sleep(0.05)

    async def _run_rasa(
        self, message: UserMessage, collector: CollectingOutputChannel, on_new_message: OnNewMessage
    ) -> Rendered:
        """Run one Rasa turn and render what the bot said (errors → polite text)."""
        try:
            await asyncio.wait_for(on_new_message(message), timeout=BACKGROUND_LIMIT)
        except asyncio.TimeoutError:
            logger.error("rasa did not answer within %ss", BACKGROUND_LIMIT)
            return Rendered(text=ERROR_TEXT)
        except Exception as exc:  # the handler is third-party code; never let it 500
            logger.error("rasa handler failed: %s", type(exc).__name__)
            logger.debug("rasa handler traceback", exc_info=True)
            return Rendered(text=ERROR_TEXT)
        return render_messages(collector.messages)

    async def _deliver_later(self, task: "asyncio.Task[Rendered]", openid: str) -> None:
        """Send a late answer through the customer-service API."""
        rendered = await task
        first = await self._publish(openid, rendered)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.api.send_text, openid, first)
            logger.info("wechat late answer sent to %s", sender_hash(openid))
        except WeChatApiError as exc:
            logger.warning("wechat late answer not delivered: %s", exc)
            # keep it so that “更多” still shows it
            raw = await self.store.get(f"more:{openid}")
            try:
                rest = list(json.loads(raw)) if raw else []
            except (ValueError, TypeError):
                rest = []
            await self.store.set(
                f"more:{openid}", json.dumps([first] + rest, ensure_ascii=False), USER_STATE_TTL
            )

    async def _ask_rasa(
        self, text: str, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Answer passively if Rasa is quick, otherwise hold and deliver later."""
        collector = CollectingOutputChannel()
        msg_id = incoming.fields.get("MsgId") or None
        message = UserMessage(
            text[:MAX_USER_TEXT],
            collector,
            sender_id=incoming.openid,
            input_channel=self.name(),
            message_id=msg_id,
            metadata={
                "wechat": {
                    "msg_id": msg_id,
                    "msg_type": incoming.msg_type,
                    "create_time": incoming.fields.get("CreateTime"),
                    "account": incoming.account,
                    "safe_mode": incoming.safe_mode,
                }
            },
        )
        task = self._spawn(self._run_rasa(message, collector, on_new_message))
        loop = asyncio.get_running_loop()
        done, _ = await asyncio.wait({task}, timeout=max(deadline - loop.time(), 0.0))
        if task in done:
            return await self._publish(incoming.openid, task.result())
        logger.info("wechat answer is slow; holding reply for %s", sender_hash(incoming.openid))
        self._spawn(self._deliver_later(task, incoming.openid))
        return HOLDING_TEXT

    async def _answer_text(
        self, text: str, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Handle “更多”, numbered choices, or pass the text to Rasa."""
        openid = incoming.openid
        if not text.strip():
            return PROMPT_TEXT
        if is_more_request(text):
            part = await self._next_part(openid)
            if part is not None:
                return part
        number = parse_option_number(text)
        if number is not None:
            options = await self._load_options(openid)
            if 1 <= number <= len(options):
                text = options[number - 1].payload
        return await self._ask_rasa(text, incoming, on_new_message, deadline)

    async def _compute_reply(
        self, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Return the reply content for one (new) message."""
        kind = incoming.msg_type
        if kind == "text":
            return await self._answer_text(
                incoming.fields.get("Content", ""), incoming, on_new_message, deadline
            )
        if kind == "voice":
            recognition = incoming.fields.get("Recognition", "").strip()
            if recognition:
                return await self._answer_text(recognition, incoming, on_new_message, deadline)
            return VOICE_UNRECOGNIZED_NOTE
        if kind == "event":
            if incoming.event == "subscribe":
                return await self._publish(incoming.openid, welcome())
            if incoming.event == "unsubscribe":
                await self.store.delete(f"opts:{incoming.openid}")
                await self.store.delete(f"more:{incoming.openid}")
            return ""
        return ONLY_TEXT_NOTE

    async def _process(
        self, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Deduplicate and compute the reply (runs as its own task)."""
        return await self._deduplicated(
            incoming.dedup_key(),
            lambda: self._compute_reply(incoming, on_new_message, deadline),
            deadline + 0.3,
        )

    # ------------------------------------------------------------------ routes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Return the Sanic blueprint with the health and webhook routes."""
        bp = Blueprint("wechat_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            """Report that the channel is up."""
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """Answer WeChat's server-URL verification with echostr."""
            try:
                self._check_query_signature(request)
                echostr = request.args.get("echostr")
                if not echostr or len(echostr) > 512:
                    raise RequestRejected(400, "missing echostr")
            except RequestRejected as exc:
                logger.warning("wechat verification rejected: %s", exc.reason)
                return response.text("", status=exc.status)
            logger.info("wechat server URL verified")
            return response.text(echostr)

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            """Handle one pushed message and answer passively within five seconds."""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.reply_timeout
            try:
                incoming = await self._authenticate(request)
            except RequestRejected as exc:
                logger.warning("wechat request rejected (%s): %s", exc.status, exc.reason)
                return response.text("", status=exc.status)
            logger.info(
                "wechat message msg_id=%s type=%s event=%s sender=%s",
                incoming.fields.get("MsgId", "-"),
                incoming.msg_type,
                incoming.event or "-",
                sender_hash(incoming.openid),
            )
            try:
                # shielded: a dropped connection must not lose or repeat the turn
                content = await asyncio.shield(
                    self._spawn(self._process(incoming, on_new_message, deadline))
                )
            except Exception as exc:  # last resort: WeChat must never see a 500
                logger.error("wechat reply failed: %s", type(exc).__name__)
                logger.debug("wechat reply traceback", exc_info=True)
                content = ERROR_TEXT
            return self._render(incoming, content)

        return bp
