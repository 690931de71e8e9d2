"""Reading sitemaps into entries: Google News sitemaps (`<news:news>` with title, publication
date, keywords and language) and plain ones, dated by `<lastmod>`; an index names its child
sitemaps, which the poller follows one level, newest first (`MAX_CHILDREN` per poll).

Runs in the parser workers. A sitemap is XML that never needs a DTD, so one with a DOCTYPE or an
entity declaration is refused before parsing (the entity bomb); lxml then parses with no
network, no entity resolution and no huge trees, within `fetch.max_bytes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.sources.dates import parse_date
from monitor.sources.feeds import NotAFeedError, ParsedFeed, linker

MAX_CHILDREN = 5
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=False
)
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_SLUG_WORDS = re.compile(r"[-_+]+")
_NEVER = datetime.min.replace(tzinfo=UTC)
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class SitemapIndex(NotAFeedError):
    """The body is a sitemap index; `feed_urls` are its child sitemaps, newest first."""


def refuse_dtd(body: bytes, what: str) -> None:
    """Raise FetchError "parse" for XML that declares a DTD or entities (never needed here)."""
    if _DTD.search(body):
        raise FetchError("parse", f"{what} with a DTD or entity declarations: refused")


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _namespace(tag: str) -> str:
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


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
    ns = _namespace(root.tag)
    if kind == "sitemapindex":
        raise _index(root, url, ns)
    if kind != "urlset":
        raise FetchError("parse", f"an XML document with <{kind}>, not a sitemap (<urlset>)")
    link = linker(url)
    found = [
        entry
        for node in root.iterchildren(ns + "url")
        if (entry := _entry(node, ns, link)) is not None
    ]
    found.sort(key=lambda e: e.published or _NEVER, reverse=True)
    warning = None
    if max_entries is not None and len(found) > max_entries:
        warning = f"{len(found)} URLs, only the newest {max_entries} were read"
        found = found[:max_entries]
    return ParsedFeed(title="", entries=tuple(found), warning=warning)


def _text(node: etree._Element, path: str) -> str:
    return " ".join((node.findtext(path) or "").split())


def _entry(node: etree._Element, ns: str, link: Callable[[Any], str | None]) -> Entry | None:
    # One pass over the children, comparing tags: lxml's find() compiles a path per call.
    loc_tag, lastmod_tag, news_tag = ns + "loc", ns + "lastmod", _NEWS + "news"
    loc = lastmod = None
    news: etree._Element | None = None
    for child in node:
        tag = child.tag
        if tag == loc_tag:
            loc = child.text
        elif tag == lastmod_tag:
            lastmod = child.text
        elif tag == news_tag:
            news = child
    url = link((loc or "").strip())
    if url is None:
        return None
    if news is None:
        return Entry(
            guid=None, link=url, title=title_from_url(url), summary="", published=_date(lastmod)
        )
    fields: dict[str, str | None] = {}
    for child in news:
        if child.tag == _NEWS + "publication":
            for part in child:
                fields[part.tag] = part.text
        else:
            fields[child.tag] = child.text
    lang = _clean(fields.get(_NEWS + "language")).lower() or None
    return Entry(
        guid=None,
        link=url,
        title=_clean(fields.get(_NEWS + "title")) or title_from_url(url),
        summary=_clean(fields.get(_NEWS + "keywords")),
        published=_date(fields.get(_NEWS + "publication_date")) or _date(lastmod),
        lang=lang,
    )


def _clean(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _date(text: str | None) -> datetime | None:
    return parse_date(text) if text else None


def _index(root: etree._Element, base: str, ns: str) -> SitemapIndex:
    children: list[tuple[datetime, str]] = []
    for node in root.iterchildren(ns + "sitemap"):
        child = linker(base)(_text(node, ns + "loc"))
        if child is not None and child != base:
            children.append((_date(node.findtext(ns + "lastmod")) or _NEVER, child))
    # Newest first; undated children keep their order after the dated ones.
    children.sort(key=lambda pair: pair[0], reverse=True)
    urls = tuple(dict.fromkeys(url for _, url in children))
    return SitemapIndex(f"a sitemap index of {len(urls)} sitemaps", feed_urls=urls)
