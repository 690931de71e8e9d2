"""A real HTTP server on 127.0.0.1 for tests that fetch feeds, plus RSS and Atom builders.

Use it as a context manager::

    with FeedServer() as server:
        server.set("/feed.xml", rss([{"guid": "1", "title": "Hello"}]))
        ... fetch server.url("/feed.xml") ...
        assert server.hits("/feed.xml") == 1

or through the `feed_server` fixture below; to share it, import it in a conftest.py with
`from tests.support.feed_server import feed_server  # noqa: F401`.

- `set()` serves a static body for GET and HEAD, with an ETag and Last-Modified so conditional
  GETs get a 304. `set_handler()` hands every request for a path to a function receiving the
  `BaseHTTPRequestHandler`; `redirect()` and `drip()` build common ones.
- Every request is recorded in `requests`. A request body, if any, is read before dispatch and
  kept in `Recorded.body` and in the handler's `body` attribute. Unknown paths answer 404.
- Nothing is logged to stderr. Exceptions raised while handling (a client hanging up, a broken
  handler) are kept in `errors`.
- Handlers that wait should call `request.server.stopping.wait(seconds)`, which returns True once
  the server shuts down; open connections are cut at shutdown, so no handler thread outlives it.
- `rss()` and `atom()` build documents from dicts; RSS guids go out with isPermaLink="false".
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """One request the server received; `path` is the request target, query included."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Static:
    body: bytes
    status: int
    headers: dict[str, str]
    etag: str | None
    last_modified: str | None


@dataclass(slots=True)
class _Routes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    table: dict[str, _Static | Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread
    block_on_close = True

    def __init__(self, routes: _Routes, protocol: str, host: str) -> None:
        self.routes = routes
        self.protocol = protocol
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, 0), _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (timeouts, size caps) are expected, so nothing goes to stderr;
        # the error is kept for tests that want to see a handler's own failure.
        error = sys.exc_info()[1]
        if error is not None:
            with self.routes.lock:
                self.routes.errors.append(error)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    body: bytes = b""

    def setup(self) -> None:
        self.protocol_version = self.server.protocol
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length", "")
        self.body = self.rfile.read(int(length)) if length.isdigit() else b""
        routes = self.server.routes
        recorded = Recorded(
            method=self.command,
            path=self.path,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.body,
        )
        with routes.lock:
            routes.requests.append(recorded)
            route = routes.table.get(self.path) or routes.table.get(self.path.split("?", 1)[0])
        if route is None:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})
        elif isinstance(route, _Static):
            self._static(route)
        else:
            route(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _static(self, route: _Static) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send(405, b"", {"Allow": "GET, HEAD"})
            return
        validators: dict[str, str] = {}
        if route.etag is not None and route.last_modified is not None:
            validators = {"ETag": route.etag, "Last-Modified": route.last_modified}
            if self._not_modified(route.etag, route.last_modified):
                self._send(304, b"", validators)
                return
        self._send(route.status, route.body, {**route.headers, **validators})

    def _not_modified(self, etag: str, last_modified: str) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return email.utils.parsedate_to_datetime(since) >= email.utils.parsedate_to_datetime(
                last_modified
            )
        except (TypeError, ValueError):
            return False

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304 and not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)


class FeedServer:
    """An HTTP server on 127.0.0.1 (or another loopback `host`) serving what the test sets."""

    def __init__(self, *, protocol: str = "HTTP/1.0", host: str = "127.0.0.1") -> None:
        self._routes = _Routes()
        self._protocol = protocol
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def __enter__(self) -> FeedServer:
        self._server = _Server(self._routes, self._protocol, self._host)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FeedServer:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, cut open connections and join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        server.cut_connections()
        server.server_close()
        thread.join()

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        if not self.base_url:
            raise RuntimeError("FeedServer is not running; use it as a context manager")
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def set(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: bool = True,
    ) -> None:
        """Serve `body` at `path`; with `etag`, a 2xx carries validators and may answer 304."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        send = dict(headers or {})
        if not any(name.lower() == "content-type" for name in send):
            charset = "; charset=utf-8" if isinstance(body, str) else ""
            send["Content-Type"] = "application/xml" + charset
        validators = etag and 200 <= status < 300
        route = _Static(
            body=data,
            status=status,
            headers=send,
            etag=f'"{hashlib.sha256(data).hexdigest()[:20]}"' if validators else None,
            last_modified=email.utils.formatdate(usegmt=True) if validators else None,
        )
        with self._routes.lock:
            self._routes.table[path] = route

    def set_handler(self, path: str, handler: Handler) -> None:
        """Let `handler` answer every request for `path`, whatever the method."""
        with self._routes.lock:
            self._routes.table[path] = handler

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of the requests received so far, oldest first."""
        with self._routes.lock:
            return list(self._routes.requests)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised while handling requests (hang-ups included), oldest first."""
        with self._routes.lock:
            return list(self._routes.errors)

    def hits(self, path: str) -> int:
        """How many requests asked for `path` (with any query string)."""
        return sum(1 for r in self.requests if path in (r.path, r.path.split("?", 1)[0]))


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer, shut down after the test."""
    with FeedServer() as server:
        yield server


def redirect(location: str, *, status: int = 302) -> Handler:
    """A handler that redirects to `location` (sent verbatim, so it may be relative)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handle


def drip(body: bytes, *, interval: float, headers: Mapping[str, str] | None = None) -> Handler:
    """A handler that sends `body` one byte every `interval` seconds, Content-Length declared."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        server: _Server = request.server  # type: ignore[assignment]
        request.send_response(200)
        for name, value in (headers or {"Content-Type": "application/xml"}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.flush()
        for i in range(len(body)):
            if server.stopping.wait(interval):
                return
            request.wfile.write(body[i : i + 1])
            request.wfile.flush()

    return handle


CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"


def rss(
    items: Sequence[Mapping[str, Any]],
    *,
    title: str = "Test feed",
    link: str = "http://example.test/",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document; item keys: guid, title, link, description, published and content
    (HTML, as content:encoded), all optional."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<rss version="2.0" xmlns:content="{CONTENT_NS}"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link>",
        "<description>Built by tests.support.feed_server</description>",
    ]
    for item in items:
        parts.append("<item>")
        if "guid" in item:
            parts.append(f'<guid isPermaLink="false">{escape(str(item["guid"]))}</guid>')
        for key in ("title", "link", "description"):
            if key in item:
                parts.append(f"<{key}>{escape(str(item[key]))}</{key}>")
        if "published" in item:
            parts.append(f"<pubDate>{escape(_date(item['published'], rfc822=True))}</pubDate>")
        if "content" in item:
            parts.append(f"<content:encoded>{escape(str(item['content']))}</content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "\n".join(parts).encode(encoding, errors="xmlcharrefreplace")


def atom(
    items: Sequence[Mapping[str, Any]],
    *,
    title: str = "Test feed",
    link: str = "http://example.test/",
    encoding: str = "utf-8",
) -> bytes:
    """An Atom 1.0 document; entry keys: id, title, link, summary, updated (RSS names work too)."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><link href={quoteattr(link)}/>",
        f"<id>{escape(link)}</id><updated>2024-01-01T00:00:00Z</updated>",
    ]
    for item in items:
        parts.append("<entry>")
        entry_id = item.get("id", item.get("guid"))
        if entry_id is not None:
            parts.append(f"<id>{escape(str(entry_id))}</id>")
        if "title" in item:
            parts.append(f"<title>{escape(str(item['title']))}</title>")
        if "link" in item:
            parts.append(f'<link rel="alternate" href={quoteattr(str(item["link"]))}/>')
        summary = item.get("summary", item.get("description"))
        if summary is not None:
            parts.append(f'<summary type="html">{escape(str(summary))}</summary>')
        updated = item.get("updated", item.get("published"))
        if updated is not None:
            parts.append(f"<updated>{escape(_date(updated, rfc822=False))}</updated>")
        parts.append("</entry>")
    parts.append("</feed>\n")
    return "\n".join(parts).encode(encoding, errors="xmlcharrefreplace")


def _date(value: datetime | str, *, rfc822: bool) -> str:
    # A str goes out verbatim, so tests can send malformed dates.
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("feed dates must be timezone-aware")
    utc = value.astimezone(UTC)
    return email.utils.format_datetime(utc, usegmt=True) if rfc822 else utc.isoformat()
