"""Alerts in the outbox: claiming them to send, recording each send, and listing them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, func, or_, select, update

from monitor.core.model import Alert, Hit
from monitor.core.records import DEAD, DIGEST_COPY, PENDING, SENT, AlertRecord
from monitor.store import stories
from monitor.store.base import StoreBase, lease_rows
from monitor.store.schema import articles, matches, outbox, sources


class Alerts(StoreBase):
    """The outbox: one row per alert and channel, leased by the sender that sends it."""

    def claim_deliveries(
        self,
        owner: str,
        now: datetime,
        *,
        lease: timedelta,
        limit: int,
        due_by: datetime | None = None,
        channel: str | None = None,
    ) -> list[AlertRecord]:
        """Lease pending outbox rows due by `due_by` (default `now`), for one `channel` or all,
        oldest first, with the alert's content."""
        order = [outbox.c.next_attempt_at, outbox.c.id]
        due = now if due_by is None else due_by
        cond = [outbox.c.status == PENDING, outbox.c.next_attempt_at <= due]
        if channel is not None:
            cond.append(outbox.c.channel == channel)
        with self._write() as conn:
            ids = lease_rows(
                conn,
                outbox,
                cond,
                order,
                owner=owner,
                now=now,
                lease=lease,
                limit=limit,
            )
            rows = conn.execute(_alert_query().where(outbox.c.id.in_(ids)).order_by(*order)).all()
            return _alert_records(conn, rows)

    def mark_sent(self, outbox_id: int, *, owner: str, now: datetime) -> None:
        """The channel accepted the message."""
        self._finish(outbox_id, owner, status=SENT, sent_at=now, last_error=None)

    def mark_retry(
        self, outbox_id: int, *, owner: str, error: str, next_attempt_at: datetime
    ) -> None:
        """The send failed in a way worth retrying at `next_attempt_at`."""
        self._finish(
            outbox_id, owner, status=PENDING, next_attempt_at=next_attempt_at, last_error=error
        )

    def defer(self, outbox_ids: Sequence[int], *, owner: str, until: datetime) -> None:
        """Hold these rows until `until` (a digest, quiet hours, a rate limit): no attempt made."""
        with self._write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(outbox_ids)), outbox.c.lease_owner == owner)
                .values(next_attempt_at=until, lease_until=None, lease_owner=None)
            )

    def add_digest_copies(self, outbox_ids: Sequence[int]) -> int:
        """Give each of these first alerts its digest copy, unless it has one; how many added.

        A copy keeps the alert's creation time, so it falls in the digest the alert would
        have; the unique key makes a repeat (a restart, another daemon) add nothing.
        """
        with self._write() as conn:
            firsts = conn.execute(
                select(outbox).where(
                    outbox.c.id.in_(list(outbox_ids)),
                    outbox.c.stage == 0,
                    outbox.c.story_id.is_not(None),
                )
            ).all()
            rows = [
                stories.outbox_row(
                    r.match_id, r.story_id, r.watch, r.channel, DIGEST_COPY, r.created_at
                )
                for r in firsts
            ]
            return stories.enqueue(conn, self._insert, rows) if rows else 0

    def sent_count(self, watch: str, channel: str, since: datetime) -> int:
        """Alerts of `watch` sent to `channel` since `since`, digest copies aside."""
        with self._read() as conn:
            return conn.execute(
                select(func.count())
                .select_from(outbox.join(matches, matches.c.id == outbox.c.match_id))
                .where(
                    matches.c.watch == watch,
                    outbox.c.channel == channel,
                    outbox.c.status == SENT,
                    outbox.c.sent_at >= since,
                    outbox.c.stage != DIGEST_COPY,  # went out in a digest, not on its own
                )
            ).scalar_one()

    def mark_dead(self, outbox_id: int, *, owner: str, error: str) -> None:
        """The send failed for good: keep the row as a dead letter."""
        self._finish(outbox_id, owner, status=DEAD, last_error=error)

    def _finish(self, outbox_id: int, owner: str, **values: object) -> None:
        with self._write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.lease_owner == owner)
                .values(
                    attempts=outbox.c.attempts + 1, lease_until=None, lease_owner=None, **values
                )
            )

    def bury_strays(self, channels: Sequence[str], *, error: str, now: datetime) -> int:
        """Dead-letter pending rows, held by nobody, for channels not in `channels`; how many."""
        with self._write() as conn:
            done = conn.execute(
                update(outbox)
                .where(
                    outbox.c.status == PENDING,
                    outbox.c.channel.not_in(list(channels)),
                    or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
                )
                .values(status=DEAD, last_error=error)
            )
            return done.rowcount

    def list_alerts(self, *, limit: int = 50) -> list[AlertRecord]:
        """The newest alerts x channels with their delivery state."""
        with self._read() as conn:
            rows = conn.execute(_alert_query().order_by(outbox.c.id.desc()).limit(limit)).all()
            return _alert_records(conn, rows)


def _alert_query() -> Select[Any]:
    return (
        select(
            outbox,
            # outbox.watch too, but rows made before stories existed may lack it
            matches.c.watch.label("match_watch"),
            matches.c.terms,
            matches.c.hits,
            articles.c.title,
            articles.c.summary,
            articles.c.url,
            articles.c.published_at,
            articles.c.lang,
            # The outlet an aggregator's item names stands for the outlet in alerts.
            func.coalesce(articles.c.outlet, sources.c.name).label("source"),
        )
        .join(matches, matches.c.id == outbox.c.match_id)
        .join(articles, articles.c.id == matches.c.article_id)
        .join(sources, sources.c.id == articles.c.source_id)
    )


def _alert_records(conn: Connection, rows: Sequence[Row[Any]]) -> list[AlertRecord]:
    """The records, each with the other outlets of its story in the order they carried it."""
    story_ids = {r.story_id for r in rows if r.story_id is not None}
    outlets: dict[int, list[str]] = {}
    if story_ids:
        for story_id, name in conn.execute(
            select(articles.c.story_id, func.coalesce(articles.c.outlet, sources.c.name))
            .join(sources, sources.c.id == articles.c.source_id)
            .where(articles.c.story_id.in_(story_ids))
            .order_by(articles.c.id)
        ):
            names = outlets.setdefault(story_id, [])
            if name not in names:
                names.append(name)
    return [
        _alert_record(r, tuple(n for n in outlets.get(r.story_id, ()) if n != r.source))
        for r in rows
    ]


def _alert_record(row: Row[Any], also: tuple[str, ...] = ()) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        stage=row.stage,
        story_id=row.story_id,
        alert=Alert(
            watch=row.match_watch,
            terms=tuple(json.loads(row.terms)),
            hits=tuple(Hit(**h) for h in json.loads(row.hits or "[]")),
            source=row.source,
            title=row.title,
            summary=row.summary,
            url=row.url,
            published=row.published_at,
            language=row.lang,
            also_reported_by=also,
            follow_up=row.stage > 0,
        ),
    )
