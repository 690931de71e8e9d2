"""Finding the feeds a site advertises: `<link rel="alternate">` in its page, else the common
feed paths (/feed, /rss.xml …), and the sitemaps its robots.txt names.

The daemon uses it when a source's `url` turns out to be an HTML page; `newsmonitor sources
discover URL` lists everything it finds. Every request goes through the guarded client with the
usual caps, and parsing goes through the caller's `parse` (the parser workers in the daemon).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.core.errors import FetchError
from monitor.sources.feeds import NotAFeedError, ParsedFeed
from monitor.sources.http import fetch

COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
}
_SCAN_LIMIT = 256 * 1024
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

Parse = Callable[[bytes, str, Mapping[str, str]], Awaitable[ParsedFeed]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A feed or sitemap a site offers: where, what kind, and the title it gives."""

    url: str
    kind: str  # rss | atom | json | feed | sitemap
    title: str = ""
    how: str = "advertised"  # advertised | common path | robots.txt | given


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetching:
    """The caps of each request discovery makes."""

    max_bytes: int
    timeout: float
    max_redirects: int


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[Found] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            self.base = _absolute(self.base, href or "") or self.base
        if tag != "link":
            return
        values = {name: value or "" for name, value in attrs}
        kind = _FEED_TYPES.get(values.get("type", "").lower().split(";")[0].strip())
        href = _absolute(self.base, values.get("href", ""))
        rel = values.get("rel", "").lower().split()
        if "alternate" in rel and kind and href and all(f.url != href for f in self.found):
            title = " ".join(values.get("title", "").split())
            self.found.append(Found(url=href, kind=kind, title=title))


def _absolute(base: str, href: str) -> str | None:
    if not href.strip():
        return None
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def advertised(body: bytes, base: str) -> list[Found]:
    """The feeds an HTML page links to with `<link rel="alternate">`, in page order."""
    parser = _Links(base)
    # A broken page still gives whatever links came before the breakage.
    with contextlib.suppress(Exception):
        parser.feed(body[:_SCAN_LIMIT].decode("utf-8", errors="replace"))
        parser.close()
    return parser.found


def _kind(body: bytes) -> str:
    head = body[:2048].lstrip()
    if head[:1] in (b"{", b"["):
        return "json"
    return "atom" if b"http://www.w3.org/2005/Atom" in head else "rss"


async def _try_feed(
    client: httpx.AsyncClient, url: str, parse: Parse, caps: Fetching, how: str
) -> tuple[Found | None, bytes, Mapping[str, str], str]:
    """The feed at `url` if it is one, and the body, headers and final URL fetched."""
    result = await fetch(
        client,
        url,
        max_bytes=caps.max_bytes,
        timeout=caps.timeout,
        max_redirects=caps.max_redirects,
    )
    try:
        parsed = await parse(result.body, result.url, result.headers)
    except NotAFeedError:
        return None, result.body, result.headers, result.url
    except FetchError:
        return None, b"", result.headers, result.url
    found = Found(url=result.url, kind=_kind(result.body), title=parsed.title, how=how)
    return found, result.body, result.headers, result.url


async def discover(
    client: httpx.AsyncClient,
    url: str,
    parse: Parse,
    caps: Fetching,
    *,
    probe: bool = True,
    sitemaps: bool = False,
) -> list[Found]:
    """What `url` offers: itself if it is a feed; else the feeds its page advertises, else
    (with `probe`) the first common feed path that is a feed; with `sitemaps`, also the
    sitemaps its site's robots.txt names. Raises FetchError when `url` cannot be fetched."""
    itself, body, _, final = await _try_feed(client, url, parse, caps, "given")
    if itself is not None:
        return [itself]
    found = advertised(body, final)
    if not found and probe:
        found = await common_path(client, final, parse, caps)
    if sitemaps:
        found.extend(await _robots_sitemaps(client, final, caps))
    return found


async def common_path(
    client: httpx.AsyncClient, page: str, parse: Parse, caps: Fetching
) -> list[Found]:
    """The first of the common feed paths of `page`'s site that serves a feed, if any."""
    for path in COMMON_PATHS:
        with contextlib.suppress(FetchError):
            feed = (await _try_feed(client, urljoin(page, path), parse, caps, "common path"))[0]
            if feed is not None:
                return [feed]
    return []


async def _robots_sitemaps(client: httpx.AsyncClient, base: str, caps: Fetching) -> list[Found]:
    try:
        result = await fetch(
            client,
            urljoin(base, "/robots.txt"),
            max_bytes=min(caps.max_bytes, 512 * 1024),
            timeout=caps.timeout,
            max_redirects=caps.max_redirects,
        )
    except FetchError:
        return []
    text = result.body.decode("utf-8", errors="replace")
    urls = [_absolute(result.url, m) for m in _ROBOTS_SITEMAP.findall(text)]
    return [
        Found(url=u, kind="sitemap", how="robots.txt") for u in dict.fromkeys(u for u in urls if u)
    ]
