"""WeChat customer-service message API client (access token cache) and output channel."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any, Dict, List, Optional, Text

import requests
from rasa.core.channels.channel import OutputChannel

from connectors.wechat.config import DEFAULT_API_BASE
from connectors.wechat.format import Rendered, render_messages, split_reply

logger = logging.getLogger(__name__)

# (connect, read) timeouts for every call to the WeChat API, in seconds.
API_TIMEOUT = (3.05, 10.0)
# Refresh the token this many seconds before WeChat says it expires.
TOKEN_MARGIN = 300.0
# errcodes meaning the access token is invalid or expired.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatApiError(Exception):
    """The WeChat API could not be reached or answered with an error."""


class WeChatApiClient:
    """Blocking client for the token and custom-send endpoints (call it in an executor)."""

    def __init__(
        self,
        api_base: str,
        app_id: str,
        app_secret: str,
        session: Optional[requests.Session] = None,
        timeout: Any = API_TIMEOUT,
    ) -> None:
        """Create a client for the given API base URL and app credentials."""
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.app_id = app_id or ""
        self._app_secret = app_secret or ""
        self._session = session or requests.Session()
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: Optional[str] = None
        self._token_expires_at = 0.0

    @property
    def configured(self) -> bool:
        """Return True when app id and secret are both set."""
        return bool(self.app_id and self._app_secret)

    def _json(self, resp: requests.Response) -> Dict[str, Any]:
        """Decode a JSON API answer or raise WeChatApiError."""
        if resp.status_code != 200:
            raise WeChatApiError(f"HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError as exc:
            raise WeChatApiError("non-JSON answer") from exc
        if not isinstance(data, dict):
            raise WeChatApiError("unexpected answer")
        return data

    def access_token(self, force_refresh: bool = False) -> str:
        """Return a cached access token, fetching a new one when expired."""
        if not self.configured:
            raise WeChatApiError("WECHAT_APP_ID / WECHAT_APP_SECRET not set")
        with self._lock:
            if not force_refresh and self._token and time.monotonic() < self._token_expires_at:
                return self._token
            try:
                resp = self._session.get(
                    f"{self.api_base}/cgi-bin/token",
                    params={
                        "grant_type": "client_credential",
                        "appid": self.app_id,
                        "secret": self._app_secret,
                    },
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                raise WeChatApiError(f"token request failed: {type(exc).__name__}") from exc
            data = self._json(resp)
            token = data.get("access_token")
            if not token:
                raise WeChatApiError(f"token errcode {data.get('errcode')}")
            try:
                expires_in = float(data.get("expires_in", 7200))
            except (TypeError, ValueError):
                expires_in = 7200.0
            self._token = str(token)
            self._token_expires_at = time.monotonic() + max(expires_in - TOKEN_MARGIN, 60.0)
            logger.info("wechat access token refreshed")
            return self._token

    def _post_custom(self, token: str, body: bytes) -> Dict[str, Any]:
        """POST one custom-send request and return the decoded answer."""
        try:
            resp = self._session.post(
                f"{self.api_base}/cgi-bin/message/custom/send",
                params={"access_token": token},
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise WeChatApiError(f"custom send failed: {type(exc).__name__}") from exc
        return self._json(resp)

    def send_text(self, openid: str, content: str) -> None:
        """Send one text customer-service message (retrying once on a stale token)."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally otherwise
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for attempt in range(2):
            data = self._post_custom(self.access_token(force_refresh=attempt > 0), body)
            errcode = data.get("errcode", 0)
            if errcode == 0:
                return
            if errcode in TOKEN_ERRORS and attempt == 0:
                logger.info("wechat access token rejected (errcode %s); refreshing", errcode)
                continue
            raise WeChatApiError(f"custom send errcode {errcode}")


class WeChatOutput(OutputChannel):
    """Output channel that pushes bot messages through the customer-service API."""

    @classmethod
    def name(cls) -> Text:
        """Return the channel name."""
        return "wechat"

    def __init__(self, client: WeChatApiClient) -> None:
        """Wrap an API client."""
        self.client = client

    async def _send(self, recipient_id: Text, rendered: Rendered) -> None:
        """Send rendered text (split to the byte limit) without blocking the loop."""
        loop = asyncio.get_running_loop()
        for part in split_reply(rendered.text):
            await loop.run_in_executor(None, self.client.send_text, recipient_id, part)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send a text message."""
        await self._send(recipient_id, Rendered(text=text))

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        **kwargs: Any,
    ) -> None:
        """Send text with buttons rendered as numbered lines."""
        await self._send(recipient_id, render_messages([{"text": text, "buttons": buttons}]))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """Send an image as a link."""
        await self._send(recipient_id, Rendered(text=f"图片：{image}"))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Drop custom payloads (they are for the web widget)."""
        logger.debug("wechat output: custom payload dropped")


__all__ = ["WeChatApiClient", "WeChatApiError", "WeChatOutput"]
