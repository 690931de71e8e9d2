"""What a hostile feed server sends: handlers and bodies for FeedServer (reliability.md F1-F12).

Handlers stop at server shutdown (they wait on `server.stopping`) and give up quietly when the
client hangs up, which every guarded fetch of them does.
"""

from __future__ import annotations

import contextlib
import functools
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import brotli

from tests.support.feed_server import Handler

MiB = 1024 * 1024


@functools.cache
def gzip_bomb(inflated: int = 64 * MiB) -> bytes:
    """Zeros gzip-compressed: about 1/1000 of `inflated` on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b"\0" * MiB) for _ in range(inflated // MiB)]
    return b"".join(parts) + packer.flush()


@functools.cache
def brotli_bomb(inflated: int = 256 * MiB) -> bytes:
    """Zeros brotli-compressed: a few hundred bytes that inflate to `inflated`."""
    packer = brotli.Compressor(quality=5)
    parts = [packer.process(b"\0" * MiB) for _ in range(inflated // MiB)]
    return b"".join(parts) + packer.finish()


def _quietly(send: Callable[[BaseHTTPRequestHandler], None]) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            send(request)

    return handle


def endless(*, chunk: bytes = b"<item>" * 1024, headers: dict[str, str] | None = None) -> Handler:
    """A 200 whose body never ends (no Content-Length, the connection stays open)."""

    def send(request: BaseHTTPRequestHandler) -> None:
        stopping = request.server.stopping  # type: ignore[attr-defined]
        request.send_response(200)
        for name, value in (headers or {"Content-Type": "application/rss+xml"}).items():
            request.send_header(name, value)
        request.end_headers()
        while not stopping.is_set():
            request.wfile.write(chunk)

    return _quietly(send)


def lying_length(*, declared: int, body: bytes) -> Handler:
    """A 200 whose Content-Length says `declared` bytes and whose body is `body`."""

    def send(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(declared))
        request.end_headers()
        request.wfile.write(body)
        request.wfile.flush()

    return _quietly(send)


def encoded(body: bytes, encoding: str) -> Handler:
    """A 200 with `body` sent as is under `Content-Encoding: encoding`."""

    def send(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Encoding", encoding)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return _quietly(send)


def _rss_item(title: str, *, doctype: str = "", extra: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}<rss version="2.0"><channel><title>Hostile</title>'
        f"<item><guid>h-1</guid><title>{title}</title>{extra}</item></channel></rss>"
    ).encode()


def billion_laughs() -> bytes:
    """Nested entities that would expand to 10^9 'lol's."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    doctype = f"<!DOCTYPE rss [{''.join(entities)}]>\n"
    return _rss_item("&lol9;", doctype=doctype)


def quadratic_blowup(size: int = 50_000) -> bytes:
    """One large entity referenced many times."""
    doctype = f'<!DOCTYPE rss [<!ENTITY a "{"a" * size}">]>\n'
    return _rss_item("&a;" * 2000, doctype=doctype)


def xxe(path: str) -> bytes:
    """An external entity naming a local file, used in the title."""
    doctype = f'<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{path}">]>\n'
    return _rss_item("&leak;", doctype=doctype)


def external_dtd(url: str) -> bytes:
    """A document whose DTD is to be fetched from `url`."""
    doctype = f'<!DOCTYPE rss SYSTEM "{url}">\n'
    return _rss_item("dtd", doctype=doctype)


def author_redos(repeat: int = 32_000) -> bytes:
    """feedparser's quadratic e-mail regex on an <author> (feedparser #562): seconds of CPU.

    The DOCTYPE steers the document off the fast path onto feedparser, as an attacker can.
    """
    author = "a@" + "a." * repeat + "!"
    return _rss_item("redos", doctype="<!DOCTYPE rss>\n", extra=f"<author>{author}</author>")
