"""The poller's schedule against a real server and store: hints, Retry-After, adaptive, per host."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from monitor.app.daemon import Monitor
from monitor.core.model import FetchSettings, Settings, Source
from monitor.core.records import SourceStatus
from monitor.core.schedule import INTERVAL_FLOOR, on_phase
from tests.support.feed_server import FeedServer, rss

NOW = datetime.now(UTC).replace(microsecond=0)
FETCH = FetchSettings(
    allow_addresses=("127.0.0.1/32",),
    min_interval=timedelta(minutes=1),
    max_interval=timedelta(hours=2),
)


async def poll_once(
    database: str, *sources: Source, fetch: FetchSettings = FETCH
) -> dict[str, SourceStatus]:
    settings = Settings(database=database, fetch=fetch, sources=sources)
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        await monitor.poll_all()
        return {s.name: s for s in monitor.store.list_sources()}


def source(name: str, url: str, *, minutes: int = 1, adaptive: bool = False) -> Source:
    return Source(name=name, url=url, interval=timedelta(minutes=minutes), adaptive=adaptive)


def waits(statuses: dict[str, SourceStatus]) -> dict[str, timedelta | None]:
    return {n: s.next_poll_at - NOW if s.next_poll_at else None for n, s in statuses.items()}


async def test_publisher_hints_push_the_next_poll_out(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """Cache-Control max-age and RSS <ttl> longer than the interval are honoured as they are;
    only a source's own interval is moved to its phase."""
    feed = rss([{"guid": "1", "title": "One"}])
    feed_server.set("/max-age", feed, headers={"Cache-Control": "max-age=7200"})
    feed_server.set("/ttl", feed.replace(b"<channel>", b"<channel><ttl>30</ttl>"))
    feed_server.set("/plain", feed)
    statuses = await poll_once(
        sqlite_url, *(source(n, feed_server.url(f"/{n}")) for n in ("max-age", "ttl", "plain"))
    )
    assert waits(statuses) == {
        "max-age": timedelta(hours=2),
        "ttl": timedelta(minutes=30),
        "plain": on_phase("plain", NOW, timedelta(minutes=1), INTERVAL_FLOOR),
    }


async def test_retry_after_on_503_and_429_is_honoured(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """A 503 or 429 with Retry-After waits that long; a 500's Retry-After is not trusted."""
    feed_server.set("/busy", "busy", status=503, headers={"Retry-After": "600"})
    feed_server.set("/slow-down", "", status=429, headers={"Retry-After": "1200"})
    feed_server.set("/broken", "", status=500, headers={"Retry-After": "9999"})
    statuses = await poll_once(
        sqlite_url,
        *(source(n, feed_server.url(f"/{n}")) for n in ("busy", "slow-down", "broken")),
    )
    assert waits(statuses) == {
        "busy": timedelta(minutes=10),
        "slow-down": timedelta(minutes=20),
        "broken": timedelta(minutes=1),
    }
    assert {s.last_error_kind for s in statuses.values()} == {"http"}


async def test_adaptive_source_polls_about_as_often_as_it_publishes(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """interval: auto follows the feed's publishing gap, clamped to min/max_interval."""
    every_20m = [{"guid": str(i), "published": NOW - timedelta(minutes=20 * i)} for i in range(6)]
    every_10s = [{"guid": str(i), "published": NOW - timedelta(seconds=10 * i)} for i in range(6)]
    feed_server.set("/steady", rss(every_20m))
    feed_server.set("/firehose", rss(every_10s))
    feed_server.set("/undated", rss([{"guid": "1"}, {"guid": "2"}]))
    statuses = await poll_once(
        sqlite_url,
        *(source(n, feed_server.url(f"/{n}"), adaptive=True) for n in ("steady", "firehose")),
        source("undated", feed_server.url("/undated"), adaptive=True),
    )
    found = waits(statuses)
    assert found["steady"] == on_phase("steady", NOW, timedelta(minutes=20), FETCH.min_interval)
    assert found["firehose"] == FETCH.min_interval
    undated = found["undated"]
    assert undated is not None and FETCH.min_interval < undated < FETCH.max_interval


async def test_one_host_gets_at_most_per_host_fetches_at_once(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """Four feeds on one host with per_host 1 are fetched one after another, never together."""
    lock = threading.Lock()
    in_flight = [0]
    peak = [0]

    def slow(request: BaseHTTPRequestHandler) -> None:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        body = rss([{"guid": "1"}])
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    for i in range(4):
        feed_server.set_handler(f"/f{i}", slow)
    fetch = FetchSettings(allow_addresses=("127.0.0.1/32",), per_host=1)
    statuses = await poll_once(
        sqlite_url, *(source(f"f{i}", feed_server.url(f"/f{i}")) for i in range(4)), fetch=fetch
    )
    assert all(s.consecutive_failures == 0 for s in statuses.values())
    assert peak[0] == 1
