"""Pruning old history, and keeping the database file compact afterwards.

What is kept, always: every alert (outbox row), the match and the article title and link it
shows, and every article's identity (source, key), which is what stops an old item that a feed
serves again from alerting a second time.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, or_, select, update

from monitor.core.model import RetentionSettings
from monitor.store.database import write_transaction
from monitor.store.schema import articles, matches, outbox

log = logging.getLogger(__name__)
BATCH = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    """What one pruning pass changed, and the database pages it gave back (SQLite)."""

    bodies: int = 0
    articles: int = 0
    matches: int = 0
    freed_pages: int = 0

    @property
    def changed(self) -> bool:
        """Whether any row was changed or deleted."""
        return bool(self.bodies or self.articles or self.matches)


def _alerted() -> Any:
    return exists(
        select(outbox.c.id)
        .join(matches, matches.c.id == outbox.c.match_id)
        .where(matches.c.article_id == articles.c.id)
    )


def _batches(engine: Engine, select_ids: Any, apply: Any) -> int:
    """Run `apply(ids)` on batches of the ids `select_ids` finds, each in its own transaction,
    so the daemon's writes wait at most one short batch."""
    total = 0
    while True:
        with write_transaction(engine) as conn:
            ids = [row[0] for row in conn.execute(select_ids.limit(BATCH))]
            if not ids:
                return total
            conn.execute(apply(ids))
            total += len(ids)


def prune(engine: Engine, *, now: datetime, bodies: timedelta, old: timedelta) -> PruneReport:
    """Empty the text (summary and content) of articles fetched more than `bodies` ago, and
    reduce articles fetched more than `old` ago to their identity; a zero duration skips that
    step. An article that raised an alert keeps its title, summary and link: the alert history
    shows them, and a pending alert renders them. Its content goes with the other bodies, since
    no alert shows it.
    """
    emptied = reduced = dropped = 0
    if bodies:
        stale = select(articles.c.id).where(
            articles.c.fetched_at < now - bodies,
            or_(articles.c.summary != "", articles.c.content != ""),
            ~_alerted(),
        )
        emptied = _batches(
            engine,
            stale,
            lambda ids: (
                update(articles).where(articles.c.id.in_(ids)).values(summary="", content="")
            ),
        )
        alerted = select(articles.c.id).where(
            articles.c.fetched_at < now - bodies, articles.c.content != "", _alerted()
        )
        emptied += _batches(
            engine,
            alerted,
            lambda ids: update(articles).where(articles.c.id.in_(ids)).values(content=""),
        )
    if old:
        cutoff = now - old
        unsent = select(matches.c.id).where(
            matches.c.created_at < cutoff,
            ~exists(select(outbox.c.id).where(outbox.c.match_id == matches.c.id)),
        )
        dropped = _batches(engine, unsent, lambda ids: delete(matches).where(matches.c.id.in_(ids)))
        forgotten = select(articles.c.id).where(
            articles.c.fetched_at < cutoff,
            ~and_(
                articles.c.title == "",
                articles.c.url.is_(None),
                articles.c.summary == "",
                articles.c.content == "",
            ),
            ~_alerted(),
        )
        reduced = _batches(
            engine,
            forgotten,
            lambda ids: (
                update(articles)
                .where(articles.c.id.in_(ids))
                .values(title="", summary="", content="", url=None, guid=None)
            ),
        )
    return PruneReport(bodies=emptied, articles=reduced, matches=dropped)


def compact(engine: Engine) -> int:
    """Give freed space back: on SQLite the pages the file shrank by, on PostgreSQL a VACUUM.

    A SQLite file created before incremental vacuum was turned on is converted once, by a full
    VACUUM (which holds the write lock for as long as it takes).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM {articles.name}, {matches.name}")
        return 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        before = int(cursor.execute("PRAGMA page_count").fetchone()[0])
        if cursor.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            log.info("turning on incremental vacuum: a one-time VACUUM of the whole database")
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cursor.execute("VACUUM")
        # executescript steps the pragma to the end; execute() would free a single page.
        raw.driver_connection.executescript("PRAGMA incremental_vacuum;")  # type: ignore[union-attr]
        after = int(cursor.execute("PRAGMA page_count").fetchone()[0])
        cursor.close()
        return before - after
    finally:
        raw.close()


def apply_retention(engine: Engine, settings: RetentionSettings, *, now: datetime) -> PruneReport:
    """One retention pass: prune what `settings` says is old, then compact if anything went."""
    report = prune(engine, now=now, bodies=settings.bodies, old=settings.articles)
    if not report.changed:
        return report
    return dataclasses.replace(report, freed_pages=compact(engine))
