"""Reading a list page without a feed (a ministry's press releases) into entries, by CSS
selectors: `item` picks each row, `title`, `link`, `date` and `summary` are read inside it, and
`selector@attr` takes an attribute instead of the text.

Runs in the parser workers, like feed parsing: lxml's HTML parser with no network and no huge
trees, a page capped by `fetch.max_bytes`, items by `fetch.max_entries`. A selector that matches
nothing, or rows that give no link, fail the poll with the reason instead of polling empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree, html
from lxml.cssselect import CSSSelector

from monitor.core.errors import FetchError
from monitor.core.model import Entry, PageRule
from monitor.sources.charset import to_utf8
from monitor.sources.dates import parse_date
from monitor.sources.feeds import ParsedFeed

# <meta charset="euc-kr"> or <meta http-equiv=... content="text/html; charset=euc-kr">.
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_PARSER = html.HTMLParser(
    encoding="utf-8", no_network=True, huge_tree=False, remove_comments=True, remove_pis=True
)


@lru_cache(maxsize=256)
def _compiled(selector: str) -> tuple[CSSSelector, str | None]:
    """The compiled selector and the attribute it takes (None: the text)."""
    css, at, attribute = selector.rpartition("@") if "@" in selector else (selector, "", "")
    return CSSSelector(css.strip(), translator="html"), (attribute if at else None)


def _first(node: etree._Element, selector: str) -> tuple[etree._Element | None, str]:
    compiled, attribute = _compiled(selector)
    found = compiled(node)
    if not found:
        return None, ""
    element = found[0]
    if attribute is not None:
        return element, (element.get(attribute) or "").strip()
    return element, " ".join(element.text_content().split())


def _anchor_href(element: etree._Element | None) -> str:
    """The href of the first <a> in the title, or of the <a> the title is in."""
    if element is None:
        return ""
    if element.tag == "a" and element.get("href"):
        return str(element.get("href"))
    inner = element.find(".//a[@href]")
    if inner is not None:
        return str(inner.get("href"))
    for parent in element.iterancestors("a"):
        if parent.get("href"):
            return str(parent.get("href"))
    return ""


def _absolute(base: str, href: str) -> str | None:
    if not href:
        return None
    try:
        url = urljoin(base, href.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def parse_page(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    rule: PageRule,
    max_entries: int | None = None,
) -> ParsedFeed:
    """The entries of a list page, in page order; raises FetchError "page" when the
    selectors find nothing to read."""
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    meta = _META_CHARSET.search(body[:4096])
    if meta and "charset" not in content_type.lower():
        content_type = "text/html; charset=" + meta.group(1).decode("ascii")
    decoded = to_utf8(body, content_type)
    if not decoded.body.strip():
        raise FetchError("page", "the page is empty")
    try:
        document = html.document_fromstring(decoded.body, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise FetchError("page", f"the page could not be read as HTML: {exc}") from None
    base = _absolute(url, str(document.xpath("string(//base/@href)") or "")) or url
    rows = _compiled(rule.item)[0](document)
    if not rows:
        raise FetchError("page", f"the item selector {rule.item!r} matches nothing on the page")
    warning = None
    if max_entries is not None and len(rows) > max_entries:
        warning = f"{len(rows)} items, only the first {max_entries} were read"
        rows = rows[:max_entries]
    entries: list[Entry] = []
    titled = 0
    for row in rows:
        element, title = _first(row, rule.title)
        if not title:
            continue
        titled += 1
        href = _first(row, rule.link)[1] if rule.link else _anchor_href(element)
        link = _absolute(base, href)
        if link is None:
            continue
        date = _first(row, rule.date)[1] if rule.date else ""
        summary = _first(row, rule.summary)[1] if rule.summary else ""
        entries.append(
            Entry(guid=None, link=link, title=title, summary=summary, published=parse_date(date))
        )
    if not titled:
        raise FetchError(
            "page", f"the title selector {rule.title!r} matches nothing in the {len(rows)} items"
        )
    if not entries:
        which = f"link selector {rule.link!r}" if rule.link else "title (no <a href> in it)"
        raise FetchError("page", f"no item gives a link: the {which} finds no http(s) URL")
    if len(entries) < titled:
        skipped = f"{titled - len(entries)} items without a link were skipped"
        warning = f"{warning}; {skipped}" if warning else skipped
    return ParsedFeed(title=_page_title(document), entries=tuple(entries), warning=warning)


def _page_title(document: etree._Element) -> str:
    return " ".join(str(document.xpath("string(//title)") or "").split())
