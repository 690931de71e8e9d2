"""What the operator hears about a source: failing, working again, silent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

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
        title=f"newsmonitor: source {name} is failing",
        body=(
            f"The last {failures} polls of source {name} failed; the last error: {error}. "
            "It is still polled, less often, and a notice follows when it works again."
        ),
    )


def recovered(name: str) -> Notice:
    """The notice that a failing source was polled successfully again."""
    return Notice(
        kind="source-recovered",
        about=name,
        title=f"newsmonitor: source {name} works again",
        body=f"Source {name} was polled successfully again.",
    )


def silent(name: str) -> Notice:
    """The notice that a source has published nothing for far longer than it usually does."""
    return Notice(
        kind="source-silent",
        about=name,
        title=f"newsmonitor: source {name} has gone silent",
        body=(
            f"Source {name} has published nothing new for far longer than it usually goes "
            "between entries. The feed may have moved or stopped; it is still polled."
        ),
    )
