"""Retention: old text and rows go, alerts and the keys that stop repeat alerts stay."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.model import Article, Match, RetentionSettings, Source
from monitor.store.history import export_rows
from monitor.store.repository import Store
from monitor.store.retention import apply_retention
from monitor.store.schema import articles
from tests.support.history import store_poll
from tests.support.store import known_keys

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = RetentionSettings(bodies=30 * DAY, articles=90 * DAY)


def _article(key: str) -> Article:
    return Article(
        source="wire",
        key=key,
        url=f"http://news.test/{key}",
        title=f"T {key}",
        summary="x" * 500,
        content="y" * 800,
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store with a source whose articles were fetched 100, 50 and 1 days ago.

    Each age has a plain article, one matched by a watch with no channel, one that alerted.
    """
    s = Store.open(db_url)
    s.sync_sources([Source(name="wire", url="http://news.test/f", interval=DAY)], NOW)
    [src] = s.claim_sources("me", NOW, lease=DAY, limit=1)
    for age in (100, 50, 1):
        found = [
            (_article(f"{age}-plain"), []),
            (_article(f"{age}-quiet"), [Match(watch="quiet", terms=("x",))]),
            (_article(f"{age}-alert"), [Match(watch="loud", terms=("x",))]),
        ]
        when = NOW - age * DAY
        store_poll(s, src.id, found, when=when, routes={"loud": ("console",)})
    yield s
    s.close()


def _rows(store: Store) -> dict[str, tuple[str, str, str | None]]:
    with store.engine.connect() as conn:
        found = conn.execute(
            select(articles.c.key, articles.c.title, articles.c.summary, articles.c.url)
        )
        return {r.key: (r.title, r.summary, r.url) for r in found}


def _contents(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return {r.key: r.content for r in conn.execute(select(articles.c.key, articles.c.content))}


def test_old_text_and_rows_go_while_alerts_and_keys_stay(store: Store) -> None:
    """Bodies older than 30 days are emptied, articles older than 90 days keep only their key,
    matches without alerts go with them, and alerted articles keep all but their content."""
    report = apply_retention(store.engine, SETTINGS, now=NOW)
    assert (report.bodies, report.articles, report.matches) == (6, 2, 1)
    assert _contents(store) == {
        "100-plain": "",
        "100-quiet": "",
        "100-alert": "",
        "50-plain": "",
        "50-quiet": "",
        "50-alert": "",
        "1-plain": "y" * 800,
        "1-quiet": "y" * 800,
        "1-alert": "y" * 800,
    }
    rows = _rows(store)
    assert len(rows) == 9  # every identity is kept
    assert rows["100-plain"] == ("", "", None)
    assert rows["100-quiet"] == ("", "", None)
    assert rows["100-alert"] == ("T 100-alert", "x" * 500, "http://news.test/100-alert")
    assert rows["50-plain"] == ("T 50-plain", "", "http://news.test/50-plain")
    assert rows["50-alert"][1] == "x" * 500
    assert rows["1-plain"][1] == "x" * 500
    assert [m["watch"] for m in export_rows(store.engine, "matches")] == [
        "loud",
        "quiet",
        "loud",
        "quiet",
        "loud",
    ]
    assert len(list(export_rows(store.engine, "alerts"))) == 3
    again = apply_retention(store.engine, SETTINGS, now=NOW)
    assert not again.changed


def test_a_pruned_article_served_again_does_not_alert(store: Store) -> None:
    """The kept key still tells the poller the item is known."""
    apply_retention(store.engine, SETTINGS, now=NOW)
    [src] = [s for s in store.list_sources() if s.name == "wire"]
    with store.engine.connect() as conn:
        source_id = conn.execute(select(articles.c.source_id)).scalars().first()
    assert source_id is not None
    assert known_keys(store, source_id, ["100-plain", "100-quiet", "new"]) == {
        "100-plain",
        "100-quiet",
    }
    assert src.articles == 9


def test_zero_keeps_everything(store: Store) -> None:
    """With both durations at zero nothing is touched."""
    report = apply_retention(store.engine, RetentionSettings(), now=NOW)
    assert not report.changed
    assert all(summary for _, summary, _ in _rows(store).values())
    assert all(_contents(store).values())


# SQLite only: incremental vacuum gives a SQLite file's free pages back; PostgreSQL vacuums itself.
def test_sqlite_files_use_incremental_vacuum_and_give_space_back(tmp_path: Path) -> None:
    """A new file is incremental from the start; an old one is converted once; pages come back."""
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # as a release without auto_vacuum would have made it
        conn.execute("CREATE TABLE placeholder (x)")
    store = Store.open(f"sqlite:///{old}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 0
        store.sync_sources([Source(name="wire", url="http://news.test/f", interval=DAY)], NOW)
        [src] = store.claim_sources("me", NOW, lease=DAY, limit=1)
        big = [(_article(f"k{i}"), []) for i in range(2000)]
        store_poll(store, src.id, big, when=NOW - 100 * DAY)
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        report = apply_retention(store.engine, SETTINGS, now=NOW)
        assert report.articles == 2000
        assert report.freed_pages > 0
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA page_count").scalar() == pages - report.freed_pages
    finally:
        store.close()
    fresh = Store.open(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        with fresh.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
    finally:
        fresh.close()


async def test_the_daemon_prunes_at_start_then_every_interval(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """The `retention:` block of the config drives the daemon's job; a pass waits its interval."""
    from monitor.app.daemon import Monitor
    from monitor.config import load_settings

    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database: "{db_url}"\nretention: {{bodies: 30d, articles: 90d, interval: 1h}}\n'
    )
    settings = load_settings(config)
    assert settings.retention == RetentionSettings(
        bodies=30 * DAY, articles=90 * DAY, interval=timedelta(hours=1)
    )
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        await monitor.retention.tick()
        assert _rows(store)["100-plain"] == ("", "", None)
        store.sync_sources([], NOW)  # nothing to poll; the rows below stay as they are
        with store.engine.begin() as conn:
            conn.execute(articles.update().values(summary="back"))
        await monitor.retention.tick()
        assert _rows(store)["50-plain"][1] == "back"
