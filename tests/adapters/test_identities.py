"""Identifying a poll's entries against what the source stored before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from monitor.app.poll.identities import identities
from monitor.core.model import Article, Match, Source
from monitor.core.pipeline import Decision
from monitor.core.stories import article_keys
from monitor.store.repository import Store
from tests.support.store import record_poll

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.sync_sources(
        [
            Source(name=f"s{i}", url=f"http://127.0.0.1:1/{i}", interval=timedelta(minutes=5))
            for i in range(2)
        ],
        T0,
    )
    yield s
    s.close()


def _source_ids(store: Store) -> dict[str, int]:
    claimed = store.claim_sources("me", T0, lease=timedelta(hours=1), limit=10)
    return {c.name: c.id for c in claimed}


def _article(source: str, n: int, title: str | None = None) -> Article:
    return Article(
        source=source,
        key=f"guid:{source}-{n}",
        url=f"https://news.test/{source}/{n}",
        title=title or f"Story number {n} about harbour cranes and river barges",
        summary=f"Lead of story {n}: the port authority said more on {n}.",
        published=T0,
    )


def _store(store: Store, source_id: int, stored: list[Article], watch: str | None = None) -> None:
    matched = (Match(watch=watch, terms=("cranes",)),) if watch else ()
    record_poll(
        store,
        source_id,
        found=[Decision(article=a, keys=article_keys(a), matches=matched) for a in stored],
        routes={},
        now=T0,
        next_poll_at=T0,
        etag=None,
        last_modified=None,
        title=None,
    )


def test_an_unchanged_entry_is_known_without_reading_its_text(store: Store) -> None:
    ids = _source_ids(store)
    stored = [_article("s0", n) for n in range(3)]
    _store(store, ids["s0"], stored, watch="ports")
    entries = [*stored, _article("s0", 3)]
    keys, known, read = identities(store, ids["s0"], entries)
    assert read == 1  # only the new entry was read in full
    assert keys == [article_keys(a) for a in entries]
    assert {k.key for k in known} == {a.key for a in stored}


def test_an_edited_entry_carries_the_watches_and_text_of_its_stored_version(
    store: Store,
) -> None:
    ids = _source_ids(store)
    original = _article("s0", 1)
    _store(store, ids["s0"], [original, _article("s0", 2)], watch="ports")
    edited = _article("s0", 1, title="Story number 1 about harbour cranes, now with barges")
    # Another source's articles are never this source's versions.
    _store(store, ids["s1"], [_article("s0", 2)])
    _, known, read = identities(store, ids["s0"], [edited, _article("s0", 2)])
    assert read == 1
    [version] = [k for k in known if k.key == original.key]
    assert version.watches == frozenset({"ports"})
    assert version.previous is not None and version.previous.title == original.title
    [unchanged] = [k for k in known if k.key != original.key]
    assert unchanged.previous is None


def test_a_new_guid_for_a_stored_link_is_found_by_its_link(store: Store) -> None:
    ids = _source_ids(store)
    original = _article("s0", 1)
    _store(store, ids["s0"], [original])
    moved = Article(
        source="s0",
        key="guid:renumbered-1",
        url=original.url,
        title="A different headline entirely for the same page",
        summary="",
        published=T0,
    )
    _, known, read = identities(store, ids["s0"], [moved])
    assert read == 1
    assert [k.key for k in known] == [original.key]


# SQLite only: the cost is counted in SQLite virtual-machine steps.
def test_identifying_costs_the_same_however_long_the_source_s_history(
    sqlite_url: str,
) -> None:
    """A source that has stored thousands of articles is polled as cheaply as a new one:
    the lookup reads the rows its entries name, not the source's whole history."""
    store = Store.open(sqlite_url)
    try:
        store.sync_sources(
            [
                Source(name=s, url=f"http://127.0.0.1:1/{s}", interval=timedelta(minutes=5))
                for s in "ab"
            ],
            T0,
        )
        ids = _source_ids(store)
        for name, size in (("a", 50), ("b", 3000)):
            _store(store, ids[name], [_article(name, n) for n in range(size)])
        steps = {name: _vm_steps(store, ids[name], name) for name in "ab"}
    finally:
        store.close()
    assert steps["b"] < 1.5 * steps["a"], steps


def _vm_steps(store: Store, source_id: int, name: str) -> int:
    """SQLite virtual-machine steps (in hundreds) that identifying 50 entries, 45 of them
    stored and 5 new, takes."""
    entries = [_article(name, n) for n in range(45)]
    entries += [_article(name, 10_000 + n) for n in range(5)]
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    def on_begin(conn: Any) -> None:
        conn.connection.driver_connection.set_progress_handler(tick, 100)

    event.listen(store.engine, "begin", on_begin)
    try:
        _, known, read = identities(store, source_id, entries)
    finally:
        event.remove(store.engine, "begin", on_begin)
    assert (len(known), read) == (45, 5)
    return max(count[0], 1)
