"""bench.http_client: the load generator's keep-alive client against a real HTTP server."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, List

import pytest
from aiohttp import web

from bench.http_client import HTTPError, KeepAliveClient
from tests.local_http import with_app


async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                body: Callable[[str], Awaitable[Any]]) -> Any:
    """Run body(webhook URL) against an aiohttp server with one handler."""
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", handler)
    return await with_app(app, lambda base: body(base + "/webhooks/rest/webhook"))


def test_json_round_trip_on_one_connection() -> None:
    """Three posts: the server gets each JSON body (Chinese intact) on the same connection."""
    ports: List[int] = []

    async def echo(request: web.Request) -> web.Response:
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response([{"text": (await request.json())["message"] + "？"}])

    async def posts(url: str) -> List[Any]:
        client = KeepAliveClient(url)
        try:
            return [await client.post_json({"sender": "s", "message": f"专利{i}"}) for i in range(3)]
        finally:
            await client.close()

    replies = asyncio.run(serve(echo, posts))
    assert [(status, json.loads(body)[0]["text"]) for status, body in replies] == [
        (200, "专利0？"), (200, "专利1？"), (200, "专利2？")]
    assert len(set(ports)) == 1


def test_chunked_replies_and_error_statuses() -> None:
    """A chunked body is put together; a 429 comes back as a status, not an exception."""

    async def chunked(request: web.Request) -> web.StreamResponse:
        if (await request.json())["message"] == "limit":
            return web.Response(status=429, text="slow down")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'[{"text": "', "第一".encode(), b'"}]'):
            await response.write(part)
        await response.write_eof()
        return response

    async def posts(url: str) -> List[Any]:
        client = KeepAliveClient(url)
        try:
            return [await client.post_json({"message": "x"}), await client.post_json({"message": "limit"})]
        finally:
            await client.close()

    (status, body), (limited, _) = asyncio.run(serve(chunked, posts))
    assert status == 200 and json.loads(body) == [{"text": "第一"}]
    assert limited == 429


def test_a_connection_the_server_closed_is_reopened() -> None:
    """The server answers with Connection: close; the next post opens a new connection and succeeds."""
    ports: List[int] = []

    async def closing(request: web.Request) -> web.Response:
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"ok": True}, headers={"Connection": "close"})

    async def posts(url: str) -> List[int]:
        client = KeepAliveClient(url)
        try:
            return [(await client.post_json({}))[0] for _ in range(2)]
        finally:
            await client.close()

    assert asyncio.run(serve(closing, posts)) == [200, 200]
    assert len(set(ports)) == 2


def test_not_http_is_an_error() -> None:
    """A server that answers garbage gives HTTPError; only http:// URLs are accepted."""

    async def run() -> None:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"NOT-HTTP\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = KeepAliveClient(f"http://127.0.0.1:{port}/")
        try:
            with pytest.raises(HTTPError):
                await client.post_json({})
        finally:
            await client.close()
            server.close()

    asyncio.run(run())
    with pytest.raises(ValueError):
        KeepAliveClient("https://example.org/")


def test_levels_run_on_uvloop_and_leave_no_loop_behind() -> None:
    """bench.load.run_loop: the client works on a uvloop loop, which is closed and unset afterwards."""
    import uvloop

    from bench.load import run_loop

    seen: List[Any] = []

    async def echo(request: web.Request) -> web.Response:
        return web.json_response([{"text": (await request.json())["message"]}])

    async def post(url: str) -> Any:
        seen.append(asyncio.get_running_loop())
        client = KeepAliveClient(url)
        try:
            return await client.post_json({"sender": "s", "message": "开放许可"})
        finally:
            await client.close()

    status, body = run_loop(serve(echo, post))
    assert (status, json.loads(body)) == (200, [{"text": "开放许可"}])
    assert isinstance(seen[0], uvloop.Loop) and seen[0].is_closed()
    with pytest.raises(RuntimeError):
        asyncio.get_event_loop_policy().get_event_loop()
