"""An article page's main text and metadata, read with trafilatura; runs in a parser worker.

The page is decoded here first: publishers declare the wrong charset as often on pages as on
feeds, and a Korean page in EUC-KR declared as UTF-8, or a Chinese one in GBK declared as
ISO-8859-1 (which decodes any bytes, wrongly), must come out as text. A page behind a paywall,
a login or a consent form gives a teaser, not the article: it fails with kind "paywall".
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import charset_normalizer

from monitor.core.errors import FetchError
from monitor.core.fulltext import word_count

# Shorter than this, a page holds no article text worth matching on.
MIN_WORDS = 25
# A page showing a wall marker is a teaser unless it carries at least this much text.
WALL_WORDS = 150
# A text of at least MENU_LINES lines of at most MENU_WORDS words, MENU_SHARE of all its lines
# or more, is a site's menus and links rather than an article.
MENU_WORDS, MENU_LINES, MENU_SHARE = 3, 5, 0.3
_GUESS_BYTES = 64 * 1024
# Charsets that decode any bytes at all, so decoding without error proves nothing.
_PERMISSIVE = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"})
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HEAD_CHARS = 64 * 1024
_TAG = re.compile(r"<(meta|link)\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(["'])(.*?)\2""", re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.I)
_WALLS = (
    ("paywall", re.compile(r"\"isAccessibleForFree\"\s*:\s*\"?false", re.IGNORECASE)),
    (
        "paywall",
        re.compile(
            r"class\s*=\s*[\"'][^\"']*\b(?:paywall|subscriber-only|premium-content|"
            r"meteredContent|regwall|piano-offer)\b",
            re.IGNORECASE,
        ),
    ),
    ("login wall", re.compile(r"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)),
    (
        "consent wall",
        re.compile(
            r"<form[^>]*(?:consent|cookie|gdpr)|id\s*=\s*[\"'][^\"']*(?:consent|cookie-wall)",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """An article page's main text, paragraphs one per line, and what the page says about
    itself; `note` names a charset repair."""

    text: str
    url: str  # the canonical URL when the page gives one, else the URL it was fetched from
    title: str | None = None
    author: str | None = None
    date: str | None = None
    lang: str | None = None
    note: str | None = None


def decode_page(body: bytes, content_type: str = "") -> tuple[str, str, str | None]:
    """The page as text, the charset it was read in, and the one it declared (if any)."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8", None
    http = _HTTP_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:4096])
    names = [http.group(1) if http else None, meta.group(1).decode() if meta else None]
    declared = [_name(n) for n in names if n]
    for candidate in ["utf-8", *declared]:
        if candidate in _PERMISSIVE:
            continue
        try:
            return body.decode(candidate), candidate, declared[0] if declared else None
        except (UnicodeDecodeError, LookupError):
            continue
    guess = charset_normalizer.from_bytes(body[:_GUESS_BYTES]).best()
    permissive = next((c for c in declared if c in _PERMISSIVE), "cp1252")
    encoding = _name(guess.encoding) if guess is not None and guess.encoding else permissive
    return (
        body.decode(encoding, errors="replace"),
        encoding,
        declared[0] if declared else None,
    )


def _name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


def _wall(html: str, walls: Sequence[tuple[str, re.Pattern[str]]] = _WALLS) -> str | None:
    for reason, marker in walls:
        if marker.search(html):
            return reason
    return None


def _head_tags(html: str) -> tuple[dict[str, str], str | None]:
    """The page's <meta> and <link> values by name (og:url, author, canonical …), and its
    <title>: read from the head with two regular expressions, as trafilatura's own metadata
    pass costs as much CPU again as the text."""
    head = html[: max(html.find("</head>"), 0) or _HEAD_CHARS][:_HEAD_CHARS]
    values: dict[str, str] = {}
    for tag in _TAG.finditer(head):
        attrs = {k.lower(): v for k, _, v in _ATTR.findall(tag.group(0)) if v}
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        value = attrs.get("content")
        if tag.group(1).lower() == "link":
            key, value = (attrs.get("rel") or "").lower(), attrs.get("href")
        if key and value and key not in values:
            values[key] = html_lib.unescape(value).strip()
    found = _TITLE.search(head)
    title = html_lib.unescape(found.group(1)).strip() if found else None
    return values, title


def _lines(trafilatura: Any, html: str, url: str, *, fast: bool) -> list[str]:
    text = trafilatura.extract(
        html,
        url=url,
        fast=fast,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
    )
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _menu_like(lines: list[str]) -> bool:
    short = sum(1 for line in lines if len(line.split()) <= MENU_WORDS)
    return short >= MENU_LINES and short >= MENU_SHARE * len(lines)


def extract_page(body: bytes, *, url: str, content_type: str = "") -> Page:
    """The page's main text and metadata; FetchError "empty", "paywall" or "no_text" when it
    holds no article text to match on."""
    if not body.strip():
        raise FetchError("empty", "the page is empty")
    # Imported here: only the parser workers extract pages (they import it as they start).
    import trafilatura

    html, encoding, declared = decode_page(body, content_type)
    # First without the fallback extractors' second opinion, which costs a third more CPU and
    # changes nothing on most pages (bench/fulltext.py); with it when the text came out as a
    # list of menu items, as on pages whose paragraphs are <br>-separated runs.
    lines = _lines(trafilatura, html, url, fast=True)
    if _menu_like(lines):
        lines = _lines(trafilatura, html, url, fast=False)
    meta, head_title = _head_tags(html)
    title = meta.get("og:title") or head_title
    if lines and title and title.startswith(lines[0]):
        lines = lines[1:]  # the headline repeated above the body is not its first paragraph
    text = "\n".join(lines)
    words = word_count(text)
    # The publisher's own "not free" marker holds however long the teaser; the others only
    # when the text is short, as a login link or a cookie form sits on many free pages.
    wall = _wall(html) if words < WALL_WORDS else _wall(html, _WALLS[:1])
    if wall is not None:
        raise FetchError("paywall", f"{wall}: the page shows {words} words of the article")
    if words < MIN_WORDS:
        raise FetchError("no_text", f"no article text found ({words} words)")
    lang = _LANG.search(html[:4096])
    note = None
    if declared is not None and declared != encoding:
        note = f"declared as {declared} but read as {encoding}"
    canonical = meta.get("canonical") or meta.get("og:url")
    return Page(
        text=text,
        url=urljoin(url, canonical) if canonical else url,
        title=title,
        author=meta.get("author") or meta.get("article:author"),
        date=meta.get("article:published_time") or meta.get("datepublished") or meta.get("date"),
        lang=lang.group(1).lower() if lang else None,
        note=note,
    )
