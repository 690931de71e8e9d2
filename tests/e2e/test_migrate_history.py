"""`newsmonitor migrate --to`: a daemon's SQLite history of 100,000 articles into PostgreSQL,
interrupted and resumed, verified table by table."""

from __future__ import annotations

import json
import signal
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from monitor.store.schema import articles
from tests.support import process
from tests.support.feed_server import FeedServer, rss
from tests.support.scenario import NOW, write_config
from tests.support.sinks import WebhookSink

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ARTICLES = 100_000


def _daemon_history(tmp: Path, feeds: FeedServer, hook: WebhookSink) -> Path:
    """A database the daemon made (a baseline, then alerts sent), grown to ARTICLES articles."""
    items: list[dict[str, object]] = [{"guid": "old", "title": "Snow in Seoul"}]
    feeds.set("/wire.xml", rss(items))
    db = tmp / "newsmonitor.db"
    config = write_config(
        tmp / "monitor.yaml",
        feeds={"wire": feeds.url("/wire.xml")},
        channels={"hook": f"json://{hook.base_url.removeprefix('http://')}/alerts"},
        database=f"sqlite:///{db}",
    )
    assert process.run(config, "run", "--once").returncode == 0
    items[:0] = [
        {
            "guid": f"new-{n}",
            "title": f"Seoul and Beijing trade deal, part {n}",
            "link": f"http://news.test/{n}",
            "published": NOW - timedelta(minutes=1),
        }
        for n in range(3)
    ]
    feeds.set("/wire.xml", rss(items))
    done = process.run(config, "run", "--once")
    assert done.returncode == 0 and len(hook.posts) == 3, done.stderr
    with sqlite3.connect(db) as conn:  # the rest in one statement: copies of a stored article
        have = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO articles (source_id, key, guid, url, title, summary, content, "
            "published_at, fetched_at, url_key, text_key, content_hash) "
            "SELECT a.source_id, 'bulk:' || i, 'bulk-' || i, a.url || '/' || i, "
            "a.title || ' ' || i, a.summary, a.content, a.published_at, a.fetched_at, "
            "a.url_key || '/' || i, NULL, NULL FROM n, (SELECT * FROM articles LIMIT 1) a",
            (ARTICLES - have,),
        )
    return config


def test_a_daemon_history_moves_to_postgresql_resumed_after_a_kill(
    tmp_path: Path, feed_server: FeedServer, webhook_sink: WebhookSink, pg_url: str
) -> None:
    config = _daemon_history(tmp_path, feed_server, webhook_sink)
    target = create_engine(pg_url)

    def copied() -> int:
        try:
            with target.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())
        except Exception:  # the schema is not there yet
            return 0

    first = process.start(config, "migrate", "--to", pg_url, log=tmp_path / "first.log")
    try:
        process.wait_for(lambda: copied() > 0, timeout=60, what="the copy to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert 0 < copied() < ARTICLES, "the kill came too late to interrupt the copy"
        again = process.run(config, "migrate", "--to", pg_url, "--json", timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert again.returncode == 0, again.stderr
    assert "resuming:" in again.stderr
    report = json.loads(again.stdout)
    counts = {t["table"]: (t["source"], t["target"]) for t in report["tables"]}
    assert report["ok"] and counts["articles"] == (ARTICLES, ARTICLES)
    assert counts["matches"][0] == 3 and counts["outbox"] == (3, 3)
    assert all(source == target for source, target in counts.values())
    # New rows on the target go on from the copied ids; then it holds more than a copy.
    with target.begin() as conn:
        conn.execute(
            articles.insert().values(source_id=1, key="k", title="t", summary="", fetched_at=NOW)
        )
    refused = process.run(config, "migrate", "--to", pg_url)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    target.dispose()
