"""Parsing a fetched body as RSS, Atom or JSON Feed into plain-text entries."""

from __future__ import annotations

import calendar
import contextlib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.core.schedule import feed_ttl
from monitor.core.text import strip_html
from monitor.sources.charset import to_utf8
from monitor.sources.fastpath import parse_fast
from monitor.sources.jsonfeed import is_json_feed, load_json, parse_json_feed
from monitor.sources.searchfeeds import clean_entry, outlet_and_origin

_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# An absolute http(s) URL that urljoin returns as it is, whatever the base: a host, then
# printable ASCII but for space, ";" (urlparse splits parameters off at it) and brackets
# (IPv6 hosts, which urlsplit checks). urljoin also drops an empty query or fragment ("a?",
# "a?#", "a#"), which the caller rules out.
_PLAIN_URL = re.compile(r"https?://(?![/?#])[!-:<-Z\\^-~]+")
_HTML_SCAN_LIMIT = 256 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    """The entries of one feed document, in document order, and a non-fatal warning if any."""

    title: str
    entries: tuple[Entry, ...]
    warning: str | None
    # How often the feed says it changes (RSS <ttl>, sy:updatePeriod), if it says.
    ttl: timedelta | None = None


class NotAFeedError(FetchError):
    """The body is an HTML page or other non-feed data; `feed_urls` are feeds the page links to."""

    def __init__(self, message: str, *, feed_urls: tuple[str, ...] = ()) -> None:
        super().__init__("not_a_feed", message)
        self.feed_urls = feed_urls


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    max_entries: int | None = None,
    fast: bool = True,
) -> ParsedFeed:
    """Entries of an RSS, Atom or JSON Feed body, the first `max_entries` of them at most;
    raises FetchError "not_a_feed" or "parse" otherwise. With `fast`, the fast path
    (monitor.sources.fastpath) is tried first and feedparser parses what it turns down."""
    if not body.strip():
        return ParsedFeed(title="", entries=(), warning=None)
    response_headers = {key.lower(): value for key, value in headers.items()}
    content_type = response_headers.get("content-type", "")
    decoded = to_utf8(body, content_type)
    if decoded.body.lstrip()[:1] in (b"{", b"["):
        return _json_feed(decoded.body, url=url, max_entries=max_entries, note=decoded.note)
    if fast:
        quick = parse_fast(decoded.body, link=_linker(url))
        if quick is not None:
            title, _, found, feed = quick
            entries, capped = _cap(found, max_entries)
            return ParsedFeed(
                title=title,
                entries=tuple(entries),
                warning=_join(decoded.note, capped),
                ttl=_ttl(feed),
            )
    response_headers["content-location"] = url
    # feedparser gets the text we decoded, as UTF-8 that says so (see monitor.sources.charset).
    response_headers["content-type"] = "application/xml; charset=utf-8"
    try:
        # Always a stream: feedparser opens a str or bytes argument as a path or URL (T7).
        parsed = feedparser.parse(io.BytesIO(decoded.body), response_headers=response_headers)
    except Exception as exc:  # feedparser has crashed on hostile input before; report, don't die
        raise FetchError("parse", f"feedparser failed: {type(exc).__name__}") from None
    feed_lang = _lang(parsed.feed.get("language"))
    raw_entries, capped = _cap(parsed.entries, max_entries)
    entries = tuple(_entry(raw, url, feed_lang) for raw in raw_entries)
    warning = _join(decoded.note, _warning(parsed), capped)
    if entries or parsed.get("version"):
        feed = parsed.feed
        return ParsedFeed(
            title=_text(feed, "title"),
            entries=entries,
            warning=warning,
            ttl=_ttl(feed),
        )
    raise _not_a_feed(decoded.body, url=url, content_type=content_type)


def _json_feed(body: bytes, *, url: str, max_entries: int | None, note: str | None) -> ParsedFeed:
    document = load_json(body)
    if document is None:
        raise NotAFeedError("the body is not an RSS, Atom or JSON feed")
    if not is_json_feed(document):
        raise NotAFeedError("JSON, but not a JSON Feed (no jsonfeed.org version)")
    title, found = parse_json_feed(document, link=_linker(url))
    entries, capped = _cap(found, max_entries)
    return ParsedFeed(title=title, entries=tuple(entries), warning=_join(note, capped))


def _ttl(feed: Mapping[str, Any]) -> timedelta | None:
    return feed_ttl(feed.get("ttl"), feed.get("sy_updateperiod"), feed.get("sy_updatefrequency"))


def _cap(entries: Sequence[T], limit: int | None) -> tuple[Sequence[T], str | None]:
    if limit is None or len(entries) <= limit:
        return entries, None
    return entries[:limit], f"{len(entries)} entries, only the first {limit} were read"


def _join(*warnings: str | None) -> str | None:
    return "; ".join(w for w in warnings if w) or None


def _entry(raw: Any, base: str, feed_lang: str | None) -> Entry:
    guid = (raw.get("id") or "").strip() or None
    link = _link(raw.get("link"), base)
    outlet, origin = outlet_and_origin(raw, link)
    entry = Entry(
        guid=guid,
        link=link,
        title=_text(raw, "title"),
        summary=_summary(raw),
        published=_timestamp(raw.get("published_parsed") or raw.get("updated_parsed")),
        content=_content(raw),
        lang=_lang((raw.get("title_detail") or {}).get("language")) or feed_lang,
        outlet=outlet,
        origin=origin,
    )
    return clean_entry(entry) if outlet else entry


def _lang(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def _text(node: Any, key: str) -> str:
    detail = node.get(f"{key}_detail") or {}
    return _plain(node.get(key) or "", detail.get("type"))


def _plain(value: str, kind: str | None) -> str:
    # feedparser marks text it found no markup in as text/plain; "a < b" there is literal.
    if "html" in (kind or "text/html"):
        return strip_html(value)
    return _SPACE.sub(" ", value).strip()


def _summary(raw: Any) -> str:
    if raw.get("summary"):
        return _text(raw, "summary")
    for content in raw.get("content") or ():
        if content.get("value"):
            return _plain(content["value"], content.get("type"))
    return ""


def _content(raw: Any) -> str:
    parts = [_plain(c["value"], c.get("type")) for c in raw.get("content") or () if c.get("value")]
    return "\n".join(p for p in parts if p)


def _linker(base: str) -> Callable[[Any], str | None]:
    """`_link` against `base`, answering at once for the plain absolute http(s) URL that
    nearly every item links to: urljoin and urlsplit then give that URL back unchanged, at
    several times the cost."""
    try:
        urlsplit(base)
    except ValueError:
        return lambda value: _link(value, base)  # urljoin fails on every value: no shortcut

    def link(value: Any) -> str | None:
        if isinstance(value, str):
            url = value.strip()
            if _PLAIN_URL.fullmatch(url) and url[-1] not in "?#" and "?#" not in url:
                return url
        return _link(value, base)

    return link


def linker(base: str) -> Callable[[Any], str | None]:
    """A function giving the absolute http(s) URL of a link found in a document at `base`."""
    return _linker(base)


def _link(value: str | None, base: str) -> str | None:
    if not value or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _warning(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "feedparser reported a problem"
    return f"{type(exc).__name__}: {exc}"


def _not_a_feed(body: bytes, *, url: str, content_type: str) -> FetchError:
    head = body[:_HTML_SCAN_LIMIT]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if "html" in content_type.lower() or _HTML_START.search(head[:4096]):
        feed_urls = _alternate_feeds(head, url)
        if feed_urls:
            more = f" (and {len(feed_urls) - 1} more)" if len(feed_urls) > 1 else ""
            return NotAFeedError(
                f"an HTML page, not a feed; it links to the feed {feed_urls[0]}{more}: "
                "use that URL instead",
                feed_urls=feed_urls,
            )
        return NotAFeedError("an HTML page, not a feed, and it links to no RSS or Atom feed")
    if start.startswith(b"<"):
        return FetchError("parse", "an XML document that is neither RSS nor Atom")
    return NotAFeedError("the body is not an RSS, Atom or JSON feed")


class _AlternateLinks(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name: value or "" for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        href = _link(values.get("href"), self.base)
        if "alternate" in rel and kind in _FEED_TYPES and href and href not in self.found:
            self.found.append(href)


def _alternate_feeds(head: bytes, base: str) -> tuple[str, ...]:
    parser = _AlternateLinks(base)
    # A broken page still gives whatever links came before the breakage.
    with contextlib.suppress(Exception):
        parser.feed(head.decode("utf-8", errors="replace"))
        parser.close()
    return tuple(parser.found)
