"""Entries waiting for their article page, the page text once it comes, and page outcomes.

A wait is written in the poll's own transaction, with the article, so an entry is never stored
without either its matches or its wait (reliability G1). Finishing a wait deletes it, stores the
text as the article's content and records the matches in one transaction: whoever deletes the
row matches it, so two finishers (a late page and the deadline, or two daemons) match it once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.core.model import Article, Match
from monitor.store import stories
from monitor.store.base import StoreBase
from monitor.store.schema import articles, page_outcomes, page_waits, sources
from monitor.store.search import stored_articles


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """An entry waiting for its page: the stored article, its link, and when to give up."""

    article_id: int
    source: str
    url: str
    due_at: datetime
    quiet: frozenset[str]


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def hold(
    conn: Connection,
    source_id: int,
    waits: Sequence[tuple[str, str, Sequence[str]]],
    *,
    due_at: datetime,
    now: datetime,
) -> list[Wait]:
    """Record waits for this source's stored articles, given as (article key, page URL, watches
    kept quiet); an entry edited while it waits starts a new wait."""
    if not waits:
        return []
    by_key = {key: (url, quiet) for key, url, quiet in waits}
    rows = conn.execute(
        select(articles.c.id, articles.c.key, sources.c.name)
        .join(sources, sources.c.id == articles.c.source_id)
        .where(articles.c.source_id == source_id, articles.c.key.in_(list(by_key)))
    ).all()
    held = [
        Wait(
            article_id=r.id,
            source=r.name,
            url=by_key[r.key][0],
            due_at=due_at,
            quiet=frozenset(by_key[r.key][1]),
        )
        for r in rows
    ]
    values = [
        {
            "article_id": w.article_id,
            "url": w.url,
            "quiet": json.dumps(sorted(w.quiet)),
            "due_at": due_at,
            "created_at": now,
        }
        for w in held
    ]
    stmt = _insert(conn)(page_waits)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["article_id"],
            set_={"url": stmt.excluded.url, "quiet": stmt.excluded.quiet, "due_at": due_at},
        ),
        values,
    )
    return held


class Pages:
    """The waits and page outcomes, in the store's transactions."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    def waiting(self) -> list[Wait]:
        """Every wait, soonest due first."""
        with self.store._read() as conn:
            rows = conn.execute(
                select(page_waits, sources.c.name)
                .join(articles, articles.c.id == page_waits.c.article_id)
                .join(sources, sources.c.id == articles.c.source_id)
                .order_by(page_waits.c.due_at)
            ).all()
        return [
            Wait(
                article_id=r.article_id,
                source=r.name,
                url=r.url,
                due_at=r.due_at,
                quiet=frozenset(json.loads(r.quiet)),
            )
            for r in rows
        ]

    def article(self, article_id: int) -> Article | None:
        """The stored article a wait is for, with the feed's text."""
        with self.store._read() as conn:
            return stored_articles(conn, [article_id]).get(article_id)

    def finish(
        self,
        wait: Wait,
        *,
        text: str | None,
        lang: str | None = None,
        matches: Sequence[Match],
        routes: Mapping[str, Sequence[str]],
        outcome: str,
        message: str | None,
        now: datetime,
    ) -> int | None:
        """End `wait`: store `text` (if any) as the article's content, with the page's `lang`
        when it declares one; record `matches` and count the page's `outcome`; the alerts
        enqueued, or None when the wait was finished already (only the text is stored then,
        for search)."""
        with self.store._write() as conn:
            _note(conn, wait, outcome, message, now)
            gone = conn.execute(
                delete(page_waits).where(page_waits.c.article_id == wait.article_id)
            ).rowcount
            row = conn.execute(
                select(articles.c.story_id).where(articles.c.id == wait.article_id)
            ).one_or_none()
            if row is None:  # removed by retention meanwhile
                return None
            if text is not None:
                # Setting the content hash to itself has the search index read the new text.
                conn.execute(
                    update(articles)
                    .where(articles.c.id == wait.article_id)
                    .values(
                        content=text,
                        content_hash=articles.c.content_hash,
                        lang=lang or articles.c.lang,
                    )
                )
            if not gone:
                return None
            story = (wait.article_id, row.story_id or wait.article_id)
            return stories.record_matches(conn, _insert(conn), matches, story, routes, now)

    def outcomes(self) -> dict[str, dict[str, dict[str, Any]]]:
        """For each source with pages, each outcome's count and its last page and message."""
        with self.store._read() as conn:
            rows = conn.execute(
                select(sources.c.name, page_outcomes)
                .join(sources, sources.c.id == page_outcomes.c.source_id)
                .order_by(sources.c.name, func.lower(page_outcomes.c.outcome))
            ).all()
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r.name, {})[r.outcome] = {
                "count": r.count,
                "last_url": r.last_url,
                "last_message": r.last_message,
                "last_at": r.last_at.isoformat(),
            }
        return out


def _note(conn: Connection, wait: Wait, outcome: str, message: str | None, now: datetime) -> None:
    source_id = conn.execute(
        select(sources.c.id).where(sources.c.name == wait.source)
    ).scalar_one_or_none()
    if source_id is None:
        return
    stmt = _insert(conn)(page_outcomes).values(
        source_id=source_id,
        outcome=outcome,
        count=1,
        last_url=wait.url,
        last_message=message,
        last_at=now,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["source_id", "outcome"],
            set_={
                "count": page_outcomes.c.count + 1,
                "last_url": wait.url,
                "last_message": message,
                "last_at": now,
            },
        )
    )
