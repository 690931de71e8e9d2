"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read.

Only what newsmonitor uses is read: the feed's title and language, and per item its id, url
(else external_url), title, summary, content (content_text, else content_html reduced to text)
and date (date_published, else date_modified). Anything of the wrong type is ignored, the way a
missing field is; an item with no id, url, title or content is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.core.text import strip_html

VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(document: Any) -> bool:
    """Whether a decoded JSON value is a JSON Feed document."""
    return isinstance(document, dict) and str(document.get("version", "")).startswith(
        VERSION_PREFIX
    )


def load_json(body: bytes) -> Any:
    """The JSON value of `body`, or None when it is not JSON (or nests too deep to read)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def parse_json_feed(
    document: dict[str, Any], *, link: Callable[[Any], str | None]
) -> tuple[str, list[Entry]]:
    """The title and entries of a JSON Feed; `link` absolutizes and filters item URLs."""
    items = document.get("items")
    if not isinstance(items, list):
        raise FetchError("parse", "a JSON Feed without an items list")
    feed_lang = _string(document.get("language")).lower() or None
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        entry = _entry(item, link, feed_lang)
        if entry.guid or entry.link or entry.title or entry.summary:
            entries.append(entry)
    return _string(document.get("title")).strip(), entries


def _entry(item: dict[str, Any], link: Callable[[Any], str | None], lang: str | None) -> Entry:
    raw_id = item.get("id")
    guid = (
        str(raw_id).strip()
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
        else ""
    )
    content = _string(item.get("content_text")).strip() or strip_html(
        _string(item.get("content_html"))
    )
    summary = _string(item.get("summary")).strip() or content
    return Entry(
        guid=guid or None,
        link=link(_string(item.get("url")) or _string(item.get("external_url"))),
        title=" ".join(_string(item.get("title")).split()),
        summary=" ".join(summary.split()),
        published=_date(item.get("date_published")) or _date(item.get("date_modified")),
        content=content,
        lang=_string(item.get("language")).lower() or lang,
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
