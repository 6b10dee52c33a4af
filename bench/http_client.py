"""A small keep-alive HTTP/1.1 client for the load generator: one connection per simulated user.

The benchmark runs on the machine it measures, so every CPU millisecond the load generator spends
per turn is taken from the assistant. aiohttp's client costs about 1.2 ms of CPU per request here
(psutil, ``cpu_cores_bench`` in the results); this client writes one request and parses one
response with a few lines of asyncio stream code, so it costs a fraction of that. It does only what
the benchmark needs: POST of a JSON body to one loopback host, ``Content-Length`` or chunked
responses, keep-alive with reconnection when the server closed the connection.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional, Tuple
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class HTTPError(Exception):
    """The server's reply was not valid HTTP/1.1."""


class KeepAliveClient:
    """One kept connection to the target; requests go one after the other."""

    def __init__(self, url: str) -> None:
        """Remember where to connect; the connection opens on the first request."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported: {url}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None

    async def _connect(self) -> None:
        """Open the connection."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        """Close the connection if it is open."""
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None

    def _request_bytes(self, body: bytes) -> bytes:
        """The POST request."""
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: keep-alive\r\n\r\n")
        return head.encode("ascii") + body

    async def _read_response(self) -> Tuple[int, bytes, bool]:
        """Status, body, and whether the server keeps the connection open."""
        assert self._reader is not None
        head = await self._reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise HTTPError("response header too large")
        lines = head.decode("latin-1").split("\r\n")
        try:
            version, status_text = lines[0].split(" ", 2)[:2]
            status = int(status_text)
        except ValueError as exc:
            raise HTTPError(f"bad status line: {lines[0]!r}") from exc
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        elif "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        else:
            body = await self._reader.read()  # until the server closes
            return status, body, False
        keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        return status, body, keep

    async def _read_chunked(self) -> bytes:
        """A chunked body."""
        assert self._reader is not None
        chunks = []
        while True:
            size_line = await self._reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await self._reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def post_json(self, payload: Any) -> Tuple[int, bytes]:
        """POST payload as JSON; reconnect once if a kept connection turns out to be closed."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):
            reused = self._writer is not None
            if not reused:
                await self._connect()
            assert self._writer is not None
            try:
                self._writer.write(self._request_bytes(body))
                status, reply, keep = await self._read_response()
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                await self.close()
                if reused and attempt == 1:
                    continue  # the server closed the idle connection: send again on a new one
                raise ConnectionError(f"connection lost: {type(exc).__name__}") from exc
            except BaseException:
                await self.close()  # a timeout or a bad reply leaves the stream in an unknown state
                raise
            if not keep:
                await self.close()
            return status, reply
        raise ConnectionError("not reached")
