"""The sources the config names, their leases for polling, and the transactions of polls."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update

from monitor.core.model import Source
from monitor.core.records import ClaimedSource, SourceStatus
from monitor.store import stories
from monitor.store.base import StoreBase, lease_rows
from monitor.store.database import SYNC_LOCK, in_turn
from monitor.store.polls import PollBatch
from monitor.store.schema import articles, sources


class Sources(StoreBase):
    """Keeping the sources table in step with the config and handing sources out to poll."""

    def sync_sources(self, configured: Sequence[Source], now: datetime) -> None:
        """Make the sources table follow the config: add, update, (de)activate by name."""
        with self._write() as conn:
            in_turn(conn, SYNC_LOCK)  # daemons started together would insert the same names
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
                        resolved_url=None,
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
            ids = lease_rows(
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
                resolved_url=r.resolved_url,
            )
            for r in rows
        ]

    def set_resolved_url(self, source_id: int, url: str | None) -> None:
        """Keep the feed that a source's page advertises, which later polls fetch instead."""
        with self._write() as conn:
            conn.execute(
                update(sources)
                .where(sources.c.id == source_id)
                .values(resolved_url=url, etag=None, last_modified=None)
            )

    @contextmanager
    def lookup(self) -> Iterator[stories.Lookup]:
        """The lookups that identify one poll's entries, sharing one read transaction."""
        with self._read() as conn:
            yield stories.Lookup(conn)

    @contextmanager
    def batch(self) -> Iterator[PollBatch]:
        """One transaction for the writes of several polls: all commit, or none."""
        with self._write() as conn:
            yield PollBatch(conn, self._insert)

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
                resolved_url=r.resolved_url,
            )
            for r in rows
        ]
