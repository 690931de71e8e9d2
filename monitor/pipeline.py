"""Decisions for one poll: which entries are new articles, which alert, when to poll next."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from monitor.model import Article, Channel, Entry, Match, Watch

_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_BACKOFF = timedelta(hours=6)
MIN_RETRY = timedelta(seconds=1)


class ArticleMatcher(Protocol):
    """Anything that tells which watches an article matches."""

    def match(self, article: Article) -> list[Match]: ...


def canonical_url(url: str) -> str:
    """A link with scheme and host lower-cased, default port and fragment dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def identify(entry: Entry, source: str) -> Article:
    """The entry as an article keyed by guid, else canonical link, else a hash of its text."""
    if entry.guid and entry.guid.strip():
        key = "guid:" + entry.guid.strip()
    elif entry.link:
        key = "url:" + canonical_url(entry.link)
    else:
        digest = hashlib.sha256(f"{entry.title}\n{entry.summary}".encode()).hexdigest()
        key = "hash:" + digest
    return Article(
        source=source,
        key=key,
        url=entry.link,
        title=entry.title,
        summary=entry.summary,
        published=entry.published,
        guid=entry.guid,
        content=entry.content,
        lang=entry.lang,
    )


def plan(
    items: Sequence[Article],
    *,
    known: set[str],
    baseline: bool,
    now: datetime,
    max_age: timedelta,
    matcher: ArticleMatcher,
) -> list[tuple[Article, tuple[Match, ...]]]:
    """New articles, oldest first, each with the watches it alerts.

    A source's first poll is a baseline: its articles are stored and alert nothing. An article
    published longer ago than `max_age` (when not zero) is stored without alerting.
    """
    seen = set(known)
    fresh: list[Article] = []
    for article in items:
        if article.key not in seen:
            seen.add(article.key)
            fresh.append(article)
    # Feeds list newest first; undated entries keep their relative order after the dated ones.
    fresh.sort(key=lambda a: (a.published is None, a.published or now))
    cutoff = now - max_age if max_age else None
    out: list[tuple[Article, tuple[Match, ...]]] = []
    for article in fresh:
        too_old = (
            cutoff is not None and article.published is not None and article.published < cutoff
        )
        found = () if baseline or too_old else tuple(matcher.match(article))
        out.append((article, found))
    return out


def routes(watches: Iterable[Watch], channels: Iterable[Channel]) -> dict[str, tuple[str, ...]]:
    """For each watch, the channels that are on among those it notifies."""
    enabled = {c.name for c in channels if c.enabled and c.url}
    return {w.name: tuple(ch for ch in w.notify if ch in enabled) for w in watches}


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempts)], but at
    least MIN_RETRY, so a retry always falls after the delivery pass that scheduled it."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** min(attempts, 30))
    return max(MIN_RETRY, timedelta(seconds=rng.uniform(0, ceiling)))


def failure_backoff(interval: timedelta, failures: int) -> timedelta:
    """How long a failing source waits: its interval doubled per failure, capped at 6 h."""
    doubled: timedelta = interval * (2 ** min(failures - 1, 20))
    return min(max(interval, doubled), max(MAX_BACKOFF, interval))
