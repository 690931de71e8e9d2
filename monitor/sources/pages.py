"""Reading a list page without a feed (a ministry's press releases) into entries, by CSS
selectors: `item` picks each row, `title`, `link`, `date` and `summary` are read inside it, and
`selector@attr` takes an attribute instead of the text.

Runs in the parser workers, like feed parsing: lxml's HTML parser with no network and no huge
trees, a page capped by `fetch.max_bytes`, items by `fetch.max_entries`. A selector that matches
nothing, or rows that give no link, fail the poll with the reason instead of polling empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from monitor.core.errors import FetchError
from monitor.core.model import Entry, PageRule
from monitor.sources.charset import to_utf8
from monitor.sources.dates import parse_date
from monitor.sources.feeds import ParsedFeed, linker

# <meta charset="euc-kr"> or <meta http-equiv=... content="text/html; charset=euc-kr">.
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
# lxml's plain HTML parser: lxml.html's element classes cost a lookup for every node touched.
_PARSER = etree.HTMLParser(
    encoding="utf-8", no_network=True, huge_tree=False, remove_comments=True, remove_pis=True
)


@lru_cache(maxsize=256)
def _compiled(selector: str) -> tuple[CSSSelector, str | None]:
    """The compiled selector and the attribute it takes (None: the text)."""
    css, at, attribute = selector.rpartition("@") if "@" in selector else (selector, "", "")
    return CSSSelector(css.strip(), translator="html"), (attribute if at else None)


def _matches(
    document: etree._Element, rows: dict[etree._Element, int], selector: str
) -> list[etree._Element | None]:
    """For each row, the first node `selector` matches in it.

    The selector runs once over the whole page and each match goes to the row it is in:
    running it inside each row took most of a page's time.
    """
    found: list[etree._Element | None] = [None] * len(rows)
    for node in _compiled(selector)[0](document):
        row = next((rows[a] for a in node.iterancestors() if a in rows), None)
        if row is not None and found[row] is None:
            found[row] = node
    return found


def _values(nodes: list[etree._Element | None], selector: str) -> list[str]:
    """The text of each node, or the attribute `selector@attr` names."""
    attribute = _compiled(selector)[1]
    if attribute is not None:
        return [(n.get(attribute) or "").strip() if n is not None else "" for n in nodes]
    return [" ".join("".join(n.itertext()).split()) if n is not None else "" for n in nodes]


def _field(
    document: etree._Element, rows: dict[etree._Element, int], selector: str | None
) -> list[str]:
    if selector is None:
        return [""] * len(rows)
    return _values(_matches(document, rows, selector), selector)


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


def _resolver(base: str) -> Callable[[str], str | None]:
    """`_absolute` against `base`, joining a plain root-relative path ("/view.do?seq=1", what
    list pages mostly link) to the site without urljoin's cost."""
    link = linker(base)
    try:
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
    except ValueError:
        return lambda href: _absolute(base, href)

    def resolve(href: str) -> str | None:
        href = href.strip()
        if href.startswith("/") and not href.startswith("//") and "/." not in href:
            return link(origin + href)
        return _absolute(base, href)

    return resolve


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
        document = etree.fromstring(decoded.body, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise FetchError("page", f"the page could not be read as HTML: {exc}") from None
    if document is None:
        raise FetchError("page", "the page holds no HTML")
    base = _absolute(url, str(document.xpath("string(//base/@href)") or "")) or url
    rows = _compiled(rule.item)[0](document)
    if not rows:
        raise FetchError("page", f"the item selector {rule.item!r} matches nothing on the page")
    warning = None
    if max_entries is not None and len(rows) > max_entries:
        warning = f"{len(rows)} items, only the first {max_entries} were read"
        rows = rows[:max_entries]
    index = {row: i for i, row in enumerate(rows)}
    title_nodes = _matches(document, index, rule.title)
    titles = _values(title_nodes, rule.title)
    if rule.link:
        hrefs = _field(document, index, rule.link)
    else:
        hrefs = [_anchor_href(node) for node in title_nodes]
    dates = _field(document, index, rule.date)
    summaries = _field(document, index, rule.summary)
    resolve = _resolver(base)
    entries: list[Entry] = []
    titled = 0
    for title, href, date, summary in zip(titles, hrefs, dates, summaries, strict=True):
        if not title:
            continue
        titled += 1
        link = resolve(href)
        if link is None:
            continue
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
