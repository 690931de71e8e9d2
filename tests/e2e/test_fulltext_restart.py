"""An entry waiting for its page survives a killed daemon: the next one finishes the wait."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.e2e.test_fulltext import WATCH, item
from tests.support import process
from tests.support.feed_server import FeedServer, rss
from tests.support.pages import SEED_BODY, SEED_SUMMARY, SEED_TITLE, article_page
from tests.support.scenario import write_config
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.slow
FEED_MATCH = "Seoul and Beijing agree a trade deal"


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


def test_a_restart_during_the_wait_loses_and_doubles_nothing(
    tmp_path: Path, feed_server: FeedServer, webhook_sink: WebhookSink
) -> None:
    """Killed while two entries wait for a page that hangs, the daemon is started again once
    the page answers: the body-only match alerts once, the feed-text match is not sent again."""
    release = threading.Event()
    page = article_page(SEED_TITLE, SEED_BODY).encode()

    def slow_page(request: BaseHTTPRequestHandler) -> None:
        while not release.is_set():
            if request.server.stopping.wait(0.05):  # type: ignore[attr-defined]
                return
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(page)))
        request.end_headers()
        request.wfile.write(page)

    feed_server.set_handler("/a/seed", slow_page)
    feed_server.set_handler("/a/deal", slow_page)
    db = tmp_path / "newsmonitor.db"
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds={"wire": feed_server.url("/wire.xml")},
        channels={"hook": f"json://{webhook_sink.base_url.removeprefix('http://')}/alerts"},
        database=f"sqlite:///{db}",
        fetch="interval: 1s, timeout: 30s, allow_addresses: [127.0.0.1/32], full_text_wait: 60s",
    )
    items = [item("old", "Snow in Seoul", feed_server.url("/a/old"))]
    feed_server.set("/wire.xml", rss(items))

    def alerts() -> Counter[str]:
        return Counter(
            p.json()["title"].removeprefix(f"[{WATCH}] ") for p in list(webhook_sink.posts)
        )

    first = process.start(config, "run", log=tmp_path / "first.log")
    try:
        process.wait_for(lambda: _count(db, "SELECT count(*) FROM articles") == 1, what="baseline")
        items = [
            item("seed", SEED_TITLE, feed_server.url("/a/seed"), SEED_SUMMARY),
            item("deal", FEED_MATCH, feed_server.url("/a/deal")),
            *items,
        ]
        feed_server.set("/wire.xml", rss(items))
        process.wait_for(
            lambda: (
                _count(db, "SELECT count(*) FROM page_waits") == 2
                and feed_server.hits("/a/seed") == 1
                # Marked sent: a kill while it is in flight may send it again (reliability G1).
                and _count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 1
            ),
            what="both entries waiting, the feed-text match sent",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    release.set()
    second = process.start(config, "run", log=tmp_path / "second.log")
    try:
        process.wait_for(lambda: alerts()[SEED_TITLE] == 1, what="the body-only match")
        process.wait_for(
            lambda: _count(db, "SELECT count(*) FROM page_waits") == 0, what="waits finished"
        )
        time.sleep(2)  # a few more polls and deliveries
        assert alerts() == Counter({SEED_TITLE: 1, FEED_MATCH: 1})
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    log = (tmp_path / "second.log").read_text()
    assert "Traceback" not in log, log
