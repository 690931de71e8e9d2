"""Several daemons on one PostgreSQL database, as processes: start together, share the work,
survive kill -9 of one of them mid-poll and mid-send, take in a latecomer, stop cleanly."""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import process
from tests.support.feed_server import FeedServer, Handler, rss
from tests.support.scenario import NOW, write_config
from tests.support.sinks import WebhookSink

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
FEEDS = 300
INTERVAL = 10.0
SLOW = range(30)  # feeds that answer after SLOW_DELAY once the kills are due
SLOW_DELAY = 2.0
WATCH = "korea-china-trade"


class Feeds:
    """FEEDS feeds on one local server, each recording when it was asked, with ETags."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.items: list[list[dict[str, object]]] = [
            [{"guid": f"old-{i}", "title": f"Snow in town {i}"}] for i in range(FEEDS)
        ]
        self.bodies = [rss(items) for items in self.items]
        self.hits: dict[int, list[float]] = defaultdict(list)
        self.delay = 0.0
        self.lock = threading.Lock()
        for i in range(FEEDS):
            server.set_handler(f"/f{i}.xml", self._handler(i))

    def _handler(self, i: int) -> Handler:
        def handle(request: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.hits[i].append(time.monotonic())
                body = self.bodies[i]
            if i in SLOW and self.delay:
                request.server.stopping.wait(self.delay)  # type: ignore[attr-defined]
            etag = f'"{hash(body)}"'
            if request.headers.get("If-None-Match") == etag:
                request.send_response(304)
                request.send_header("ETag", etag)
                request.end_headers()
                return
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("ETag", etag)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return handle

    def publish(self, feeds: range, tag: str) -> list[str]:
        """One new matching item at the top of each feed; their titles."""
        titles = []
        for i in feeds:
            title = f"Seoul and Beijing trade deal {tag} number {i}"
            item = {
                "guid": f"{tag}-{i}",
                "title": title,
                "link": f"http://news.test/{tag}/{i}",
                "published": NOW - timedelta(minutes=1),
            }
            with self.lock:
                self.items[i].insert(0, item)
                self.bodies[i] = rss(self.items[i])
            titles.append(title)
        return titles


class Fleet:
    """The daemons, the database they share and what the channels received."""

    def __init__(self, tmp: Path, url: str, feeds: Feeds, hook: WebhookSink) -> None:
        self.tmp = tmp
        self.feeds = feeds
        self.hook = hook
        hook_base = hook.base_url.removeprefix("http://")
        self.config = write_config(
            tmp / "monitor.yaml",
            feeds={f"feed-{i}": feeds.server.url(f"/f{i}.xml") for i in range(FEEDS)},
            channels={"a": f"json://{hook_base}/a", "b": f"json://{hook_base}/b"},
            database=url,
            fetch=f"interval: {INTERVAL:g}s, timeout: 5s, per_host: 16, parse_workers: 1, "
            "allow_addresses: [127.0.0.1/32]",
            extra="stories: {mode: 'off'}\n",
        )
        self.engine = create_engine(url)
        self.procs: list[subprocess.Popen[str]] = []
        self.samplers: list[Sampler] = []

    def start(self) -> subprocess.Popen[str]:
        proc = process.start(self.config, "run", log=self.tmp / f"daemon-{len(self.procs)}.log")
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen[str]) -> str:
        return (self.tmp / f"daemon-{self.procs.index(proc)}.log").read_text()

    def owner(self, proc: subprocess.Popen[str]) -> str:
        return f"{socket.gethostname()}:{proc.pid}"

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def deliveries(self, channel: str) -> Counter[str]:
        return Counter(
            p.json()["title"].removeprefix(f"[{WATCH}] ")
            for p in list(self.hook.posts)
            if p.path == f"/{channel}"
        )

    def delivered(self, titles: list[str]) -> bool:
        return all(set(self.deliveries(c)) >= set(titles) for c in "ab")


class Sampler(threading.Thread):
    """Which daemon held which source's lease, sampled every 0.1 s."""

    def __init__(self, fleet: Fleet) -> None:
        super().__init__(daemon=True)
        self.fleet = fleet
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            for owner, name in self.fleet.query(
                "SELECT lease_owner, name FROM sources WHERE lease_owner IS NOT NULL"
            ):
                self.seen[str(owner)].add(str(name))


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, feed_server: FeedServer, webhook_sink: WebhookSink):  # type: ignore[no-untyped-def]
    f = Fleet(tmp_path, pg_url, Feeds(feed_server), webhook_sink)
    yield f
    for sampler in f.samplers:
        sampler.stop.set()
        sampler.join()
    for proc in f.procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    f.engine.dispose()


def test_three_daemons_share_one_database_through_kills_and_a_latecomer(fleet: Fleet) -> None:
    # All start together on an empty database, and all come up.
    first = [fleet.start() for _ in range(3)]
    for proc in first:

        def up(p: subprocess.Popen[str] = proc) -> bool:
            return "running" in fleet.log(p) or p.poll() is not None

        process.wait_for(up, timeout=60, what="the daemons to start")
        assert proc.poll() is None, fleet.log(proc)
    process.wait_for(
        lambda: fleet.query("SELECT count(*) FROM sources WHERE baseline_done")[0][0] == FEEDS,
        timeout=60,
        what="every baseline",
    )
    baselined = time.monotonic()
    sampler = Sampler(fleet)
    fleet.samplers.append(sampler)
    sampler.start()

    # Steady state: one new item in a third of the feeds, alerted exactly once per channel.
    steady = fleet.feeds.publish(range(0, FEEDS, 3), "steady")
    process.wait_for(lambda: fleet.delivered(steady), timeout=60, what="the steady alerts")
    for channel in "ab":
        assert fleet.deliveries(channel) == Counter(dict.fromkeys(steady, 1))
    # Each one took a fair part: a tenth of the feeds at least, a third of an even share.
    shares = {fleet.owner(p): len(sampler.seen[fleet.owner(p)]) for p in first}
    assert min(shares.values()) >= FEEDS // 10, shares

    # kill -9 of one daemon mid-send and of another mid-poll.
    fleet.hook.delay = 1.0
    fleet.feeds.delay = SLOW_DELAY
    burst = fleet.feeds.publish(range(FEEDS - 10, FEEDS), "burst")

    def leased(table: str, owner: str) -> list[str]:
        column = "name" if table == "sources" else "CAST(id AS TEXT)"
        rows = fleet.query(
            f"SELECT {column} FROM {table} WHERE lease_owner = :o AND lease_until > now()",
            o=owner,
        )
        return [str(r[0]) for r in rows]

    sender: list[subprocess.Popen[str]] = []

    def sending() -> bool:
        busy = [p for p in first if fleet.hook.in_flight and leased("outbox", fleet.owner(p))]
        sender[:] = busy[:1]
        return bool(busy)

    process.wait_for(sending, timeout=40, what="a daemon in the middle of a send")
    [mid_send] = sender
    poller: list[subprocess.Popen[str]] = []

    def polling() -> bool:
        slow = {f"feed-{i}" for i in SLOW}
        busy = [
            p for p in first if p is not mid_send and slow & set(leased("sources", fleet.owner(p)))
        ]
        poller[:] = busy[:1]
        return bool(busy)

    process.wait_for(polling, timeout=30, what="a daemon in the middle of a slow poll")
    [mid_poll] = poller
    in_flight = leased("outbox", fleet.owner(mid_send))
    mid_send.kill()
    mid_poll.kill()
    killed_at = time.monotonic()
    orphans = leased("sources", fleet.owner(mid_poll)) + leased("sources", fleet.owner(mid_send))
    assert orphans
    late = fleet.start()  # a daemon started later takes a share

    def repolled() -> bool:
        hits = fleet.feeds.hits
        return all(any(t > killed_at for t in hits[int(n[5:])]) for n in orphans)

    process.wait_for(repolled, timeout=30, what="the killed daemons' sources polled again")
    process.wait_for(lambda: fleet.delivered(burst), timeout=60, what="the burst alerts")
    process.wait_for(
        lambda: (
            fleet.query(
                "SELECT count(*) FROM outbox WHERE id = ANY(:ids) AND status = 'sent'",
                ids=[int(i) for i in in_flight],
            )[0][0]
            == len(in_flight)
        ),
        what="the in-flight alerts sent again",
    )
    for channel in "ab":
        got = fleet.deliveries(channel)
        assert all(got[t] == 1 for t in steady), "a steady alert went twice"
        assert all(1 <= got[t] <= 2 for t in burst)
        # One send in flight per channel in each killed daemon: the one killed mid-poll may have
        # been sending the alerts of its last poll too.
        assert sum(got[t] for t in burst) - len(burst) <= 2, got
    process.wait_for(
        lambda: len(sampler.seen[fleet.owner(late)]) >= FEEDS // 15 or late.poll() is not None,
        timeout=30,
        what="the latecomer's share",
    )
    assert late.poll() is None, fleet.log(late)

    healthy = process.run(fleet.config, "health")
    assert healthy.returncode == 0 and "healthy: daemon" in healthy.stdout, healthy.stderr

    # SIGTERM to all that live: exit 0, nothing leased left behind.
    sampler.stop.set()
    sampler.join()
    alive = [p for p in fleet.procs if p.poll() is None]
    for proc in alive:
        proc.send_signal(signal.SIGTERM)
    for proc in alive:
        assert proc.wait(20) == 0, fleet.log(proc)
    for table in ("sources", "outbox", "notices"):
        owners = {fleet.owner(p) for p in alive}
        held = fleet.query(f"SELECT lease_owner FROM {table} WHERE lease_owner IS NOT NULL")
        assert not owners & {r[0] for r in held}, table

    # The killed daemons beat last more than 10 s ago, the stopped ones left no row.
    assert process.run(fleet.config, "health", "--max-age", "10").returncode == 1

    # No double poll: polls of one feed at least half an interval apart (the phase rule),
    # but for the sources the killed daemons were polling.
    polled_again = {int(n[5:]) for n in orphans}
    for i, hits in fleet.feeds.hits.items():
        gaps = [b - a for a, b in itertools.pairwise(hits)]
        if i not in polled_again:
            assert min(gaps, default=INTERVAL) > INTERVAL / 2 - 1, f"feed-{i} polled twice"
    # Every feed polled in every round while all three ran (a round late at most, on a loaded
    # machine).
    for i, hits in fleet.feeds.hits.items():
        steady_hits = [baselined, *(t for t in hits if baselined < t < killed_at), killed_at]
        gaps = [b - a for a, b in itertools.pairwise(steady_hits)]
        assert max(gaps) < 2 * INTERVAL, f"feed-{i} skipped a round"
