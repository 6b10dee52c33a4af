"""Rasa's HTTP calls to the action server over kept-alive connections.

Rasa 3.6's ``EndpointConfig.request`` opens a new aiohttp session, and so a new TCP connection, for
every call: every turn pays for a connection set-up and tear-down in the Rasa server, in the action
server and (production) in nginx, about 1 ms of the Rasa server's CPU per turn (py-spy,
docs/bench.md). ``install()`` replaces it with the same request (same URL, parameters, headers,
authentication, timeouts, errors and result) sent through one session per event loop whose
connections are kept for ``KEEPALIVE_SECONDS``: less than the 5 s after which Sanic (the action
server) and nginx's upstream settings close an idle connection, so a kept connection is not reused
just as the server closes it. A call that still fails because the server dropped a reused
connection before answering is sent once more on a new one; the action servers keep no state, so
a repeated call is harmless. JSON bodies are written with ujson (installed with Sanic), falling
back to the standard library for anything it refuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
from typing import Any, Dict, Optional

import aiohttp
import ujson
from rasa.shared.exceptions import FileNotFoundException
from rasa.utils.endpoints import (
    DEFAULT_REQUEST_TIMEOUT,
    ClientResponseError,
    EndpointConfig,
    concat_url,
)

from rasa_runtime.patching import ClassPatch

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 2.0
CONNECTION_LIMIT = 100  # concurrent connections per session (aiohttp's default)
_sessions: Dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def dumps(value: Any) -> str:
    """JSON text of a request body: ujson, or the standard library for what ujson refuses."""
    try:
        return ujson.dumps(value, ensure_ascii=True, escape_forward_slashes=False)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)


def session_for_loop() -> aiohttp.ClientSession:
    """The running loop's kept session (sessions of closed loops are dropped)."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        for old_loop in [known for known in _sessions if known.is_closed()]:
            del _sessions[old_loop]
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, keepalive_timeout=KEEPALIVE_SECONDS),
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            json_serialize=dumps,
        )
        _sessions[loop] = session
    return session


def _ssl_context(endpoint: EndpointConfig) -> Optional[ssl.SSLContext]:
    """The endpoint's CA file as an SSL context, as Rasa builds it."""
    if not endpoint.cafile:
        return None
    try:
        return ssl.create_default_context(cafile=endpoint.cafile)
    except FileNotFoundError as e:
        raise FileNotFoundException(
            f"Failed to find certificate file, '{os.path.abspath(endpoint.cafile)}' does not exist."
        ) from e


async def request(self: EndpointConfig, method: str = "post", subpath: Optional[str] = None,
                  content_type: Optional[str] = "application/json", compress: bool = False,
                  **kwargs: Any) -> Optional[Any]:
    """EndpointConfig.request on a kept session; the JSON reply, or None if it is not JSON."""
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    url = concat_url(self.url, subpath)
    sslcontext = _ssl_context(self)
    params = self.combine_parameters(kwargs)
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    for attempt in (1, 2):
        try:
            async with session_for_loop().request(method, url, headers=headers, params=params, compress=compress,
                                                  ssl=sslcontext, auth=auth, **kwargs) as response:
                if response.status >= 400:
                    raise ClientResponseError(response.status, response.reason, await response.content.read())
                try:
                    return await response.json()
                except aiohttp.ContentTypeError:
                    return None
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:
                raise
            logger.debug("%s dropped a kept connection before answering; sending again", url)
    return None  # not reached


async def close_sessions() -> None:
    """Close the running loop's session (server shutdown)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None and not session.closed:
        await session.close()


PATCH = ClassPatch(EndpointConfig, "request", request)
install, uninstall = PATCH.install, PATCH.uninstall
