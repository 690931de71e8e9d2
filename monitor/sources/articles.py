"""An article page's main text and metadata, read with trafilatura; runs in a parser worker.

The page is decoded here first: publishers declare the wrong charset as often on pages as on
feeds, and a Korean page in EUC-KR declared as UTF-8, or a Chinese one in GBK declared as
ISO-8859-1 (which decodes any bytes, wrongly), must come out as text. A page behind a paywall,
a login or a consent form gives a teaser, not the article: it fails with kind "paywall".
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

import charset_normalizer

from monitor.core.errors import FetchError
from monitor.core.fulltext import word_count

# Shorter than this, a page holds no article text worth matching on.
MIN_WORDS = 25
# A page showing a wall marker is a teaser unless it carries at least this much text.
WALL_WORDS = 150
_GUESS_BYTES = 64 * 1024
# Charsets that decode any bytes at all, so decoding without error proves nothing.
_PERMISSIVE = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15"})
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)
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


def _wall(html: str) -> str | None:
    for reason, marker in _WALLS:
        if marker.search(html):
            return reason
    return None


def extract_page(body: bytes, *, url: str, content_type: str = "") -> Page:
    """The page's main text and metadata; FetchError "empty", "paywall" or "no_text" when it
    holds no article text to match on."""
    if not body.strip():
        raise FetchError("empty", "the page is empty")
    # Imported here: only the parser workers extract pages (they import it as they start).
    import trafilatura

    html, encoding, declared = decode_page(body, content_type)
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
        as_dict=True,
    )
    meta: dict[str, Any] = doc if isinstance(doc, dict) else {}
    text = (meta.get("text") or "").strip()
    title = meta.get("title") or None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and title and lines[0] == title.strip():
        lines = lines[1:]  # the headline repeated above the body is not its first paragraph
    text = "\n".join(lines)
    words = word_count(text)
    wall = _wall(html)
    if wall is not None and words < WALL_WORDS:
        raise FetchError("paywall", f"{wall}: the page shows {words} words of the article")
    if words < MIN_WORDS:
        raise FetchError("no_text", f"no article text found ({words} words)")
    lang = _LANG.search(html[:4096])
    note = None
    if declared is not None and declared != encoding:
        note = f"declared as {declared} but read as {encoding}"
    return Page(
        text=text,
        url=meta.get("url") or url,
        title=title,
        author=meta.get("author") or None,
        date=meta.get("date") or None,
        lang=lang.group(1).lower() if lang else None,
        note=note,
    )
