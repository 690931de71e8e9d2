"""The search index (SQLite FTS5) and the article scans that search and replay run on.

The index is derived data: created on first use, filled from the articles table in id order,
and never needed for correctness (PostgreSQL, which has no FTS5, scans articles by time).
It holds no copy of the text (`content=''`), only the terms, so it adds little to the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, func, select, text

from monitor.core.model import Article
from monitor.core.searchtext import index_text
from monitor.store.database import READ_ONLY, write_transaction
from monitor.store.schema import articles, sources

INDEX = "article_search"
# Every indexed term once: a prefix term is looked up here and searched as an OR of the terms
# it stands for, which FTS5 reads newest first and stops early on, unlike a prefix query.
TERMS = "article_search_terms"
# Articles edited since they were indexed: a trigger notes them, the next catch-up indexes their
# new text under the same id. A contentless index cannot forget the old terms, so it holds both
# versions' words: more candidates, never a missed one.
EDITS = "article_search_edits"
BATCH = 2000
FIRST_BATCH = 50
MAX_EXPANSION = 64
_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5("
    "words, grams, content='', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TABLE IF NOT EXISTS {TERMS} (term TEXT PRIMARY KEY) WITHOUT ROWID",
    f"CREATE TABLE IF NOT EXISTS {EDITS} (id INTEGER PRIMARY KEY)",
    # Retention empties text without changing the content hash, and adds nothing to find.
    f"CREATE TRIGGER IF NOT EXISTS {EDITS}_note AFTER UPDATE OF content_hash ON articles "
    f"WHEN new.content_hash IS NOT old.content_hash "
    f"BEGIN INSERT OR IGNORE INTO {EDITS}(id) VALUES (new.id); END",
)
_FORGET_EDITS = text(f"DELETE FROM {EDITS} WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_PREFIX = re.compile(r'(words|grams) : "([^"]*)"\*')


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredArticle:
    """An article as stored, with its row id and when it was fetched."""

    id: int
    fetched_at: datetime
    article: Article


def has_index(engine: Engine) -> bool:
    """Whether this database can hold the full-text index (SQLite with FTS5)."""
    return engine.dialect.name == "sqlite"


def catch_up(engine: Engine, *, at_most: int | None = None) -> int:
    """Index the articles added or edited since the last call (`at_most` of them, if given);
    how many. Creates the index if needed."""
    if not has_index(engine):
        return 0
    total = 0
    with write_transaction(engine) as conn:
        for statement in _CREATE:
            conn.exec_driver_sql(statement)
    while True:
        with write_transaction(engine) as conn:
            size = BATCH if at_most is None else min(BATCH, at_most - total)
            if size <= 0:
                return total
            last = conn.exec_driver_sql(f"SELECT max(rowid) FROM {INDEX}").scalar() or 0
            edited = [r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {EDITS} LIMIT {size}")]
            if edited:
                conn.execute(_FORGET_EDITS, {"ids": edited})
                # Articles past `last` are indexed with the new articles, as they now read.
                stmt = _select().where(articles.c.id.in_(edited), articles.c.id <= last)
            else:
                stmt = _select().where(articles.c.id > last).limit(size)
            rows = conn.execute(stmt.order_by(articles.c.id)).all()
            if not rows and not edited:
                return total
            _add(conn, rows)
            total += len(rows)


def _add(conn: Connection, rows: Sequence[Row[Any]]) -> None:
    """Index these articles' text, and note its terms for prefix expansion."""
    if not rows:
        return
    indexed = [_index_row(r) for r in rows]
    conn.execute(
        text(f"INSERT INTO {INDEX}(rowid, words, grams) VALUES (:id, :words, :grams)"), indexed
    )
    terms = {t for row in indexed for t in (*row["words"].split(), *row["grams"].split())}
    conn.execute(
        text(f"INSERT OR IGNORE INTO {TERMS}(term) VALUES (:term)"),
        [{"term": t} for t in sorted(terms)],
    )


def _index_row(row: Row[Any]) -> dict[str, Any]:
    words, grams = index_text(_article(row))
    return {"id": row.id, "words": words, "grams": grams}


def _select() -> Any:
    return select(
        articles.c.id,
        articles.c.key,
        articles.c.url,
        articles.c.title,
        articles.c.summary,
        articles.c.content,
        articles.c.guid,
        articles.c.published_at,
        articles.c.fetched_at,
        sources.c.name.label("source"),
    ).join(sources, sources.c.id == articles.c.source_id)


def _article(row: Row[Any]) -> Article:
    return Article(
        source=row.source,
        key=row.key,
        url=row.url,
        title=row.title,
        summary=row.summary,
        content=row.content,
        published=row.published_at,
        guid=row.guid,
    )


def stored_articles(conn: Connection, ids: Sequence[int]) -> dict[int, Article]:
    """These stored articles, by id."""
    rows = conn.execute(_select().where(articles.c.id.in_(list(ids))))
    return {row.id: _article(row) for row in rows}


def _stored(row: Row[Any]) -> StoredArticle:
    return StoredArticle(id=row.id, fetched_at=row.fetched_at, article=_article(row))


def _read(engine: Engine) -> Any:
    return engine.connect().execution_options(**{READ_ONLY: True})


def newest_first(
    engine: Engine,
    *,
    condition: str | None,
    since: datetime | None,
    source: str | None,
) -> Iterator[StoredArticle]:
    """Articles newest first that may match: those meeting the index `condition` (when the
    database has the index and a condition is given), else all, within `since` and `source`."""
    use_index = condition is not None and has_index(engine)
    below: int | None = None
    # Most searches want a page of hits: read a few candidates first, more while few match.
    size = FIRST_BATCH
    with _read(engine) as conn:
        if use_index:
            condition = _expand_prefixes(conn, condition or "")
        while True:
            if use_index:
                ids = _index_ids(conn, condition or "", below, size)
                if not ids:
                    return
                below = ids[-1]
                stmt = _select().where(articles.c.id.in_(ids))
            else:
                stmt = _select().limit(size)
                if below is not None:
                    stmt = stmt.where(articles.c.id < below)
            stmt = stmt.order_by(articles.c.id.desc())
            if source is not None:
                stmt = stmt.where(sources.c.name == source)
            rows = conn.execute(stmt).all()
            if not use_index:
                if not rows:
                    return
                below = rows[-1].id
            for row in rows:
                if since is not None and row.fetched_at < since:
                    return  # ids grow with fetch time: everything further is older
                yield _stored(row)
            size = min(BATCH, size * 4)


def _expand_prefixes(conn: Connection, condition: str) -> str:
    """The condition with each prefix term replaced by an OR of the indexed terms it covers
    (kept as a prefix when it covers more than MAX_EXPANSION or none)."""

    def expand(found: re.Match[str]) -> str:
        column, phrase = found.group(1), found.group(2)
        head, _, last = phrase.rpartition(" ")
        rows = conn.execute(
            text(f"SELECT term FROM {TERMS} WHERE term >= :p ORDER BY term LIMIT :n"),
            {"p": last, "n": MAX_EXPANSION + 1},
        )
        terms = [t for (t,) in rows if t.startswith(last)]
        if not terms or len(terms) > MAX_EXPANSION:
            return found.group(0)
        phrases = " OR ".join(f'"{head} {t}"' if head else f'"{t}"' for t in terms)
        return f"{column} : ({phrases})"

    return _PREFIX.sub(expand, condition)


def _index_ids(conn: Connection, condition: str, below: int | None, limit: int) -> list[int]:
    where = "" if below is None else "AND rowid < :below"
    found = conn.execute(
        text(
            f"SELECT rowid FROM {INDEX} WHERE {INDEX} MATCH :q {where} "
            "ORDER BY rowid DESC LIMIT :limit"
        ),
        {"q": condition, "below": below, "limit": limit},
    )
    return [r[0] for r in found]


def oldest_first(
    engine: Engine, *, since: datetime | None, source: str | None
) -> Iterator[StoredArticle]:
    """Every article fetched since `since` (from `source`), oldest first, in batches."""
    after = 0
    with _read(engine) as conn:
        while True:
            stmt = _select().where(articles.c.id > after)
            if since is not None:
                stmt = stmt.where(articles.c.fetched_at >= since)
            if source is not None:
                stmt = stmt.where(sources.c.name == source)
            rows = conn.execute(stmt.order_by(articles.c.id).limit(BATCH)).all()
            if not rows:
                return
            after = rows[-1].id
            yield from (_stored(r) for r in rows)


def count_since(engine: Engine, *, since: datetime | None, source: str | None) -> int:
    """How many articles `oldest_first` would give."""
    stmt = select(func.count()).select_from(articles.join(sources))
    if since is not None:
        stmt = stmt.where(articles.c.fetched_at >= since)
    if source is not None:
        stmt = stmt.where(sources.c.name == source)
    with _read(engine) as conn:
        return int(conn.execute(stmt).scalar_one())
