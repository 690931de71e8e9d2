"""Core values shared by every ring: plain, frozen and free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Template


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
    # An aggregator's item names the outlet that published it (RSS <source>, Bing's provider)
    # and, where it can, the publisher's own URL behind the aggregator's redirect link.
    outlet: str | None = None
    origin: str | None = None


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
    outlet: str | None = None  # as on Entry: shown instead of the source's name
    origin: str | None = None  # the publisher's URL, which identifies the story's article


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """Why a watch fired: one clause that held, the field it held in, and the text around it
    with the matching words marked «like this»."""

    clause: str
    field: str
    snippet: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A watch that matched an article, with the query terms that were found (as written)
    and, in `hits`, the clauses that held."""

    watch: str
    terms: tuple[str, ...]
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A compiled title and body (core/templating.py); either may be None to keep the default.
    Templates of the same source are equal."""

    title: Template | None = None
    body: Template | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRule:
    """How to read a list page without a feed: CSS selectors, `@attr` taking an attribute."""

    item: str
    title: str
    link: str | None = None  # None: the href of the first <a> in the title
    date: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A feed to poll, or a search feed, news sitemap or list page (`kind`)."""

    name: str
    url: str
    interval: timedelta
    tags: tuple[str, ...] = ()
    # None: as fetch.allow_private_networks says.
    allow_private_networks: bool | None = None
    # `interval: auto`: polled about as often as it publishes, within fetch.min/max_interval.
    adaptive: bool = False
    kind: str = "feed"  # feed | google_news | bing_news | sitemap | page
    page: PageRule | None = None
    # None: as fetch.full_text says.
    full_text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A delivery target; `url` is an apprise URL that may hold secrets, so repr leaves it out."""

    name: str
    url: str = field(repr=False)
    enabled: bool = True
    template: MessageTemplate | None = None
    max_length: int | None = None  # body characters; None: the service's own limit
    digest: str | None = None  # crontab schedule: alerts wait and go out together
    quiet_hours: tuple[time, time] | None = None  # local start and end; held, then one catch-up
    digest_empty: bool = False  # a digest with nothing in it is sent too, as "no new alerts"
    # "instead": alerts wait for the digest; "besides": they go out at once and again in it.
    digest_mode: str = "instead"
    language: str | None = None  # of fixed phrases and dates; None: delivery.language
    timezone: str | None = None  # of the dates shown; None: delivery.timezone
    secret: str | None = field(default=None, repr=False)  # webhook+ channels: signs each post


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """An article a watch must match (`match`) or must not, as its config gives it.

    `where` is the example's place in the config, `file:line: key.path`, for reports.
    """

    article: Article
    match: bool
    where: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """A named query and the channels its alerts go to; `examples` are checked by `check`;
    `follow_up_at` (when set) alerts once more when a story it alerted on reaches that many
    outlets."""

    name: str
    query: str
    notify: tuple[str, ...]
    follow_up_at: int | None = None
    examples: tuple[Example, ...] = ()
    template: MessageTemplate | None = None
    digest: str | None = None  # crontab schedule, as for a channel
    burst: timedelta | None = None  # alerts within one such window go out as one message
    rate_limit: tuple[int, timedelta] | None = None  # at most N alerts per window, then a summary
    digest_empty: bool = False  # as for a channel
    digest_mode: str = "instead"  # as for a channel
    stories: str | None = None  # events | copies | off: this watch's own `stories.mode`


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
    # Read HTTP(S)_PROXY, ALL_PROXY, NO_PROXY and SSL_CERT_FILE/SSL_CERT_DIR from the environment.
    trust_env: bool = False
    max_entries: int = 1000
    parse_timeout: timedelta = timedelta(seconds=5)
    parse_workers: int = 2
    adaptive: bool = False
    min_interval: timedelta = timedelta(minutes=1)
    max_interval: timedelta = timedelta(hours=1)
    per_host: int = 2
    # Article pages (monitor.app.poll.pages): when to read the linked page, and its limits.
    full_text: str = "auto"  # auto | always | never
    full_text_min_words: int = 80
    full_text_wait: timedelta = timedelta(seconds=60)
    page_max_bytes: int = 5 * 1024 * 1024
    obey_robots: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """Outbox retry policy: full-jitter exponential backoff, then dead-letter."""

    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    timeout: timedelta = timedelta(seconds=30)
    timezone: str = "UTC"  # of digest schedules and quiet hours
    language: str = "en"  # of the messages' fixed phrases, unless a channel says otherwise


@dataclass(frozen=True, slots=True, kw_only=True)
class StorySettings:
    """How copies of one story are grouped (the stories issue implements the modes)."""

    mode: str = "events"
    window: timedelta = timedelta(hours=72)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionSettings:
    """How long stored text is kept; a zero duration keeps it forever.

    After `bodies`, an article's text is emptied; after `articles`, an article that raised no
    alert keeps only its identity (so it never alerts again) and its alert-less matches go.
    Alerts, their delivery history and what they show are always kept.
    """

    bodies: timedelta = timedelta(0)
    articles: timedelta = timedelta(0)
    interval: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorSettings:
    """Where notices about the service itself go, and when a failing channel is reported."""

    channels: tuple[str, ...] = ()
    channel_failures: int = 5  # failed sends in a row before a notice; 0 never reports
    source_failures: int = 5  # failed polls in a row before a notice; 0 never reports
    source_silence: float = 10.0  # silent for this many usual gaps before a notice; 0 never


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSettings:
    """Where the web console listens (`host` None: off) and the token it asks for, if any."""

    host: str | None = "127.0.0.1"
    port: int = 8765
    token: str = field(default="", repr=False)


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
    retention: RetentionSettings = RetentionSettings()
    operator: OperatorSettings = OperatorSettings()
    web: WebSettings = WebSettings()


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
    language: str | None = None  # the article's, as its feed entry or page declares it
    hits: tuple[Hit, ...] = ()
    also_reported_by: tuple[str, ...] = ()  # the story's other outlets, first come first
    follow_up: bool = False  # sent because the story reached the watch's follow_up_at outlets


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A message for the operator about the service itself: its kind (e.g. channel-failing),
    what it is about (a channel, a source), a title and a body."""

    kind: str
    about: str
    title: str
    body: str
