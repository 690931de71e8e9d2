"""Story bookkeeping in the store: identity lookups, story placement, one alert per story.

Functions here run on a connection the repository holds, inside its transactions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select, update

from monitor.core.model import Article, Match
from monitor.core.pipeline import Decision, Known
from monitor.core.records import PENDING
from monitor.core.stories import Keys, StoryItem, article_keys
from monitor.store import search
from monitor.store.schema import articles, matches, outbox, sources

# The transaction lock that makes article ids commit in the order they are taken (two keys, so
# it cannot meet the single-key locks of notices.py).
_ARTICLE_IDS_LOCK = (0x6E6D, 1)


# Asked on every changed response, so written for each driver: SQLAlchemy spends several times
# longer rendering an expanding IN of fifty keys than SQLite spends answering it. Each key list
# is searched beside the source in its own index; one bound list each keeps the text constant,
# so the driver's prepared statement is reused.
_KNOWN_COLUMNS = "SELECT id, key, url_key, text_key, content_hash FROM articles WHERE source_id = "
_KNOWN_SQL = {
    "sqlite": " UNION ".join(
        f"{_KNOWN_COLUMNS}:source_id AND {c} IN (SELECT value FROM json_each(:{c}))"
        for c in ("key", "url_key", "text_key")
    ),
    "postgresql": f"{_KNOWN_COLUMNS}%(source_id)s AND (key = ANY(%(key)s)"
    " OR url_key = ANY(%(url_key)s) OR text_key = ANY(%(text_key)s))",
}


_MATCHED = select(matches.c.article_id, matches.c.watch).where(
    matches.c.article_id.in_(bindparam("ids", expanding=True))
)


def known_articles(conn: Connection, source_id: int, found: Sequence[Keys]) -> list[Known]:
    """The source's stored articles that share a key, link key or text key with these
    entries, without their watches (see `matched_watches`)."""
    lists = {
        "key": list({k.key for k in found} - {""}),
        "url_key": list({k.url_key for k in found} - {None, ""}),
        "text_key": list({k.text_key for k in found} - {None, ""}),
    }
    if not any(lists.values()):
        return []
    dialect = conn.dialect.name
    params: dict[str, Any] = {"source_id": source_id}
    for column, values in lists.items():
        params[column] = json.dumps(values) if dialect == "sqlite" else values
    rows = conn.exec_driver_sql(_KNOWN_SQL[dialect], params).all()
    return [
        Known(
            id=id_,
            key=key,
            url_key=url_key,
            text_key=text_key,
            content_hash=content_hash,
            watches=frozenset(),
        )
        for id_, key, url_key, text_key, content_hash in rows
    ]


def matched_watches(conn: Connection, ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The watches each of these stored articles matched, by id."""
    found: dict[int, set[str]] = {i: set() for i in ids}
    if found:
        for article_id, watch in conn.execute(_MATCHED, {"ids": list(found)}):
            found[article_id].add(watch)
    return {i: frozenset(w) for i, w in found.items()}


class Lookup:
    """What identifying one poll's entries asks the store, in one read transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known(self, source_id: int, found: Sequence[Keys]) -> list[Known]:
        return known_articles(self.conn, source_id, found)

    def watches(self, ids: Sequence[int]) -> dict[int, frozenset[str]]:
        return matched_watches(self.conn, ids)

    def previous(self, ids: Sequence[int]) -> dict[int, Article]:
        return search.stored_articles(self.conn, ids)


# Asked before every poll that places new articles: built once.
_STORY_ITEMS = (
    select(
        articles.c.id,
        articles.c.story_id,
        articles.c.title,
        articles.c.summary,
        articles.c.signature,
        articles.c.url_key,
        articles.c.published_at,
        articles.c.fetched_at,
        sources.c.name,
    )
    .join(sources, sources.c.id == articles.c.source_id)
    .where(
        articles.c.id > bindparam("after_id"),
        articles.c.fetched_at >= bindparam("since", type_=articles.c.fetched_at.type),
    )
    .order_by(articles.c.id)
)


def story_items(conn: Connection, *, after_id: int, since: datetime) -> list[StoryItem]:
    """Articles with an id above `after_id` fetched since `since`, for the story index."""
    rows = conn.execute(_STORY_ITEMS, {"after_id": after_id, "since": since}).all()
    return [
        StoryItem(
            article_id=r.id,
            story_id=r.story_id or r.id,
            source=r.name,
            when=r.published_at or r.fetched_at,
            title=r.title,
            lead=r.summary,
            signature=r.signature,
            url_key=r.url_key,
        )
        for r in rows
    ]


def alert(
    conn: Connection,
    insert: Any,
    d: Decision,
    story: tuple[int, int],
    routes: Mapping[str, Sequence[str]],
    now: datetime,
    by_watch: Mapping[str, int] | None = None,
) -> int:
    """Record the article's matches and enqueue an alert per channel, unless the story has one
    for that watch and channel already; how many were enqueued. `by_watch` gives the story
    of watches that group articles in another mode than the index."""
    return record_matches(conn, insert, d.matches, story, routes, now, by_watch)


def record_matches(
    conn: Connection,
    insert: Any,
    found: Sequence[Match],
    story: tuple[int, int],
    routes: Mapping[str, Sequence[str]],
    now: datetime,
    by_watch: Mapping[str, int] | None = None,
) -> int:
    """`alert` for matches found on a stored (article id, story id): a match stored already
    adds nothing, and a new one alerts unless its story has alerted that watch's channel."""
    article_id, story_id = story
    alerts = 0
    for m in found:
        match_id = conn.execute(
            _statements(insert).match, match_row(article_id, m, now)
        ).scalar_one_or_none()
        channels = routes.get(m.watch, ())
        if match_id is not None and channels:
            sid = by_watch.get(m.watch, story_id) if by_watch else story_id
            rows = [outbox_row(match_id, sid, m.watch, ch, 0, now) for ch in channels]
            alerts += enqueue(conn, insert, rows)
    return alerts


def copy_groups(fresh: Sequence[Decision], placed: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """For each new article placed, the id of the group of copies of its text: an article
    that is no copy starts its own."""
    out: dict[str, int] = {}
    for d in fresh:
        ids = placed.get(d.article.key)
        if ids is None:
            continue
        p = d.placement
        group = ids[0]
        if p.how == "copy":
            group = p.copies if p.copies is not None else ids[1]
            if p.copies_joins is not None:
                group = out.get(fresh[p.copies_joins].article.key, group)
        out[d.article.key] = group
    return out


def enqueue(conn: Connection, insert: Any, rows: list[dict[str, object]]) -> int:
    """Add these outbox rows, skipping any the unique key already has; how many were added."""
    return len(conn.execute(_statements(insert).outbox, rows).all())


def followups(
    conn: Connection,
    insert: Any,
    stories: set[int],
    followups: Mapping[str, int],
    now: datetime,
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
        outbox_row(r.match_id, r.story_id, r.watch, r.channel, followups[r.watch], now)
        for r in firsts
        if outlets.get(r.story_id, 0) >= followups[r.watch]
    ]
    return enqueue(conn, insert, rows) if rows else 0


def _article_row(source_id: int, d: Decision, now: datetime) -> dict[str, object]:
    article = d.article
    return {
        "source_id": source_id,
        "key": article.key,
        "guid": article.guid,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "content": article.content,
        "published_at": article.published,
        "fetched_at": now,
        "url_key": d.keys.url_key,
        "text_key": d.keys.text_key,
        "content_hash": d.keys.content_hash,
        "signature": d.placement.signature or None,
        "outlet": article.outlet,
        "lang": article.lang,
    }


def decision(item: Decision | tuple[Article, Sequence[Match]]) -> Decision:
    """A decision as is, or one made from an (article, matches) pair."""
    if isinstance(item, Decision):
        return item
    article, found = item
    return Decision(article=article, keys=article_keys(article), matches=tuple(found))


class _Inserts(NamedTuple):
    article: Any
    match: Any
    outbox: Any


@cache
def _statements(insert: Any) -> _Inserts:
    """The dialect's insert statements, built once: building one costs more than running it."""
    return _Inserts(
        article=insert(articles)
        .on_conflict_do_nothing(index_elements=["source_id", "key"])
        .returning(articles.c.id, articles.c.key),
        match=insert(matches)
        .on_conflict_do_nothing(index_elements=["article_id", "watch"])
        .returning(matches.c.id),
        # The final guard: one row per (story, watch, channel, stage), whoever races to add it.
        outbox=insert(outbox)
        .on_conflict_do_nothing(index_elements=["story_id", "watch", "channel", "stage"])
        .returning(outbox.c.id),
    )


_SET_STORY = (
    update(articles).where(articles.c.id == bindparam("b_id")).values(story_id=bindparam("b_story"))
)


def insert_articles(
    conn: Connection, insert: Any, source_id: int, fresh: Sequence[Decision], now: datetime
) -> dict[str, tuple[int, int]]:
    """Insert new articles and place them in their stories: key -> (article id, story id)."""
    if not fresh:
        return {}
    if conn.dialect.name == "postgresql":
        # The story index reads articles by id above the last it saw. Two transactions may take
        # ids 7 and 8 and commit 8 first, and a reader between the commits would skip 7 for
        # good; taking ids under a lock held to commit rules that out. SQLite has one writer.
        conn.execute(select(func.pg_advisory_xact_lock(*_ARTICLE_IDS_LOCK)))
    rows = [_article_row(source_id, d, now) for d in fresh]
    ids = {r.key: r.id for r in conn.execute(_statements(insert).article, rows)}
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
        conn.execute(_SET_STORY, [{"b_id": a, "b_story": s} for a, s in out.values()])
    return out


def update_article(conn: Connection, d: Decision) -> tuple[int, int]:
    """Record the new version of an edited article; its (id, story id)."""
    row = conn.execute(
        update(articles)
        .where(articles.c.id == d.updates)
        .values(
            title=d.article.title,
            summary=d.article.summary,
            content=d.article.content,
            url=d.article.url,
            url_key=d.keys.url_key,
            text_key=d.keys.text_key,
            content_hash=d.keys.content_hash,
        )
        .returning(articles.c.id, articles.c.story_id)
    ).one()
    return row.id, row.story_id or row.id


def outbox_row(
    match_id: int, story_id: int, watch: str, channel: str, stage: int, now: datetime
) -> dict[str, object]:
    """A pending outbox row, due at `now`."""
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


def match_row(article_id: int, match: Match, now: datetime) -> dict[str, Any]:
    """The `matches` row of `match` on an article, its terms and hits as JSON."""
    return {
        "article_id": article_id,
        "watch": match.watch,
        "terms": json.dumps(list(match.terms), ensure_ascii=False),
        "hits": json.dumps([asdict(h) for h in match.hits], ensure_ascii=False),
        "created_at": now,
    }
