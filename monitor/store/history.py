"""Reading the stored history in bulk: articles, matches and alerts as flat rows, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.core.model import Match
from monitor.store.database import READ_ONLY, write_transaction
from monitor.store.schema import articles, matches, outbox, sources
from monitor.store.stories import record_matches

KINDS = ("articles", "matches", "alerts")
_ARTICLE: tuple[Any, ...] = (
    articles.c.id.label("article_id"),
    sources.c.name.label("source"),
    articles.c.key,
    articles.c.url,
    articles.c.title,
    articles.c.summary,
    articles.c.content,
    articles.c.published_at,
    articles.c.fetched_at,
)
_MATCH: tuple[Any, ...] = (
    matches.c.id.label("match_id"),
    matches.c.watch,
    matches.c.terms,
    matches.c.created_at.label("matched_at"),
)
_ALERT: tuple[Any, ...] = (
    outbox.c.id.label("alert_id"),
    outbox.c.channel,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.created_at,
    outbox.c.next_attempt_at,
    outbox.c.sent_at,
    outbox.c.last_error,
)
COLUMNS = {
    "articles": [c.name for c in _ARTICLE],
    "matches": [c.name for c in (*_MATCH, *_ARTICLE)],
    "alerts": [c.name for c in (*_ALERT, *_MATCH, *_ARTICLE)],
}
_BATCH = 1000


def _query(kind: str, since: datetime | None, watch: str | None) -> Select[Any]:
    base = articles.join(sources, sources.c.id == articles.c.source_id)
    if kind == "articles":
        listed = select(*_ARTICLE).select_from(base)
        if watch is not None:
            matched = select(matches.c.article_id).where(matches.c.watch == watch)
            listed = listed.where(articles.c.id.in_(matched))
        if since is not None:
            listed = listed.where(articles.c.fetched_at >= since)
        return listed.order_by(articles.c.id)
    with_matches = base.join(matches, matches.c.article_id == articles.c.id)
    stmt: Select[Any]
    if kind == "matches":
        stmt = select(*_MATCH, *_ARTICLE).select_from(with_matches)
        order, when = matches.c.id, matches.c.created_at
    else:
        stmt = select(*_ALERT, *_MATCH, *_ARTICLE).select_from(
            with_matches.join(outbox, outbox.c.match_id == matches.c.id)
        )
        order, when = outbox.c.id, outbox.c.created_at
    if watch is not None:
        stmt = stmt.where(matches.c.watch == watch)
    if since is not None:
        stmt = stmt.where(when >= since)
    return stmt.order_by(order)


def export_rows(
    engine: Engine, kind: str, *, since: datetime | None = None, watch: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of one kind (`KINDS`), oldest first, as a dict keyed by `COLUMNS[kind]`.

    Rows are streamed in batches, so a large history is never held in memory at once; `terms`
    comes back as a list.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    with engine.connect() as conn:
        # A read transaction: on SQLite it takes no write lock, so the daemon keeps writing.
        conn = conn.execution_options(yield_per=_BATCH, **{READ_ONLY: True})
        result = conn.execute(_query(kind, since, watch))
        for row in result:
            out = dict(row._mapping)
            if "terms" in out:
                out["terms"] = json.loads(out["terms"])
            yield out


def record_replayed(
    engine: Engine,
    hits: Sequence[tuple[int, Match]],
    routes: Mapping[str, Sequence[str]],
    *,
    now: datetime,
) -> int:
    """Store the matches a replay found that were never recorded, with their alerts as the
    daemon would queue them; how many outbox rows were added.

    A match already stored (alerted or not) adds nothing, and a story alerts each watch's
    channels once, whichever of its articles matched, so a replay never sends what the daemon
    sent or will send, nor one alert per copy of a story.
    """
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    by_article: dict[int, list[Match]] = {}
    for article_id, match in hits:
        by_article.setdefault(article_id, []).append(match)
    added = 0
    with write_transaction(engine) as conn:
        ids = sorted(by_article)
        for first in range(0, len(ids), _BATCH):
            chunk = ids[first : first + _BATCH]
            stories = dict(
                conn.execute(
                    select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(chunk))
                ).all()
            )
            for article_id in chunk:
                story = (article_id, stories.get(article_id) or article_id)
                added += record_matches(conn, insert, by_article[article_id], story, routes, now)
    return added
