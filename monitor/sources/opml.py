"""OPML, the feed readers' export format: reading its feeds as sources, writing ours as OPML 2.0.

An OPML file comes from elsewhere, so it is read like any untrusted XML: no DTD or entity
declaration at all (the entity bomb is refused before parsing), no network, no huge trees, and
at most `MAX_FEEDS` feeds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from monitor.core.errors import FetchError
from monitor.sources.sitemaps import refuse_dtd

MAX_FEEDS = 5000
MAX_BYTES = 10 * 1024 * 1024
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=False
)
_NOT_NAME = re.compile(r"[^a-z0-9_.]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class OutlineFeed:
    """One feed of an OPML file: its URL, its title, and the folders it sits in."""

    url: str
    title: str
    folders: tuple[str, ...] = ()


def read_opml(body: bytes) -> list[OutlineFeed]:
    """The feeds (outlines with an http(s) `xmlUrl`) of an OPML document, in document order,
    each URL once; raises FetchError "opml" with the reason otherwise."""
    if len(body) > MAX_BYTES:
        raise FetchError("opml", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        refuse_dtd(body, "an OPML file")
        root = etree.fromstring(body, _PARSER)
    except FetchError as exc:
        raise FetchError("opml", exc.message) from None
    except etree.XMLSyntaxError as exc:
        raise FetchError("opml", f"not well-formed XML: {exc}") from None
    if root.tag != "opml":
        raise FetchError("opml", f"the document is <{root.tag}>, not <opml>")
    feeds: dict[str, OutlineFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in feeds:
            continue
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if len(feeds) == MAX_FEEDS:
            raise FetchError("opml", f"more than {MAX_FEEDS} feeds; split the file")
        title = outline.get("title") or outline.get("text") or ""
        folders = tuple(
            " ".join((parent.get("text") or parent.get("title") or "").split())
            for parent in outline.iterancestors("outline")
        )
        feeds[url] = OutlineFeed(
            url=url, title=" ".join(title.split()), folders=tuple(f for f in folders if f)[::-1]
        )
    return list(feeds.values())


def source_name(title: str, url: str, taken: set[str]) -> str:
    """A valid source name from a feed's title (else its host), unique among `taken`, which
    it joins."""
    base = _NOT_NAME.sub("-", title.lower()).strip("-._")[:40].strip("-._")
    if not base or not base[0].isalnum() or not base.isascii():
        host = (urlsplit(url).hostname or "feed").removeprefix("www.")
        base = _NOT_NAME.sub("-", host.lower()).strip("-._") or "feed"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _tag(text: str) -> str:
    return _NOT_NAME.sub("-", text.lower()).strip("-._")


def sources_yaml(feeds: Iterable[OutlineFeed], *, tags: Sequence[str], taken: set[str]) -> str:
    """A sources file for `include:`, one flow mapping per feed (strings JSON-quoted, which
    YAML reads as they are)."""
    lines = ["# Imported from OPML by `newsmonitor sources import`.", "sources:"]
    for feed in feeds:
        name = source_name(feed.title, feed.url, taken)
        labels = list(dict.fromkeys([*tags, *(t for t in map(_tag, feed.folders) if t)]))
        item = f"  - {{name: {name}, url: {json.dumps(feed.url)}"
        if labels:
            item += ", tags: [" + ", ".join(json.dumps(t) for t in labels) + "]"
        title = f"  # {feed.title}" if feed.title else ""
        lines.append(item + "}" + title.replace("\n", " "))
    return "\n".join(lines) + "\n"


def write_opml(feeds: Iterable[tuple[str, str, Sequence[str]]], *, title: str) -> str:
    """OPML 2.0 listing (name, feed URL, tags) as outlines of type rss."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for name, url, tags in feeds:
        outline = etree.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
        if tags:
            outline.set("category", ",".join(tags))
    text: str = etree.tostring(root, pretty_print=True, xml_declaration=False, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text
