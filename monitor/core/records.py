"""What the store hands back: plain frozen values, no database objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.core.model import Alert, Article, Match, Notice
from monitor.core.pipeline import Decision
from monitor.core.stories import StoryItem

# The delivery states of an outbox row and of an operator notice, spelled once.
PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedSource:
    """A source this process holds a lease on, with what a conditional poll needs."""

    id: int
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    baseline_done: bool
    interval: timedelta
    consecutive_failures: int
    last_success_at: datetime | None = None
    silent_after: datetime | None = None
    resolved_url: str | None = None  # the feed its page advertises, fetched instead of `url`


@dataclass(frozen=True, slots=True, kw_only=True)
class SuccessfulPoll:
    """A successful poll of one source, as the store records it in one go.

    `routes` maps a watch to the channels its alerts go to; `followups` a watch to the number
    of outlets at which a story alerts once more. A source marked failing gets `recovered`
    queued for the `notify` channels; one past `silent_after` gets `silence`, once.
    """

    source_id: int
    found: Sequence[Decision | tuple[Article, Sequence[Match]]]
    routes: Mapping[str, Sequence[str]]
    now: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    title: str | None
    followups: Mapping[str, int] | None = None
    backfill: int = 0  # entries held back as an archive re-announcement
    notify: Sequence[str] = ()
    recovered: Notice | None = None
    silent_after: datetime | None = None
    silence: Notice | None = None
    story_modes: Mapping[str, str] | None = None  # watches grouping otherwise than the index


@dataclass(frozen=True, slots=True, kw_only=True)
class PollRecord:
    """What one committed poll added."""

    new_articles: int
    alerts: int
    updated: int = 0
    stored: tuple[StoryItem, ...] = ()  # the new articles, for the story index


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStatus:
    """A source's polling state, for `newsmonitor sources`."""

    name: str
    url: str
    active: bool
    title: str | None
    articles: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None  # None: never polled, due as soon as a daemon starts
    consecutive_failures: int
    last_error_kind: str | None
    last_error: str | None
    # The last poll that looked like an archive re-announcement, and the entries it held back.
    last_backfill_at: datetime | None = None
    last_backfill_entries: int | None = None
    resolved_url: str | None = None  # the feed found on the page `url` names


# The outbox stage of the copy of an alert kept for a digest that comes besides instant
# alerts: one per (story, watch, channel) under the same unique key as the alert itself.
DIGEST_COPY = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """One alert x channel: what it says and how its delivery stands."""

    id: int
    channel: str
    status: str  # PENDING | SENT | DEAD
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    alert: Alert
    stage: int = 0  # 0: the story's alert; N: the follow-up at N outlets; DIGEST_COPY
    story_id: int | None = None

    @property
    def digest_copy(self) -> bool:
        """Whether this row is the digest's copy of an alert that also goes out at once."""
        return self.stage == DIGEST_COPY


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeRecord:
    """One operator notice x channel, claimed for sending."""

    id: int
    channel: str
    kind: str
    about: str
    title: str
    body: str
    status: str  # PENDING | SENT | DEAD
    attempts: int
    last_error: str | None
