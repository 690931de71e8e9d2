"""Aggregated items: the outlet behind each item of a news-search feed or a planet, and the
publisher's own URL behind the aggregator's redirect link.

Any RSS item may name where it came from with `<source url="…">Outlet</source>` (Google News
does, so do planets); Bing News names it in its own `News:Source` element and carries the
publisher's URL in the `url` parameter of its click-through link. Google News gives no
publisher URL at all: the poller asks the redirect link once (`resolve_origins`, guarded and
cached) for the new items of a poll.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.sources.http import fetch

# New items of one poll whose publisher URL is asked for; the rest keep the redirect link.
MAX_RESOLVED_PER_POLL = 20
_CACHE_SIZE = 4096
# The redirect is what is wanted, not the page: a small cap, and a failure costs nothing more.
_RESOLVE_MAX_BYTES = 512 * 1024
_SEPARATORS = (" - ", " | ", " – ", " — ")  # noqa: RUF001 - the dashes outlets put in titles


def _host(url: str | None) -> str:
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def _http(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None


def outlet_and_origin(raw: Mapping[str, Any], link: str | None) -> tuple[str | None, str | None]:
    """The outlet a feedparser item names and the publisher's URL where the item gives it."""
    source = raw.get("source")
    outlet = home = None
    if isinstance(source, Mapping):
        outlet = " ".join(str(source.get("title") or "").split()) or None
        home = _http(source.get("href"))
    bing = raw.get("news_source")
    if outlet is None and isinstance(bing, str):
        outlet = " ".join(bing.split()) or None
    if outlet is None:
        return None, None
    origin = publisher_url(link)
    if origin is None and link and home and _host(link) == _host(home):
        origin = link  # the item links to the outlet itself: no redirect to see through
    return outlet, origin


def publisher_url(link: str | None) -> str | None:
    """The publisher's URL a click-through link carries: in its `url` parameter (Bing News),
    or inside the article id of an older Google News link."""
    if not link:
        return None
    try:
        parts = urlsplit(link)
        values = (parse_qs(parts.query).get("url") or []) if "url=" in link else []
    except ValueError:
        return None
    found = next((v for v in map(_http, values) if v), None)
    if found is None and (parts.hostname or "").endswith("news.google.com"):
        return _google_article_url(parts.path.rpartition("/")[2])
    return found


def _google_article_url(token: str) -> str | None:
    """The URL in a Google News article id that holds one (a base64 protobuf whose string
    field is the URL, as ids starting "CBMi" long did); newer ids hold none."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    start = raw.find(b"http")
    if start < 1:
        return None
    # The string's length is the varint just before it: one byte, or two for 128 and more.
    length = raw[start - 1]
    if start >= 2 and raw[start - 2] & 0x80:
        length = (raw[start - 2] & 0x7F) | (length << 7)
    url = raw[start : start + length]
    if len(url) != length or not url.isascii():
        return None
    return _http(url.decode("ascii"))


def strip_outlet(text: str, outlet: str | None) -> str:
    """A title without the " - Outlet" that aggregators append to it."""
    if not outlet:
        return text
    for separator in _SEPARATORS:
        tail = separator + outlet
        if text.endswith(tail) and len(text) > len(tail):
            return text[: -len(tail)].rstrip()
    return text


def clean_entry(entry: Entry) -> Entry:
    """The entry with the outlet's name taken off its title, and off a summary that is only
    the title and the outlet again (Google News)."""
    if not entry.outlet:
        return entry
    title = strip_outlet(entry.title, entry.outlet)
    summary = entry.summary
    if summary.endswith(entry.outlet):
        bare = summary[: -len(entry.outlet)].rstrip()
        summary = "" if bare in (title, entry.title) else summary
    return replace(entry, title=title, summary=summary)


class OriginCache:
    """Publisher URLs found behind redirect links, the newest kept (None: none found)."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._known: OrderedDict[str, str | None] = OrderedDict()

    def get(self, link: str) -> tuple[bool, str | None]:
        if link not in self._known:
            return False, None
        self._known.move_to_end(link)
        return True, self._known[link]

    def put(self, link: str, origin: str | None) -> None:
        self._known[link] = origin
        self._known.move_to_end(link)
        while len(self._known) > self.size:
            self._known.popitem(last=False)


async def resolve_origins(
    client: httpx.AsyncClient,
    links: Sequence[str],
    cache: OriginCache,
    *,
    timeout: float,  # noqa: ASYNC109 - fetch takes a plain number
    max_redirects: int,
) -> dict[str, str]:
    """The publisher's URL for each link that redirects, asking each link not in `cache`
    once (guarded by the client's egress policy, as any fetch)."""

    async def one(link: str) -> None:
        try:
            result = await fetch(
                client,
                link,
                max_bytes=_RESOLVE_MAX_BYTES,
                timeout=timeout,
                max_redirects=max_redirects,
            )
            # Only a redirect tells a publisher's URL from the aggregator's own page.
            origin = result.url if result.redirects and result.url != link else None
        except FetchError:
            origin = None
        cache.put(link, origin)

    asked = [link for link in dict.fromkeys(links) if not cache.get(link)[0]]
    await asyncio.gather(*(one(link) for link in asked[:MAX_RESOLVED_PER_POLL]))
    found = {}
    for link in links:
        seen, origin = cache.get(link)
        if seen and origin:
            found[link] = origin
    return found
