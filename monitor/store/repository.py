"""Every read and write the daemon and the CLI make, each in one short transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.core.model import Alert, Article, Hit, Match, Notice, Source
from monitor.core.pipeline import Decision
from monitor.core.records import (
    DEAD,
    DIGEST_COPY,
    PENDING,
    SENT,
    AlertRecord,
    ClaimedSource,
    PollRecord,
    SourceStatus,
)
from monitor.core.stories import StoryItem
from monitor.store import stories
from monitor.store.database import READ_ONLY, make_engine, migrate, write_transaction
from monitor.store.notices import Notices
from monitor.store.polls import PollBatch
from monitor.store.schema import articles, matches, notices, outbox, sources


class Store:
    """The newsmonitor database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self.notices = Notices(self)

    @classmethod
    def open(cls, url: str) -> Store:
        """Migrate the database at `url` to the newest schema and open it."""
        migrate(url)
        return cls(make_engine(url))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    def _lease(
        self,
        conn: Connection,
        table: Table,
        cond: Sequence[ColumnElement[bool]],
        order: Sequence[ColumnElement[Any]],
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
    ) -> list[int]:
        """Lease up to `limit` rows matching `cond` that nobody holds; their ids."""
        free = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
        due = select(table.c.id).where(*cond, free).order_by(*order).limit(limit)
        if self.engine.dialect.name == "postgresql":
            # Concurrent daemons skip rows another one is claiming right now.
            due = due.with_for_update(skip_locked=True)
        claimed = conn.execute(
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(lease_until=now + lease, lease_owner=owner)
            .returning(table.c.id)
        )
        return [row.id for row in claimed]

    # sources

    def sync_sources(self, configured: Sequence[Source], now: datetime) -> None:
        """Make the sources table follow the config: add, update, (de)activate by name."""
        with self._write() as conn:
            rows = {r.name: r for r in conn.execute(select(sources))}
            for src in configured:
                interval_s = max(1, int(src.interval.total_seconds()))
                row = rows.pop(src.name, None)
                if row is None:
                    conn.execute(
                        sources.insert().values(
                            name=src.name,
                            url=src.url,
                            active=True,
                            baseline_done=False,
                            interval_s=interval_s,
                            next_poll_at=now,
                            consecutive_failures=0,
                            created_at=now,
                        )
                    )
                    continue
                values: dict[str, object] = {"active": True, "interval_s": interval_s}
                if row.url != src.url:
                    # A new URL is a new feed: take a fresh baseline, forget its cache validators.
                    values.update(
                        url=src.url,
                        baseline_done=False,
                        etag=None,
                        last_modified=None,
                        next_poll_at=now,
                        title=None,
                    )
                conn.execute(update(sources).where(sources.c.id == row.id).values(**values))
            stale = [row.id for row in rows.values() if row.active]
            if stale:
                conn.execute(update(sources).where(sources.c.id.in_(stale)).values(active=False))

    def claim_sources(
        self, owner: str, now: datetime, *, lease: timedelta, limit: int, due_only: bool = True
    ) -> list[ClaimedSource]:
        """Lease active sources that are due (or all of them) and not leased by anyone else."""
        cond: list[ColumnElement[bool]] = [sources.c.active.is_(True)]
        if due_only:
            cond.append(sources.c.next_poll_at <= now)
        with self._write() as conn:
            ids = self._lease(
                conn,
                sources,
                cond,
                [sources.c.next_poll_at],
                owner=owner,
                now=now,
                lease=lease,
                limit=limit,
            )
            rows = conn.execute(
                select(sources).where(sources.c.id.in_(ids)).order_by(sources.c.next_poll_at)
            ).all()
        return [
            ClaimedSource(
                id=r.id,
                name=r.name,
                url=r.url,
                etag=r.etag,
                last_modified=r.last_modified,
                baseline_done=r.baseline_done,
                interval=timedelta(seconds=r.interval_s),
                consecutive_failures=r.consecutive_failures,
                last_success_at=r.last_success_at,
                silent_after=r.silent_after,
            )
            for r in rows
        ]

    def known_keys(self, source_id: int, keys: Sequence[str]) -> set[str]:
        """Which of these article keys the source already has."""
        if not keys:
            return set()
        with self._read() as conn:
            found = conn.execute(
                select(articles.c.key).where(
                    articles.c.source_id == source_id, articles.c.key.in_(list(keys))
                )
            )
            return {r.key for r in found}

    @contextmanager
    def lookup(self) -> Iterator[stories.Lookup]:
        """The lookups that identify one poll's entries, sharing one read transaction."""
        with self._read() as conn:
            yield stories.Lookup(conn)

    def story_items(self, *, after_id: int, since: datetime) -> list[StoryItem]:
        """Articles with an id above `after_id` fetched since `since`, for the story index."""
        with self._read() as conn:
            return stories.story_items(conn, after_id=after_id, since=since)

    @contextmanager
    def batch(self) -> Iterator[PollBatch]:
        """One transaction for the writes of several polls: all commit, or none."""
        with self._write() as conn:
            yield PollBatch(conn, self._insert)

    def record_poll(
        self,
        source_id: int,
        *,
        found: Sequence[Decision | tuple[Article, Sequence[Match]]],
        routes: Mapping[str, Sequence[str]],
        now: datetime,
        next_poll_at: datetime,
        etag: str | None,
        last_modified: str | None,
        title: str | None,
        followups: Mapping[str, int] | None = None,
        backfill: int = 0,
        notify: Sequence[str] = (),
        recovered: Notice | None = None,
        silent_after: datetime | None = None,
        silence: Notice | None = None,
    ) -> PollRecord:
        """Commit a successful poll at once: new and edited articles, their stories, matches,
        outbox rows and the source's state.

        `routes` maps a watch to the channels its alerts go to; `followups` a watch to the number
        of outlets at which a story alerts once more. Articles the source already has are skipped
        by the unique key, and an alert already made for the story, watch and channel by another,
        so a concurrent or repeated poll adds nothing twice.
        A source marked failing gets `recovered` queued for the `notify` channels; one past
        `silent_after` gets `silence`, once (see source_health.after_success).
        """
        with self.batch() as batch:
            return batch.record_poll(
                source_id,
                found=found,
                routes=routes,
                now=now,
                next_poll_at=next_poll_at,
                etag=etag,
                last_modified=last_modified,
                title=title,
                followups=followups,
                backfill=backfill,
                notify=notify,
                recovered=recovered,
                silent_after=silent_after,
                silence=silence,
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
        with self.batch() as batch:
            return batch.record_failure(
                source_id,
                kind=kind,
                message=message,
                now=now,
                next_poll_at=next_poll_at,
                threshold=threshold,
                notify=notify,
                failing=failing,
            )

    def list_sources(self) -> list[SourceStatus]:
        """Every known source, active first, with its article count."""
        counts = (
            select(articles.c.source_id, func.count().label("n"))
            .group_by(articles.c.source_id)
            .subquery()
        )
        with self._read() as conn:
            rows = conn.execute(
                select(sources, func.coalesce(counts.c.n, 0).label("n"))
                .outerjoin(counts, counts.c.source_id == sources.c.id)
                .order_by(sources.c.active.desc(), sources.c.name)
            ).all()
        return [
            SourceStatus(
                name=r.name,
                url=r.url,
                active=r.active,
                title=r.title,
                articles=r.n,
                last_polled_at=r.last_polled_at,
                last_success_at=r.last_success_at,
                next_poll_at=r.next_poll_at,
                consecutive_failures=r.consecutive_failures,
                last_error_kind=r.last_error_kind,
                last_error=r.last_error,
                last_backfill_at=r.last_backfill_at,
                last_backfill_entries=r.last_backfill_entries,
            )
            for r in rows
        ]

    # outbox

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
            ids = self._lease(
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

    def renew_leases(self, owner: str, until: datetime, *, channel: str | None = None) -> None:
        """Extend the outbox and notice leases `owner` holds (for one channel or all) to
        `until`: the heartbeat of a live sender."""
        with self._write() as conn:
            for table in (outbox, notices):
                cond = [table.c.lease_owner == owner]
                if channel is not None:
                    cond.append(table.c.channel == channel)
                conn.execute(update(table).where(*cond).values(lease_until=until))

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

    def release_leases(self, owner: str | None = None) -> None:
        """Hand back leases held by `owner` (by anyone when None, for a sole SQLite daemon)."""
        with self._write() as conn:
            for table in (sources, outbox, notices):
                cond: ColumnElement[bool] = table.c.lease_owner.is_not(None)
                if owner is not None:
                    cond = and_(cond, table.c.lease_owner == owner)
                conn.execute(update(table).where(cond).values(lease_until=None, lease_owner=None))

    def pending_count(self, now: datetime | None = None) -> int:
        """Outbox rows not yet sent nor dead (due by `now`, when given)."""
        cond = [outbox.c.status == PENDING]
        if now is not None:
            cond.append(outbox.c.next_attempt_at <= now)
        with self._read() as conn:
            return conn.execute(select(func.count()).where(*cond)).scalar_one()

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
            sources.c.name.label("source"),
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
            select(articles.c.story_id, sources.c.name)
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
            also_reported_by=also,
            follow_up=row.stage > 0,
        ),
    )
