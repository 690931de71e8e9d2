"""Tables of the newsmonitor database; Alembic revisions in migrations/ build exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as naive UTC: SQLite drops offsets, so we never hand it one."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("title", Text),
    # The first successful poll records a baseline and alerts nothing.
    Column("baseline_done", Boolean, nullable=False, default=False),
    Column("interval_s", Integer, nullable=False),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(200)),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_kind", String(40)),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # The last poll that looked like an archive re-announcement, and how many entries it held.
    Column("last_backfill_at", UTCDateTime),
    Column("last_backfill_entries", Integer),
    # Health as the operator was told it, so each notice goes out once per episode.
    Column("failing", Boolean, nullable=False, default=False),
    Column("silent", Boolean, nullable=False, default=False),
    # After this the source counts as silent, unless it publishes again; None: no dates to go by.
    Column("silent_after", UTCDateTime),
    # The feed an HTML page given as `url` advertises, polled in its place.
    Column("resolved_url", Text),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "source_id",
        Integer,
        ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", Text, nullable=False),
    Column("guid", Text),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    # The full text, when the feed carries one besides the summary (plain text, clipped).
    Column("content", Text, nullable=False, default="", server_default=""),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, nullable=False),
    # Secondary identity (the link without scheme or tracking, a title-and-lead hash) catches
    # guid churn; the content hash tells an edit. See monitor/core/stories/identity.py.
    Column("url_key", Text),
    Column("text_key", String(80)),
    Column("content_hash", String(64)),
    # The story is named by the id of its first article; the signature rebuilds the index.
    Column("story_id", Integer),
    Column("signature", LargeBinary),
    # The outlet an aggregator's item names (RSS <source>); None: the source itself.
    Column("outlet", Text),
    # The language the feed entry or its page declares (a BCP 47 tag, lower-cased).
    Column("lang", String(35)),
    UniqueConstraint("source_id", "key"),
    Index(None, "fetched_at"),
    Index(None, "source_id", "url_key"),
    Index(None, "source_id", "text_key"),
    Index(None, "story_id"),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("watch", String(200), nullable=False),
    Column("terms", Text, nullable=False),  # JSON list of the query terms found
    Column("created_at", UTCDateTime, nullable=False),
    # JSON list of {clause, field, snippet}: why the watch fired; NULL for older matches.
    Column("hits", Text),
    UniqueConstraint("article_id", "watch"),
)

# One row per alert x channel: the transactional outbox the delivery tick drains. An alert is
# one per (story, watch, channel); `stage` 0 is the first alert, N the follow-up at N outlets.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "match_id",
        Integer,
        ForeignKey("matches.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("channel", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(200)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("story_id", Integer),
    Column("watch", String(200)),
    Column("stage", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("story_id", "watch", "channel", "stage"),
    Index(None, "status", "next_attempt_at"),
)

# Messages for the operator rather than readers (a channel failing, then recovering), one row
# per notice x operator channel, delivered like the outbox.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(200), nullable=False),
    Column("kind", String(40), nullable=False),  # e.g. channel-failing, channel-recovered
    Column("about", String(200), nullable=False),  # what it concerns: a channel, a source
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(200)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
)

# Consecutive failed sends per channel, so one failing notice and one recovery notice go out
# however many daemons share the database and however often they restart.
channel_health = Table(
    "channel_health",
    metadata,
    Column("channel", String(200), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("failing", Boolean, nullable=False, default=False),  # the failing notice went out
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Entries waiting for their article page (monitor.app.poll.pages): matched when the text
# arrives or at `due_at` on the feed's text, by this process or, after a restart, the next.
page_waits = Table(
    "page_waits",
    metadata,
    Column(
        "article_id",
        Integer,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("url", Text, nullable=False),
    # JSON list of watches the edited-article rule keeps quiet for this version.
    Column("quiet", Text, nullable=False, default="[]"),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "due_at"),
)

# How each source's article pages went, by outcome ("fetched", "robots", "paywall", "timeout"
# …), with the last page and message of each, for `newsmonitor sources`.
page_outcomes = Table(
    "page_outcomes",
    metadata,
    Column(
        "source_id",
        Integer,
        ForeignKey("sources.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("outcome", String(40), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
    Column("last_url", Text),
    Column("last_message", Text),
    Column("last_at", UTCDateTime, nullable=False),
)

# What the web console reads the outbox by: a match's rows on every channel, and alerts per day
# (covering, so counting a month of them reads the index alone).
Index(None, outbox.c.match_id)
Index(None, outbox.c.created_at, outbox.c.stage, outbox.c.watch, outbox.c.match_id)

# An analyst's verdict on a match (one alert, whatever the channels): relevant or not.
feedback = Table(
    "feedback",
    metadata,
    Column(
        "match_id",
        Integer,
        ForeignKey("matches.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("watch", String(200), nullable=False),
    Column("relevant", Boolean, nullable=False),
    Column("marked_at", UTCDateTime, nullable=False),
    Index(None, "watch", "marked_at"),
)

# One row per running daemon, written by its heartbeat: `newsmonitor health` and other
# daemons see who is alive, and since when it last beat.
daemons = Table(
    "daemons",
    metadata,
    Column("owner", String(200), primary_key=True),  # host:pid, as in the lease columns
    Column("host", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Index(None, "host"),
)
