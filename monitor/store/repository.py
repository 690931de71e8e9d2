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
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.model import Alert, Article, Match, Source
from monitor.pipeline import Decision, Known
from monitor.store.database import READ_ONLY, make_engine, migrate
from monitor.store.records import AlertRecord, ClaimedSource, PollRecord, SourceStatus
from monitor.store.schema import articles, matches, outbox, sources
from monitor.stories import Keys, StoryItem, article_keys

PENDING, SENT, DEAD = "pending", "sent", "dead"


class Store:
    """The newsmonitor database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

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
        with self.engine.begin() as conn:
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

    def known_articles(self, source_id: int, found: Sequence[Keys]) -> list[Known]:
        """The source's stored articles that share a key, link key or text key with these
        entries, with the watches each already matched."""
        keys = {k.key for k in found}
        url_keys = {k.url_key for k in found if k.url_key}
        text_keys = {k.text_key for k in found if k.text_key}
        if not keys:
            return []
        same = or_(
            articles.c.key.in_(keys),
            articles.c.url_key.in_(url_keys),
            articles.c.text_key.in_(text_keys),
        )
        with self._read() as conn:
            rows = conn.execute(
                select(
                    articles.c.id,
                    articles.c.key,
                    articles.c.url_key,
                    articles.c.text_key,
                    articles.c.content_hash,
                ).where(articles.c.source_id == source_id, same)
            ).all()
            watches: dict[int, set[str]] = {r.id: set() for r in rows}
            if watches:
                for m in conn.execute(
                    select(matches.c.article_id, matches.c.watch).where(
                        matches.c.article_id.in_(list(watches))
                    )
                ):
                    watches[m.article_id].add(m.watch)
        return [
            Known(
                id=r.id,
                key=r.key,
                url_key=r.url_key,
                text_key=r.text_key,
                content_hash=r.content_hash,
                watches=frozenset(watches[r.id]),
            )
            for r in rows
        ]

    def story_items(self, *, after_id: int, since: datetime) -> list[StoryItem]:
        """Articles with an id above `after_id` fetched since `since`, for the story index."""
        with self._read() as conn:
            rows = conn.execute(
                select(
                    articles.c.id,
                    articles.c.story_id,
                    articles.c.title,
                    articles.c.summary,
                    articles.c.signature,
                    articles.c.published_at,
                    articles.c.fetched_at,
                    sources.c.name,
                )
                .join(sources, sources.c.id == articles.c.source_id)
                .where(articles.c.id > after_id, articles.c.fetched_at >= since)
                .order_by(articles.c.id)
            ).all()
        return [
            StoryItem(
                article_id=r.id,
                story_id=r.story_id or r.id,
                source=r.name,
                when=r.published_at or r.fetched_at,
                title=r.title,
                lead=r.summary,
                signature=r.signature,
            )
            for r in rows
        ]

    def record_poll(
        self,
        source_id: int,
        *,
        owner: str,
        found: Sequence[Decision | tuple[Article, Sequence[Match]]],
        routes: Mapping[str, Sequence[str]],
        now: datetime,
        next_poll_at: datetime,
        etag: str | None,
        last_modified: str | None,
        title: str | None,
        followups: Mapping[str, int] | None = None,
        backfill: int = 0,
    ) -> PollRecord:
        """Commit a successful poll at once: new and edited articles, their stories, matches,
        outbox rows and the source's state.

        `routes` maps a watch to the channels its alerts go to; `followups` a watch to the number
        of outlets at which a story alerts once more. Articles the source already has are skipped
        by the unique key, and an alert already made for the story, watch and channel by another,
        so a concurrent or repeated poll adds nothing twice.
        """
        decisions = [_decision(d) for d in found]
        with self._write() as conn:
            fresh = [d for d in decisions if d.updates is None]
            stories = _insert_articles(conn, self._insert, source_id, fresh, now)
            for d in decisions:
                if d.updates is not None:
                    stories[d.article.key] = _update_article(conn, d)
            alerts = 0
            for d in decisions:
                story = stories.get(d.article.key)
                if story is not None:
                    alerts += self._alert(conn, d, story, routes, now)
            touched = {stories[d.article.key][1] for d in fresh if d.article.key in stories}
            alerts += self._followups(conn, touched, followups or {}, now)
            state: dict[str, object] = {
                "baseline_done": True,
                "last_polled_at": now,
                "last_success_at": now,
                "next_poll_at": next_poll_at,
                "consecutive_failures": 0,
                "last_error": None,
                "last_error_kind": None,
                "lease_until": None,
                "lease_owner": None,
                "etag": etag,
                "last_modified": last_modified,
            }
            if title:
                state["title"] = title
            if backfill:
                state.update(last_backfill_at=now, last_backfill_entries=backfill)
            conn.execute(update(sources).where(sources.c.id == source_id).values(**state))
            source_name = conn.execute(
                select(sources.c.name).where(sources.c.id == source_id)
            ).scalar_one()
        stored = tuple(
            StoryItem(
                article_id=stories[d.article.key][0],
                story_id=stories[d.article.key][1],
                source=source_name,
                when=d.article.published or now,
                title=d.article.title,
                lead=d.article.summary,
                signature=d.placement.signature or None,
            )
            for d in fresh
            if d.article.key in stories
        )
        return PollRecord(
            new_articles=len(stored),
            alerts=alerts,
            updated=len(decisions) - len(fresh),
            stored=stored,
        )

    def _alert(
        self,
        conn: Connection,
        d: Decision,
        story: tuple[int, int],
        routes: Mapping[str, Sequence[str]],
        now: datetime,
    ) -> int:
        article_id, story_id = story
        alerts = 0
        for m in d.matches:
            match_id = conn.execute(
                self._insert(matches)
                .values(
                    article_id=article_id,
                    watch=m.watch,
                    terms=json.dumps(list(m.terms), ensure_ascii=False),
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["article_id", "watch"])
                .returning(matches.c.id)
            ).scalar_one_or_none()
            channels = routes.get(m.watch, ())
            if match_id is not None and channels:
                rows = [_outbox_row(match_id, story_id, m.watch, ch, 0, now) for ch in channels]
                alerts += self._enqueue(conn, rows)
        return alerts

    def _enqueue(self, conn: Connection, rows: list[dict[str, object]]) -> int:
        # The final guard: one row per (story, watch, channel, stage), whoever races to add it.
        stmt = (
            self._insert(outbox)
            .on_conflict_do_nothing(index_elements=["story_id", "watch", "channel", "stage"])
            .returning(outbox.c.id)
        )
        return len(conn.execute(stmt, rows).all())

    def _followups(
        self, conn: Connection, stories: set[int], followups: Mapping[str, int], now: datetime
    ) -> int:
        """Alert once more for watches whose story has just reached their number of outlets."""
        if not stories or not followups:
            return 0
        outlets: dict[int, int] = dict(
            conn.execute(
                select(articles.c.story_id, func.count(articles.c.source_id.distinct()))
                .where(articles.c.story_id.in_(stories))
                .group_by(articles.c.story_id)
            ).all()
        )
        firsts = conn.execute(
            select(outbox.c.match_id, outbox.c.story_id, outbox.c.watch, outbox.c.channel).where(
                outbox.c.story_id.in_(stories),
                outbox.c.stage == 0,
                outbox.c.watch.in_(list(followups)),
            )
        ).all()
        rows = [
            _outbox_row(r.match_id, r.story_id, r.watch, r.channel, followups[r.watch], now)
            for r in firsts
            if outlets.get(r.story_id, 0) >= followups[r.watch]
        ]
        return self._enqueue(conn, rows) if rows else 0

    def record_failure(
        self, source_id: int, *, kind: str, message: str, now: datetime, next_poll_at: datetime
    ) -> None:
        """Record a failed poll, release the lease and schedule the next try."""
        with self._write() as conn:
            conn.execute(
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
    ) -> list[AlertRecord]:
        """Lease pending outbox rows due by `due_by` (default `now`), oldest first, with the
        alert's content."""
        order = [outbox.c.next_attempt_at, outbox.c.id]
        due = now if due_by is None else due_by
        with self._write() as conn:
            ids = self._lease(
                conn,
                outbox,
                [outbox.c.status == PENDING, outbox.c.next_attempt_at <= due],
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

    def renew_leases(self, owner: str, until: datetime) -> None:
        """Extend every outbox lease `owner` holds to `until`: the heartbeat of a live sender."""
        with self._write() as conn:
            conn.execute(
                update(outbox).where(outbox.c.lease_owner == owner).values(lease_until=until)
            )

    def release_leases(self, owner: str | None = None) -> None:
        """Hand back leases held by `owner` (by anyone when None, for a sole SQLite daemon)."""
        with self._write() as conn:
            for table in (sources, outbox):
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
    stories = {r.story_id for r in rows if r.story_id is not None}
    outlets: dict[int, list[str]] = {}
    if stories:
        for story_id, name in conn.execute(
            select(articles.c.story_id, sources.c.name)
            .join(sources, sources.c.id == articles.c.source_id)
            .where(articles.c.story_id.in_(stories))
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
        alert=Alert(
            watch=row.match_watch,
            terms=tuple(json.loads(row.terms)),
            source=row.source,
            title=row.title,
            summary=row.summary,
            url=row.url,
            published=row.published_at,
            also_reported_by=also,
        ),
    )


def _article_row(source_id: int, d: Decision, now: datetime) -> dict[str, object]:
    article = d.article
    return {
        "source_id": source_id,
        "key": article.key,
        "guid": article.guid,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "published_at": article.published,
        "fetched_at": now,
        "url_key": d.keys.url_key,
        "text_key": d.keys.text_key,
        "content_hash": d.keys.content_hash,
        "signature": d.placement.signature or None,
    }


def _decision(item: Decision | tuple[Article, Sequence[Match]]) -> Decision:
    if isinstance(item, Decision):
        return item
    article, found = item
    return Decision(article=article, keys=article_keys(article), matches=tuple(found))


def _insert_articles(
    conn: Connection, insert: Any, source_id: int, fresh: Sequence[Decision], now: datetime
) -> dict[str, tuple[int, int]]:
    """Insert new articles and place them in their stories: key -> (article id, story id)."""
    if not fresh:
        return {}
    stmt = (
        insert(articles)
        .on_conflict_do_nothing(index_elements=["source_id", "key"])
        .returning(articles.c.id, articles.c.key)
    )
    ids = {
        r.key: r.id for r in conn.execute(stmt, [_article_row(source_id, d, now) for d in fresh])
    }
    out: dict[str, tuple[int, int]] = {}
    for d in fresh:
        article_id = ids.get(d.article.key)
        if article_id is None:
            continue
        p = d.placement
        story = p.story
        if story is None and p.joins is not None:
            story = out.get(fresh[p.joins].article.key, (0, None))[1]
        out[d.article.key] = (article_id, story or article_id)
    if out:
        conn.execute(
            update(articles)
            .where(articles.c.id == bindparam("b_id"))
            .values(story_id=bindparam("b_story")),
            [{"b_id": a, "b_story": s} for a, s in out.values()],
        )
    return out


def _update_article(conn: Connection, d: Decision) -> tuple[int, int]:
    """Record the new version of an edited article; its (id, story id)."""
    row = conn.execute(
        update(articles)
        .where(articles.c.id == d.updates)
        .values(
            title=d.article.title,
            summary=d.article.summary,
            url=d.article.url,
            url_key=d.keys.url_key,
            text_key=d.keys.text_key,
            content_hash=d.keys.content_hash,
        )
        .returning(articles.c.id, articles.c.story_id)
    ).one()
    return row.id, row.story_id or row.id


def _outbox_row(
    match_id: int, story_id: int, watch: str, channel: str, stage: int, now: datetime
) -> dict[str, object]:
    return {
        "match_id": match_id,
        "story_id": story_id,
        "watch": watch,
        "channel": channel,
        "stage": stage,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
