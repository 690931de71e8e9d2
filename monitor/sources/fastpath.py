"""The fast parse path: fastfeedparser (lxml and a Rust core), about 50x faster than feedparser.

fastfeedparser neither sanitizes HTML nor parses dates, so its output is taken as raw material:
text is reduced from HTML here, links must be http(s), dates must parse. Whenever the fast
parser fails, finds no entries, or gives something we cannot trust (a date we cannot read, a
replacement character, XML that is not well-formed, a DTD), `parse_fast` returns None and
feedparser parses the document instead. tests/adapters/test_fastpath.py checks over
feedparser's own test corpus that both paths agree on each entry's guid, link, title and
published time.
"""

from __future__ import annotations

import email.utils
import html
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import fastfeedparser
from lxml import etree

from monitor.core.model import Entry
from monitor.core.text import BLOCK_TAGS, strip_html

# A DTD may declare entities; feedparser strips them, lxml would keep them: leave those to it.
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
# Items naming their outlet (RSS <source>, Bing's News:Source), which fastfeedparser drops.
_OUTLET = re.compile(rb"<source[\s>]|<[A-Za-z]+:Source>")
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_ATOM = re.compile(rb"http://www\.w3\.org/2005/Atom|http://purl\.org/atom/ns#")
# The tags whose numbers tell whether fastfeedparser's reading can be trusted, counted in one
# pass: a match is "<", a name and the character after it, so no match can hide another.
_COUNTED_TAGS = re.compile(
    rb"<(?:(link|content(?::encoded)?)[\s>/]"
    rb"|(guid|id|pubDate|published|updated|dc:date|issued|modified|created)[\s>])"
)
_HEAD_BYTES = 16 * 1024
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")
_TRICKY = re.compile(r"<(?:!|\?|script|style|template|noscript)", re.IGNORECASE)
# What a tag stands for in the text: a space between blocks, nothing inside them.
_SEPARATORS = dict.fromkeys(BLOCK_TAGS, " ")
# Each with a string its matches contain: most feeds have few of these fields, and looking
# for a string is several times faster than running the expression over the head.
_CHANNEL_FIELDS = {
    "language": (b"language>", re.compile(rb"<(?:dc:)?language>([^<]{1,40})</(?:dc:)?language>")),
    "ttl": (b"<ttl>", re.compile(rb"<ttl>\s*(\d{1,6})\s*</ttl>")),
    "sy_updateperiod": (
        b"<sy:updatePeriod>",
        re.compile(rb"<sy:updatePeriod>\s*([a-z]{1,10})\s*</sy:updatePeriod>"),
    ),
    "sy_updatefrequency": (
        b"<sy:updateFrequency>",
        re.compile(rb"<sy:updateFrequency>\s*(\d{1,6})\s*</sy:updateFrequency>"),
    ),
}


def parse_fast(
    body: bytes, *, link: Callable[[Any], str | None]
) -> tuple[str, str | None, list[Entry], Mapping[str, Any]] | None:
    """(title, language, entries, raw feed fields) of a UTF-8 RSS or Atom body, or None to
    let feedparser parse it."""
    if _DOCTYPE.search(body[:4096]) or b"<!ENTITY" in body or b"xml:lang" in body:
        return None  # DTDs, and xml:lang (which fastfeedparser does not read), go to feedparser
    if (b"<source" in body or b":Source>" in body) and _OUTLET.search(body):
        return None
    try:
        # lxml recovers from broken XML silently; feedparser reads it too, and says what broke.
        etree.fromstring(body, _STRICT)
        parsed = fastfeedparser.parse(body)
    except Exception:  # any complaint of either parser sends the document to feedparser
        return None
    raw_entries = parsed.get("entries") or []
    feed = parsed.get("feed") or {}
    if not raw_entries or not isinstance(feed, Mapping):
        return None
    # fastfeedparser makes up an id from the link when an item has none; feedparser does not,
    # and identity (guid, else link) must not depend on which parser read the feed.
    count = len(raw_entries)
    links, ids, dates, contents = _tag_counts(body)
    # RSS 1.0 (RDF) items take their id from rdf:about in feedparser; fastfeedparser has none.
    # And it makes up links for items without one: fewer <link> tags than items, feedparser.
    if b"<rdf:RDF" in body[:4096] or links < count:
        return None
    if ids not in (0, count, count + 1):
        return None
    # It also dates undated items (today, tomorrow...): only dates the document has count.
    if 0 < dates < count:
        return None
    # And it copies an RSS description into the content; feedparser keeps content for the
    # items that have their own (content:encoded, Atom content).
    if contents not in (0, count):
        return None
    head = body[:_HEAD_BYTES]
    fields = _channel_fields(head)
    atom = _ATOM.search(head) is not None
    lang = _lang(fields.get("language"))
    entries = []
    for raw in raw_entries:
        entry = _entry(
            raw, link, lang, has_id=ids > 0, has_date=dates > 0, has_content=contents > 0, atom=atom
        )
        if entry is None:
            return None
        entries.append(entry)
    return _text(feed.get("title")), lang, entries, fields


def _tag_counts(body: bytes) -> tuple[int, int, int, int]:
    """How many <link>, id (<guid>, <id>), date and content tags the document has."""
    tags = Counter(_COUNTED_TAGS.findall(body))
    links = tags[b"link", b""]
    ids = tags[b"", b"guid"] + tags[b"", b"id"]
    contents = tags[b"content", b""] + tags[b"content:encoded", b""]
    return links, ids, tags.total() - links - ids - contents, contents


def _channel_fields(head: bytes) -> dict[str, str]:
    # What fastfeedparser leaves out and we use: the language and the publisher's schedule.
    fields = {}
    for name, (marker, pattern) in _CHANNEL_FIELDS.items():
        found = pattern.search(head) if marker in head else None
        if found:
            fields[name] = found.group(1).decode("utf-8", "replace").strip()
    return fields


def _entry(
    raw: Mapping[str, Any],
    link: Callable[[Any], str | None],
    lang: str | None,
    *,
    has_id: bool,
    has_date: bool,
    has_content: bool,
    atom: bool,
) -> Entry | None:
    try:
        published = _date(raw.get("published") or raw.get("updated")) if has_date else None
    except ValueError:
        return None
    raw_title = raw.get("title")
    url = link(_alternate(raw, atom=atom))
    # Markup in a title is read differently by the two parsers (Atom text vs html, base64...),
    # and an entry without a link gets one from its id in feedparser: both go to feedparser.
    if (isinstance(raw_title, str) and "<" in raw_title) or url is None:
        return None
    title = _text(raw_title)
    raw_summary = raw.get("description") or raw.get("summary")
    summary = _text(raw_summary)
    contents = []
    for c in (raw.get("content") if has_content else None) or ():
        if isinstance(c, Mapping):
            value = c.get("value")
            # The content is most often the description again: reduce that HTML once.
            contents.append(summary if value == raw_summary else _text(value))
    content = "\n".join([c for c in contents if c])
    if "\ufffd" in title or "\ufffd" in summary:
        return None
    guid = (str(raw.get("id") or "").strip() or None) if has_id else None
    if atom and guid and ":" not in guid:
        # feedparser resolves a relative Atom id against the document's base URL.
        guid = link(guid)
        if guid is None:
            return None
    return Entry(
        guid=guid,
        link=url,
        title=title,
        summary=summary or (contents[0] if contents else ""),
        published=published,
        content=content,
        lang=lang,
    )


def _alternate(raw: Mapping[str, Any], *, atom: bool) -> Any:
    # fastfeedparser takes an Atom entry's first link, enclosure or self; feedparser the
    # alternate one (rel="alternate" or no rel), which fastfeedparser lists in `links`.
    links = [x for x in raw.get("links") or () if isinstance(x, Mapping) and x.get("href")]
    if not links:
        return None if atom else raw.get("link")
    for candidate in links:
        if candidate.get("rel") in (None, "", "alternate"):
            return candidate["href"]
    return None


def _undo_double_utf8(value: str) -> str:
    # feedparser repairs UTF-8 that was read as Latin-1 and encoded again ("Â¡" for "¡"); the
    # fast path does the same, so the two parsers give the same text.
    if value.isascii():
        return value
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = _undo_double_utf8(value)
    if "<" not in value:
        return _collapse(value)
    return _strip_simple_html(value)


def _collapse(text: str) -> str:
    # Runs of whitespace to one space, ends trimmed: str.split() and re's \s agree on what
    # whitespace is (str.isspace), and split() is several times faster than re.sub.
    return " ".join(text.split())


def _strip_simple_html(value: str) -> str:
    """strip_html's result, by regular expressions for the plain markup most feeds carry (about
    ten times faster); anything with comments, CDATA, scripts or stray angle brackets goes to
    strip_html itself."""
    if _TRICKY.search(value):
        return strip_html(value)
    # split() alternates text and the captured tag names: even indexes are text. Each text
    # is unescaped, then the whole once more, as strip_html does (HTMLParser, then unescape).
    parts = _TAG.split(value)
    parts[1::2] = map(_SEPARATORS.get, map(str.lower, parts[1::2]), repeat(""))
    text = "".join(parts)
    if "<" in text or ">" in text:
        return strip_html(value)
    if "&" in text:
        parts[::2] = map(html.unescape, parts[::2])
        text = html.unescape("".join(parts))
    return _collapse(text)


def _lang(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def _date(value: Any) -> datetime | None:
    """The UTC time of an ISO 8601 or RFC 822 string, None when absent; ValueError when it
    cannot be read (feedparser knows more date formats)."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError("not a date string")
    text = value.strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, IndexError) as exc:
            raise ValueError(text) from exc
    # Seconds, as feedparser gives them, so both paths identify and order entries alike.
    if when.microsecond:
        when = when.replace(microsecond=0)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
