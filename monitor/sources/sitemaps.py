"""Reading sitemaps into entries: Google News sitemaps (`<news:news>` with title, publication
date, keywords and language) and plain ones, dated by `<lastmod>`; an index names its child
sitemaps, which the poller follows one level, newest first (`MAX_CHILDREN` per poll).

Runs in the parser workers. A sitemap is XML that never needs a DTD, so one with a DOCTYPE or an
entity declaration is refused before parsing (the entity bomb); lxml then parses with no
network, no entity resolution and no huge trees, within `fetch.max_bytes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.sources.dates import parse_date
from monitor.sources.feeds import NotAFeedError, ParsedFeed

MAX_CHILDREN = 5
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=False
)
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_SLUG_WORDS = re.compile(r"[-_+]+")
_NEVER = datetime.min.replace(tzinfo=UTC)


class SitemapIndex(NotAFeedError):
    """The body is a sitemap index; `feed_urls` are its child sitemaps, newest first."""


def refuse_dtd(body: bytes, what: str) -> None:
    """Raise FetchError "parse" for XML that declares a DTD or entities (never needed here)."""
    if _DTD.search(body):
        raise FetchError("parse", f"{what} with a DTD or entity declarations: refused")


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(node: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    for child in node:
        name = _local(child.tag)
        if name:
            yield name, child


def _text(node: etree._Element, *path: str) -> str:
    """The text of the first descendant along `path` (local names)."""
    for name in path:
        found = next((c for n, c in _children(node) if n == name), None)
        if found is None:
            return ""
        node = found
    return " ".join((node.text or "").split())


def _absolute(base: str, value: str) -> str | None:
    if not value:
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def title_from_url(url: str) -> str:
    """Words from the last part of an article's path ("korea-china-trade.html" gives
    "korea china trade"), for sitemaps that carry no title."""
    path = urlsplit(url).path.rstrip("/")
    last = unquote(path.rpartition("/")[2]).rpartition(".")
    stem = last[0] if last[1] and len(last[2]) <= 5 else "".join(last)
    if stem.isdigit():
        return ""
    return " ".join(_SLUG_WORDS.sub(" ", stem).split())


def parse_sitemap(
    body: bytes, *, url: str, headers: Mapping[str, str], max_entries: int | None = None
) -> ParsedFeed:
    """The entries of a sitemap, newest first; raises SitemapIndex for an index, FetchError
    "parse" for anything else."""
    del headers  # XML declares its own encoding, and lxml reads it
    refuse_dtd(body, "a sitemap")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FetchError("parse", f"the sitemap is not well-formed XML: {exc}") from None
    kind = _local(root.tag)
    if kind == "sitemapindex":
        raise _index(root, url)
    if kind != "urlset":
        raise FetchError("parse", f"an XML document with <{kind}>, not a sitemap (<urlset>)")
    found = [entry for _, node in _children(root) if (entry := _entry(node, url)) is not None]
    found.sort(key=lambda e: e.published or _NEVER, reverse=True)
    warning = None
    if max_entries is not None and len(found) > max_entries:
        warning = f"{len(found)} URLs, only the newest {max_entries} were read"
        found = found[:max_entries]
    return ParsedFeed(title="", entries=tuple(found), warning=warning)


def _entry(node: etree._Element, base: str) -> Entry | None:
    if _local(node.tag) != "url":
        return None
    link = _absolute(base, _text(node, "loc"))
    if link is None:
        return None
    news = next((c for n, c in _children(node) if n == "news"), None)
    if news is None:
        return Entry(
            guid=None,
            link=link,
            title=title_from_url(link),
            summary="",
            published=parse_date(_text(node, "lastmod")),
        )
    lang = _text(news, "publication", "language").lower() or None
    return Entry(
        guid=None,
        link=link,
        title=_text(news, "title") or title_from_url(link),
        summary=_text(news, "keywords"),
        published=parse_date(_text(news, "publication_date")) or parse_date(_text(node, "lastmod")),
        lang=lang,
    )


def _index(root: etree._Element, base: str) -> SitemapIndex:
    children: list[tuple[datetime, str]] = []
    for name, node in _children(root):
        child = _absolute(base, _text(node, "loc")) if name == "sitemap" else None
        if child is not None and child != base:
            children.append((parse_date(_text(node, "lastmod")) or _NEVER, child))
    # Newest first; undated children keep their order after the dated ones.
    children.sort(key=lambda pair: pair[0], reverse=True)
    urls = tuple(dict.fromkeys(url for _, url in children))
    return SitemapIndex(f"a sitemap index of {len(urls)} sitemaps", feed_urls=urls)
