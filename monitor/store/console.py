"""The reads behind the web console: alert pages, a story's outlets, volumes per day, the state
of channels, outbox and sources. Each is one short read, bounded by a limit or a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, or_, select, text

from monitor.core.records import DEAD, DIGEST_COPY, PENDING, AlertRecord
from monitor.store.alerts import _alert_query, _alert_records
from monitor.store.base import StoreBase
from monitor.store.schema import articles, channel_health, matches, outbox, sources
from monitor.store.search import INDEX, has_index


@dataclass(frozen=True, slots=True, kw_only=True)
class StoryArticle:
    """One outlet's article in a story."""

    article_id: int
    source: str
    title: str
    url: str | None
    published: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelState:
    """A channel's outbox and health: rows waiting, the oldest due, dead letters, failures."""

    channel: str
    pending: int
    oldest_due: datetime | None
    dead: int
    consecutive_failures: int
    failing: bool


class Console(StoreBase):
    """Reads for the web console; nothing here writes."""

    def alerts_page(
        self,
        *,
        limit: int,
        before: int | None = None,
        watch: str | None = None,
        channel: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[AlertRecord]:
        """Alerts x channels newest first, below the cursor `before` (an outbox id), filtered."""
        stmt = _alert_query().where(outbox.c.stage != DIGEST_COPY)
        if before is not None:
            stmt = stmt.where(outbox.c.id < before)
        if watch is not None:
            stmt = stmt.where(matches.c.watch == watch)
        if channel is not None:
            stmt = stmt.where(outbox.c.channel == channel)
        if status is not None:
            stmt = stmt.where(outbox.c.status == status)
        if since is not None:
            stmt = stmt.where(outbox.c.created_at >= since)
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(outbox.c.id.desc()).limit(limit)).all()
            return _alert_records(conn, rows)

    def alert_channels(self, match_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Each match's (channel, status) rows: its delivery state per channel."""
        if not match_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(outbox.c.match_id, outbox.c.channel, outbox.c.status)
                .where(outbox.c.match_id.in_(match_ids), outbox.c.stage != DIGEST_COPY)
                .order_by(outbox.c.channel)
            )
            found: dict[int, list[tuple[str, str]]] = {}
            for r in rows:
                found.setdefault(r.match_id, []).append((r.channel, r.status))
            return found

    def match_ids(self, alert_ids: list[int]) -> dict[int, int]:
        """The match behind each of these outbox ids."""
        if not alert_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.match_id).where(outbox.c.id.in_(alert_ids))
            )
            return {r.id: r.match_id for r in rows}

    def story(self, story_id: int, *, limit: int = 500) -> list[StoryArticle]:
        """The articles of a story in the order the outlets carried them."""
        when = func.coalesce(articles.c.published_at, articles.c.fetched_at)
        with self._read() as conn:
            rows = conn.execute(
                select(
                    articles.c.id,
                    sources.c.name,
                    articles.c.title,
                    articles.c.url,
                    articles.c.published_at,
                    articles.c.fetched_at,
                )
                .join(sources, sources.c.id == articles.c.source_id)
                .where(articles.c.story_id == story_id)
                .order_by(when, articles.c.id)
                .limit(limit)
            )
            return [
                StoryArticle(
                    article_id=r.id,
                    source=r.name,
                    title=r.title,
                    url=r.url,
                    published=r.published_at,
                    fetched_at=r.fetched_at,
                )
                for r in rows
            ]

    def alerts_per_day(
        self, since: datetime, until: datetime | None = None
    ) -> list[tuple[str, str, int]]:
        """(watch, day, alerts) from `since` to `until`: first alerts, once whatever the
        channels."""
        day = func.date(outbox.c.created_at)  # a string on SQLite, a date on PostgreSQL
        window = [outbox.c.created_at >= since, outbox.c.stage == 0]
        if until is not None:
            window.append(outbox.c.created_at < until)
        with self._read() as conn:
            rows = conn.execute(
                select(outbox.c.watch, day.label("day"), func.count(distinct(outbox.c.match_id)))
                .where(*window)
                .group_by(outbox.c.watch, day)
            )
            return [(str(w), str(d), int(n)) for w, d, n in rows if w is not None]

    def watch_volumes(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Per watch, (matches, alerts) since `since`."""
        with self._read() as conn:
            found = conn.execute(
                select(matches.c.watch, func.count())
                .where(matches.c.created_at >= since)
                .group_by(matches.c.watch)
            ).all()
            sent = conn.execute(
                select(outbox.c.watch, func.count(distinct(outbox.c.match_id)))
                .where(outbox.c.created_at >= since, outbox.c.stage == 0)
                .group_by(outbox.c.watch)
            ).all()
        alerts = {str(w): int(n) for w, n in sent if w is not None}
        return {str(w): (int(n), alerts.get(str(w), 0)) for w, n in found}

    def channel_states(self, now: datetime) -> list[ChannelState]:
        """Every channel with rows waiting, dead letters or a health record; read through the
        status index, so sent rows (nearly all of them) cost nothing."""
        with self._read() as conn:
            waiting = {
                r[0]: (int(r[1]), r[2])
                for r in conn.execute(
                    select(outbox.c.channel, func.count(), func.min(outbox.c.next_attempt_at))
                    .where(outbox.c.status == PENDING)
                    .group_by(outbox.c.channel)
                )
            }
            oldest = dict(
                conn.execute(
                    select(outbox.c.channel, func.min(outbox.c.next_attempt_at))
                    .where(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now)
                    .group_by(outbox.c.channel)
                ).all()
            )
            dead: dict[str, int] = dict(
                conn.execute(
                    select(outbox.c.channel, func.count())
                    .where(outbox.c.status == DEAD)
                    .group_by(outbox.c.channel)
                ).all()
            )
            health = {r.channel: r for r in conn.execute(select(channel_health))}
        return [
            ChannelState(
                channel=name,
                pending=waiting.get(name, (0, None))[0],
                oldest_due=oldest.get(name),
                dead=dead.get(name, 0),
                consecutive_failures=health[name].consecutive_failures if name in health else 0,
                failing=bool(health[name].failing) if name in health else False,
            )
            for name in sorted({*waiting, *dead, *health})
        ]

    def oldest_due(self, now: datetime, channels: list[str]) -> datetime | None:
        """When the oldest row due now on one of `channels` became due, or None."""
        if not channels:
            return None
        with self._read() as conn:
            found: datetime | None = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.status == PENDING,
                    outbox.c.next_attempt_at <= now,
                    outbox.c.channel.in_(channels),
                )
            ).scalar()
            return found

    def troubled_sources(self) -> list[dict[str, Any]]:
        """Sources marked failing or silent, with their last error."""
        with self._read() as conn:
            rows = conn.execute(
                select(
                    sources.c.name,
                    sources.c.failing,
                    sources.c.silent,
                    sources.c.consecutive_failures,
                    sources.c.last_error_kind,
                    sources.c.last_success_at,
                )
                .where(sources.c.active.is_(True), or_(sources.c.failing, sources.c.silent))
                .order_by(sources.c.name)
            )
            return [dict(r._mapping) for r in rows]

    def articles_per_source(self, since: datetime) -> dict[str, int]:
        """Articles fetched since `since`, per source name."""
        with self._read() as conn:
            rows = conn.execute(
                select(sources.c.name, func.count())
                .join(articles, articles.c.source_id == sources.c.id)
                .where(articles.c.fetched_at >= since)
                .group_by(sources.c.name)
            )
            return {str(n): int(c) for n, c in rows}

    def story_count(self, article_ids: list[int]) -> int:
        """How many stories these articles belong to (an article outside stories counts once)."""
        found: set[int] = set()
        with self._read() as conn:
            for start in range(0, len(article_ids), 5000):
                chunk = article_ids[start : start + 5000]
                rows = conn.execute(
                    select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(chunk))
                )
                found.update(r.story_id if r.story_id is not None else -r.id for r in rows)
        return len(found)

    def source_counts(self) -> tuple[int, int, int]:
        """Active sources, and how many of them are failing and silent."""
        with self._read() as conn:
            row = conn.execute(
                select(
                    func.count(),
                    func.sum(_flag(sources.c.failing)),
                    func.sum(_flag(sources.c.silent)),
                ).where(sources.c.active.is_(True))
            ).one()
            return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def candidates_per_day(
        self, condition: str, since: datetime, until: datetime
    ) -> dict[str, int] | None:
        """Articles fetched from `since` to `until` that meet the full-text `condition`, per
        fetch day; None where the database has no index.

        Ids grow with fetch time, so each day is a range of ids: one pass over the index
        counts per range, with no join with the articles, which a common word would make
        cost seconds.
        """
        if not has_index(self.engine):
            return None
        starts = [since]
        day = since.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while day < until:
            starts.append(day)
            day += timedelta(days=1)
        # Through the fetched_at index: min(id) with this condition scans the table by id.
        first_id = select(articles.c.id).order_by(articles.c.fetched_at).limit(1)
        with self._read() as conn:
            found = [
                conn.execute(first_id.where(articles.c.fetched_at >= s)).scalar() for s in starts
            ]
            bounds = [int(i) for i in found if i is not None]
            if not bounds:
                return {}
            counted = conn.execute(
                text(
                    f"SELECT {_bucket(bounds, 0, len(bounds))} AS d, count(*) FROM {INDEX} "
                    f"WHERE {INDEX} MATCH :q AND rowid >= :lo GROUP BY d"
                ),
                {"q": condition, "lo": bounds[0]},
            )
            return {starts[int(d)].strftime("%Y-%m-%d"): int(n) for d, n in counted}

    def ping(self) -> None:
        """One round trip to the database."""
        with self._read() as conn:
            conn.execute(select(1))


def _bucket(bounds: list[int], lo: int, hi: int) -> str:
    """A SQL expression giving the i for which bounds[i] <= rowid < bounds[i + 1], as a
    binary search: a few comparisons per row, not one per day."""
    if hi - lo == 1:
        return str(lo)
    mid = (lo + hi) // 2
    below, above = _bucket(bounds, lo, mid), _bucket(bounds, mid, hi)
    return f"CASE WHEN rowid < {bounds[mid]} THEN {below} ELSE {above} END"


def _flag(cond: Any) -> Any:
    return case((cond, 1), else_=0)
