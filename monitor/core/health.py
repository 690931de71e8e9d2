"""What the operator hears about a source: failing, working again, silent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from monitor.core import phrases
from monitor.core.model import Notice


def silent_after(
    published: Iterable[datetime | None], *, factor: float, interval: timedelta
) -> datetime | None:
    """When a feed with these entries counts as silent: its newest entry plus `factor` times
    its usual gap (the mean between its dated entries, at least the poll `interval`, so a feed
    polled less often than it publishes is not flagged). None with fewer than two dates or
    `factor` 0."""
    dated = sorted({p for p in published if p is not None})
    if factor <= 0 or len(dated) < 2:
        return None
    gap = max((dated[-1] - dated[0]) / (len(dated) - 1), interval)
    return dated[-1] + gap * factor


def failing(name: str, failures: int, error: str) -> Notice:
    """The notice that a source failed `failures` polls in a row."""
    return Notice(
        kind="source-failing",
        about=name,
        title=phrases.SOURCE_FAILING.format(source=name),
        body=phrases.SOURCE_FAILING_BODY.format(count=failures, source=name, error=error),
    )


def recovered(name: str) -> Notice:
    """The notice that a failing source was polled successfully again."""
    return Notice(
        kind="source-recovered",
        about=name,
        title=phrases.SOURCE_RECOVERED.format(source=name),
        body=phrases.SOURCE_RECOVERED_BODY.format(source=name),
    )


def silent(name: str) -> Notice:
    """The notice that a source has published nothing for far longer than it usually does."""
    return Notice(
        kind="source-silent",
        about=name,
        title=phrases.SOURCE_SILENT.format(source=name),
        body=phrases.SOURCE_SILENT_BODY.format(source=name),
    )
