"""Rasa input channel for a WeChat Official Account (微信公众号) server URL.

credentials.yml names it ``connectors.wechat.channel.WeChatInput``; it serves ``/webhooks/wechat/``
(health) and ``/webhooks/wechat/webhook`` (WeChat's verification GET and pushed messages). Requests
are checked by connectors.wechat.protocol, per-user state lives in connectors.wechat.state, replies
are formatted by connectors.wechat.format and late answers go out through connectors.wechat.api.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.input_rules import MAX_MESSAGE_CHARS
from connectors.wechat.api import WeChatApiClient, WeChatApiError, WeChatOutput
from connectors.wechat.config import (
    DEFAULT_API_BASE,
    DEFAULT_REPLY_TIMEOUT,
    MAX_REPLY_TIMEOUT,
    load_settings,
    parse_float,
)
from connectors.wechat.format import (
    ERROR_TEXT,
    HOLDING_TEXT,
    ONLY_TEXT_NOTE,
    PROMPT_TEXT,
    VOICE_UNRECOGNIZED_NOTE,
    Rendered,
    is_more_request,
    parse_option_number,
    render_messages,
    welcome,
)
from connectors.wechat.protocol import Incoming, RequestRejected, WeChatProtocol, sender_hash
from connectors.wechat.state import ChannelState
from connectors.wechat.store import KeyValueStore, create_store

logger = logging.getLogger(__name__)

BACKGROUND_LIMIT = 120.0  # give up on a Rasa turn after this many seconds

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


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
            reply_timeout=parse_float(
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
        self.protocol = WeChatProtocol(token, encoding_aes_key, app_id)
        self.reply_timeout = min(max(float(reply_timeout), 0.1), MAX_REPLY_TIMEOUT)
        self.state = ChannelState(store if store is not None else create_store(redis_url))
        self.api = api_client or WeChatApiClient(api_base, self.protocol.app_id, app_secret or "")
        self._tasks: Set[asyncio.Task] = set()
        if not self.protocol.token:
            logger.warning("WECHAT_TOKEN is not set: the wechat channel rejects all requests")

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Return an output channel using the customer-service API (if configured)."""
        return WeChatOutput(self.api) if self.api.configured else None

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        """Start a task and keep a reference until it finishes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ dispatch

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
        first = await self.state.publish(openid, rendered)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.api.send_text, openid, first)
            logger.info("wechat late answer sent to %s", sender_hash(openid))
        except WeChatApiError as exc:
            logger.warning("wechat late answer not delivered: %s", exc)
            await self.state.keep_undelivered(openid, first)  # so that “更多” still shows it

    async def _ask_rasa(
        self, text: str, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Answer passively if Rasa is quick, otherwise hold and deliver later."""
        collector = CollectingOutputChannel()
        msg_id = incoming.fields.get("MsgId") or None
        message = UserMessage(
            text[:MAX_MESSAGE_CHARS],
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
            return await self.state.publish(incoming.openid, task.result())
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
            part = await self.state.next_part(openid)
            if part is not None:
                return part
        number = parse_option_number(text)
        if number is not None:
            options = await self.state.load_options(openid)
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
                return await self.state.publish(incoming.openid, welcome())
            if incoming.event == "unsubscribe":
                await self.state.forget(incoming.openid)
            return ""
        return ONLY_TEXT_NOTE

    async def _process(
        self, incoming: Incoming, on_new_message: OnNewMessage, deadline: float
    ) -> str:
        """Deduplicate and compute the reply (runs as its own task)."""
        return await self.state.deduplicated(
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
                self.protocol.check_query_signature(request)
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
                incoming = await self.protocol.authenticate(request)
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
            return self.protocol.render(incoming, content)

        return bp
