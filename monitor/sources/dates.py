"""Dates as list pages and sitemaps write them: ISO 8601, RFC 822, and the numeric forms of
Korean, Chinese and Japanese sites ("2026.12.06", "2026. 12. 6.", "2026년 12월 6일",
"2026年12月6日"), with or without a time. A date without a zone is read as UTC."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from functools import lru_cache

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME = r"(?:\D{0,6}?(\d{1,2})\s*[:시时]\s*(\d{2})(?:\s*[:분分]\s*(\d{2}))?)?"
# Year first: 2026-12-06, 2026.12.06, 2026/12/06, 2026. 12. 6., 2026년 12월 6일, 2026年12月6日.
_YMD = re.compile(
    r"(\d{4})\s*(?:[-./]|년|年)\s*(\d{1,2})\s*(?:[-./]|월|月)\s*(\d{1,2})\s*(?:일|日|\.)?" + _TIME
)
# Day first, as in Europe: 06.12.2026, 6/12/2026.
_DMY = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})" + _TIME)
# Month names: Dec 6, 2026; 6 December 2026.
_NAMED = re.compile(
    r"(?:(\d{1,2})\.?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})|([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}))"
    + _TIME
)
_AFTERNOON = re.compile(r"오후|下午|\bpm\b|\bp\.m\.", re.IGNORECASE)


@lru_cache(maxsize=4096)
def parse_date(text: str | None) -> datetime | None:
    """The UTC time a date string gives, or None when it gives none that can be read (cached:
    the rows of a list page share their dates)."""
    value = " ".join((text or "").split())
    if not value:
        return None
    iso = _iso(value)
    if iso is not None:
        return iso
    for pattern, order in ((_YMD, (0, 1, 2)), (_DMY, (2, 1, 0))):
        found = pattern.search(value)
        if found:
            parts = found.groups()
            year, month, day = (int(parts[i]) for i in order)
            return _build(year, month, day, parts[3:], value)
    found = _NAMED.search(value)
    if found:
        g = found.groups()
        day_text, name, year_text = (g[0], g[1], g[2]) if g[0] else (g[4], g[3], g[5])
        number = _MONTHS.get(name.lower())
        if number is not None:
            return _build(int(year_text), number, int(day_text), g[6:], value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(value: str) -> datetime | None:
    if not value[:4].isdigit() or len(value) < 10 or value[4] != "-":
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _build(
    year: int, month: int, day: int, clock: tuple[str | None, ...], text: str
) -> datetime | None:
    hour, minute, second = (int(v) if v else 0 for v in clock)
    if _AFTERNOON.search(text) and hour < 12:
        hour += 12
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
