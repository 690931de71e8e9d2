"""A lean HTTP/1.1 feed server for benchmarks: static bodies on 127.0.0.1, conditional GETs.

tests.support.feed_server spends a thread and a header parse in Python per request, which on a
small machine competes with the poller it is meant to measure. This one answers from responses
built once per body: ETag and Last-Modified validators, a 304 when If-None-Match (or, without it,
If-Modified-Since) matches, keep-alive connections, pipelined requests. GET only; a request
with a body is answered 400 and the connection closed.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
from dataclasses import dataclass
from datetime import datetime

_MAX_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class _Route:
    full: bytes
    not_modified: bytes
    etag: bytes
    last_modified: datetime


def _response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_NOT_FOUND = _response(
    "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")], b"not found\n"
)
_BAD_REQUEST = _response("400 Bad Request", [("Content-Length", "0"), ("Connection", "close")])
_NOT_ALLOWED = _response("405 Method Not Allowed", [("Allow", "GET"), ("Content-Length", "0")])


class FeedHost:
    """Serves the bodies `set` gives it; `start` returns the base URL."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._routes: dict[bytes, _Route] = {}
        self._server: asyncio.Server | None = None

    def set(self, path: str, body: bytes, content_type: str = "application/xml") -> None:
        """Serve `body` at `path`, with validators that change with the body."""
        etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        modified = email.utils.formatdate(usegmt=True)
        validators = [("ETag", etag), ("Last-Modified", modified)]
        headers = [("Content-Type", content_type), *validators]
        self._routes[path.encode("latin-1")] = _Route(
            full=_response("200 OK", [*headers, ("Content-Length", str(len(body)))], body),
            not_modified=_response("304 Not Modified", validators),
            etag=etag.encode("latin-1"),
            last_modified=email.utils.parsedate_to_datetime(modified),
        )

    async def start(self) -> str:
        """Listen on an ephemeral port; the base URL, e.g. http://127.0.0.1:40123."""
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Connection(self._routes), self._host, 0
        )
        port = self._server.sockets[0].getsockname()[1]
        return f"http://{self._host}:{port}"

    async def stop(self) -> None:
        """Stop listening and close the listening socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class _Connection(asyncio.Protocol):
    def __init__(self, routes: dict[bytes, _Route]) -> None:
        self._routes = routes
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    transport.write(_BAD_REQUEST)
                    transport.close()
                return
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            answer, keep = self._answer(head)
            transport.write(answer)
            if not keep:
                transport.close()
                return

    def _answer(self, head: bytes) -> tuple[bytes, bool]:
        request_line, *lines = head.split(b"\r\n")
        parts = request_line.split(b" ")
        if len(parts) != 3:
            return _BAD_REQUEST, False
        method, target, version = parts
        headers: dict[bytes, bytes] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        keep = version == b"HTTP/1.1" and headers.get(b"connection", b"").lower() != b"close"
        if headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers:
            return _BAD_REQUEST, False
        if method != b"GET":
            return _NOT_ALLOWED, keep
        route = self._routes.get(target) or self._routes.get(target.split(b"?", 1)[0])
        if route is None:
            return _NOT_FOUND, keep
        if _not_modified(route, headers):
            return route.not_modified, keep
        return route.full, keep


def _not_modified(route: _Route, headers: dict[bytes, bytes]) -> bool:
    if_none_match = headers.get(b"if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
        return b"*" in tags or route.etag in tags
    since = headers.get(b"if-modified-since")
    if since is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(since.decode("latin-1")) >= route.last_modified
    except (TypeError, ValueError):
        return False
