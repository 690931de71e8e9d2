"""Core values shared by every ring: plain, frozen and free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One item as a feed presents it, before identity is decided; text is plain (no HTML).

    `content` is the full text when the feed carries one besides the summary; `lang` is the
    entry's language as the feed declares it (its own, else the feed's), lower-cased.
    """

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None = None
    content: str = ""
    lang: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """An entry identified within its source; `key` is unique per source."""

    source: str
    key: str
    url: str | None
    title: str
    summary: str
    published: datetime | None = None
    guid: str | None = None
    content: str = ""
    lang: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A watch that matched an article, with the query terms that were found (as written)."""

    watch: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A feed to poll."""

    name: str
    url: str
    interval: timedelta
    tags: tuple[str, ...] = ()
    # None: as fetch.allow_private_networks says.
    allow_private_networks: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A delivery target; `url` is an apprise URL that may hold secrets, so repr leaves it out."""

    name: str
    url: str = field(repr=False)
    enabled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """A named query and the channels its alerts go to; `follow_up_at` (when set) alerts once
    more when a story it alerted on reaches that many outlets."""

    name: str
    query: str
    notify: tuple[str, ...]
    follow_up_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    """Limits and defaults for polling; per-source values override `interval`."""

    interval: timedelta = timedelta(minutes=10)
    timeout: timedelta = timedelta(seconds=30)
    max_bytes: int = 10 * 1024 * 1024
    max_age: timedelta = timedelta(days=7)
    max_redirects: int = 5
    concurrency: int = 16
    user_agent: str = "newsmonitor/0.1 (+https://github.com/newsmonitor/newsmonitor)"
    allow_private_networks: bool = False
    allow_addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """Outbox retry policy: full-jitter exponential backoff, then dead-letter."""

    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    timeout: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class StorySettings:
    """How copies of one story are grouped (the stories issue implements the modes)."""

    mode: str = "events"
    window: timedelta = timedelta(hours=72)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A loaded, validated configuration; the rest of the program reads only this."""

    database: str = field(repr=False)
    files: tuple[str, ...] = ()
    fetch: FetchSettings = FetchSettings()
    delivery: DeliverySettings = DeliverySettings()
    stories: StorySettings = StorySettings()
    sources: tuple[Source, ...] = ()
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    channels: tuple[Channel, ...] = ()
    watches: tuple[Watch, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """What an alert message says: the watch, why it matched, and the article."""

    watch: str
    terms: tuple[str, ...]
    source: str
    title: str
    summary: str
    url: str | None
    published: datetime | None
    also_reported_by: tuple[str, ...] = ()  # the story's other outlets, first come first
