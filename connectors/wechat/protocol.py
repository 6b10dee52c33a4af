"""WeChat's side of the server URL: signed requests, safe-mode encryption, body limits and passive replies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import struct
import time
from dataclasses import dataclass
from typing import Dict, Optional
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from connectors.wechat.format import xml_safe

logger = logging.getLogger(__name__)

MAX_TIMESTAMP_SKEW = 300  # seconds
MAX_BODY_BYTES = 64 * 1024


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


def make_crypto(token: str, aes_key: str, app_id: str) -> Optional[WeChatCrypto]:
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


class WeChatProtocol:
    """Checks WeChat's requests (signature, time, size, encryption) and renders passive replies."""

    def __init__(self, token: str, encoding_aes_key: str = "", app_id: str = "") -> None:
        """Keep the token and app id; safe mode needs a valid EncodingAESKey as well."""
        self.token = token or ""
        self.app_id = app_id or ""
        self.crypto = make_crypto(self.token, encoding_aes_key or "", self.app_id)

    def check_query_signature(self, request: Request) -> None:
        """Check signature/timestamp/nonce from the query string or raise 403."""
        if not self.token:
            raise RequestRejected(403, "channel not configured")
        signature = request.args.get("signature")
        timestamp = request.args.get("timestamp")
        nonce = request.args.get("nonce")
        if not (signature and timestamp and nonce):
            raise RequestRejected(403, "missing signature parameters")
        self.check_timestamp(timestamp)
        expected = wechat_signature(self.token, timestamp, nonce)
        if not signatures_match(expected, signature):
            raise RequestRejected(403, "bad signature")

    @staticmethod
    def check_timestamp(timestamp: str) -> None:
        """Reject timestamps more than five minutes away from now."""
        try:
            value = int(timestamp)
        except ValueError as exc:
            raise RequestRejected(403, "bad timestamp") from exc
        if abs(time.time() - value) > MAX_TIMESTAMP_SKEW:
            raise RequestRejected(403, "stale timestamp")

    def decrypt(self, request: Request, body: bytes) -> Dict[str, str]:
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
    def check_declared_length(request: Request) -> None:
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
    async def read_body(request: Request) -> bytes:
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

    async def authenticate(self, request: Request) -> Incoming:
        """Run every check on a POST and return the parsed message."""
        self.check_declared_length(request)
        self.check_query_signature(request)
        body = await self.read_body(request)
        encrypt_type = (request.args.get("encrypt_type") or "raw").lower()
        if encrypt_type == "aes":
            fields = self.decrypt(request, body)
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

    def render(self, incoming: Incoming, content: str) -> HTTPResponse:
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
