"""A throw-away aiohttp server on a free loopback port, for tests of HTTP clients."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import web


async def with_app(app: web.Application, body: Callable[[str], Awaitable[Any]]) -> Any:
    """Serve app on 127.0.0.1, run body(base_url) against it, then stop the server."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await body(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
