"""The stored source samples of tests/corpus/sources, with their placeholders filled in."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

SAMPLES = Path(__file__).resolve().parents[1] / "corpus" / "sources"


def sample(name: str, *, base: str = "http://127.0.0.1:9", now: datetime | None = None) -> bytes:
    """A sample's bytes: links on `base`, dates at `now` (and an hour earlier)."""
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    earlier = when - timedelta(hours=1)
    values = {
        "@BASEQ@": quote(base, safe=""),
        "@BASE@": base,
        "@NOWISO@": when.isoformat(),
        "@EARLIERISO@": earlier.isoformat(),
        "@NOW@": email.utils.format_datetime(when),
        "@EARLIER@": email.utils.format_datetime(earlier),
        "@TODAY_DOTS@": f"{when:%Y.%m.%d}",
        "@TODAY_KOREAN@": f"{when.year}년 {when.month}월 {when.day}일",
        "@TODAY_CJK@": f"{when.year}年{when.month}月{when.day}日",
    }
    text = (SAMPLES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(key, value)
    return text.encode("utf-8")
