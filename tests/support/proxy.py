"""A forward HTTP proxy on 127.0.0.1 that records what it is asked for, for tests of
`fetch.trust_env`.

    with ForwardProxy(hosts={"feeds.example.com": feed_server.base_url}) as proxy:
        ... HTTP_PROXY=proxy.url ...
        assert proxy.requests == [("GET", "http://feeds.example.com/feed.xml")]

It forwards absolute-form requests (`GET http://host/path`) and tunnels `CONNECT host:port`, one
request per connection. `hosts` maps names to the loopback server that stands in for them, as a
proxy on another network would resolve them; a name not in `hosts` must be a loopback address.
No name is ever looked up, so no traffic leaves loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from urllib.parse import urlsplit


class ForwardProxy:
    """An HTTP proxy on 127.0.0.1 in a thread of its own; `requests` lists (method, target)."""

    def __init__(self, *, hosts: dict[str, str] | None = None) -> None:
        self.hosts = {name: urlsplit(base) for name, base in (hosts or {}).items()}
        self.requests: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ForwardProxy", daemon=True)
        self._server: asyncio.Server | None = None
        self.url = ""

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            # Open tunnels are cut, so that every writer is closed on a running loop.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

    def _upstream(self, host: str, port: int) -> tuple[str, int]:
        mapped = self.hosts.get(host)
        if mapped is not None:
            return mapped.hostname or "", mapped.port or 80
        return host, port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
            with self._lock:
                self.requests.append((method, target))
                self.headers.append({k.lower(): v for k, v in headers.items()})
            if method == "CONNECT":
                await self._tunnel(target, reader, writer)
            else:
                await self._forward(method, target, headers, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            await _close(writer)

    async def _forward(
        self, method: str, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        parts = urlsplit(target)
        host, port = self._upstream(parts.hostname or "", parts.port or 80)
        up_reader, up_writer = await asyncio.open_connection(host, port)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = {k: v for k, v in headers.items() if not k.lower().startswith("proxy-")}
        kept["Connection"] = "close"
        lines = [f"{method} {path or '/'} HTTP/1.1", *(f"{k}: {v}" for k, v in kept.items())]
        try:
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await up_writer.drain()
            await _pipe(up_reader, writer)
        finally:
            await _close(up_writer)

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        name, _, port = target.rpartition(":")
        host, upstream_port = self._upstream(name.strip("[]"), int(port))
        up_reader, up_writer = await asyncio.open_connection(host, upstream_port)
        try:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            await _close(up_writer)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()
