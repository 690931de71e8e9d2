"""Recording polls: many sources' results in one transaction, each source's writes whole.

A daemon polling thousands of sources finishes dozens of polls in the time one commit takes
(a commit waits for the disk), so the poller hands the polls of one moment to a `PollBatch`
and commits them together. Each poll's new articles, matches and outbox rows still commit
together with its "seen" marks, since they share the one transaction (reliability G1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from monitor.core.model import Notice
from monitor.core.records import PollRecord, SuccessfulPoll
from monitor.core.stories import StoryItem
from monitor.core.stories.modes import story_for
from monitor.store import stories
from monitor.store.schema import sources
from monitor.store.source_health import after_failure, after_success


class PollBatch:
    """Writes of several polls on one connection, inside the transaction the store opened."""

    def __init__(self, conn: Connection, insert: Any) -> None:
        self.conn = conn
        self._insert = insert

    def story_items(self, *, after_id: int, since: datetime) -> list[StoryItem]:
        """Articles with an id above `after_id` fetched since `since`, this batch's included."""
        return stories.story_items(self.conn, after_id=after_id, since=since)

    def record_poll(self, poll: SuccessfulPoll) -> PollRecord:
        """Record a successful poll: new and edited articles, their stories, matches, outbox
        rows and the source's state.

        Articles the source already has are skipped by the unique key, and an alert already
        made for the story, watch and channel by another, so a concurrent or repeated poll adds
        nothing twice (see source_health.after_success for the notices).
        """
        source_id, now = poll.source_id, poll.now
        conn, insert = self.conn, self._insert
        decisions = [stories.decision(d) for d in poll.found]
        fresh = [d for d in decisions if d.updates is None]
        placed = stories.insert_articles(conn, insert, source_id, fresh, now)
        for d in decisions:
            if d.updates is not None:
                placed[d.article.key] = stories.update_article(conn, d)
        modes = poll.story_modes or {}
        groups = stories.copy_groups(fresh, placed) if modes else {}
        alerts = 0
        for d in decisions:
            story = placed.get(d.article.key)
            if story is not None:
                # An edited article's group of copies is not stored: its story stands in.
                ids = {"article": story[0], "story": story[1]}
                copies = groups.get(d.article.key, story[1])
                by_watch = {w: story_for(m, **ids, copies=copies) for w, m in modes.items()}
                alerts += stories.alert(conn, insert, d, story, poll.routes, now, by_watch)
        touched = {placed[d.article.key][1] for d in fresh if d.article.key in placed}
        alerts += stories.followups(conn, insert, touched, poll.followups or {}, now)
        source_name = after_success(conn, poll)
        stored = tuple(
            StoryItem(
                article_id=placed[d.article.key][0],
                story_id=placed[d.article.key][1],
                source=source_name,
                when=d.article.published or now,
                title=d.article.title,
                lead=d.article.summary,
                signature=d.placement.signature or None,
                url_key=d.keys.url_key,
            )
            for d in fresh
            if d.article.key in placed
        )
        return PollRecord(
            new_articles=len(stored),
            alerts=alerts,
            updated=len(decisions) - len(fresh),
            stored=stored,
        )

    def record_failure(
        self,
        source_id: int,
        *,
        kind: str,
        message: str,
        now: datetime,
        next_poll_at: datetime,
        threshold: int = 0,
        notify: Sequence[str] = (),
        failing: Notice | None = None,
    ) -> bool:
        """Record a failed poll, release the lease and schedule the next try; at the
        `threshold`-th failure in a row queue `failing` for `notify`, once. Whether it did."""
        self.conn.execute(
            update(sources)
            .where(sources.c.id == source_id)
            .values(
                last_polled_at=now,
                last_error=message,
                last_error_kind=kind,
                last_error_at=now,
                consecutive_failures=sources.c.consecutive_failures + 1,
                next_poll_at=next_poll_at,
                lease_until=None,
                lease_owner=None,
            )
        )
        return after_failure(
            self.conn, source_id, threshold=threshold, notify=notify, failing=failing, now=now
        )
