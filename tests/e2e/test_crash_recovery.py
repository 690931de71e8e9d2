"""The outbox under crashes: the daemon as a process, SIGKILLed at failpoints and at random."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import process
from tests.support.feed_server import FeedServer, rss
from tests.support.scenario import NOW, write_config
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.slow
WATCH = "korea-china-trade"


class Desk:
    """One feed and one JSON webhook channel; counts deliveries per article title."""

    def __init__(self, tmp: Path, feeds: FeedServer, hook: WebhookSink) -> None:
        self.tmp = tmp
        self.feeds = feeds
        self.hook = hook
        # The baseline poll logs only when it finds something.
        self.items: list[dict[str, object]] = [{"guid": "old", "title": "Snow in Seoul"}]
        self.publish()
        self.config = write_config(
            tmp / "monitor.yaml",
            feeds={"wire": feeds.url("/wire.xml")},
            channels={"hook": f"json://{hook.base_url.removeprefix('http://')}/alerts"},
            database=f"sqlite:///{tmp / 'newsmonitor.db'}",
        )
        self.runs = 0

    def publish(self, count: int = 0) -> list[str]:
        """Add `count` matching items to the top of the feed; their titles."""
        start = len(self.items)
        new = [
            {
                "guid": f"item-{n}",
                "title": f"Seoul and Beijing trade deal, part {n}",
                "link": f"http://news.test/{n}",
                "published": NOW - timedelta(minutes=1),
            }
            for n in range(start, start + count)
        ]
        self.items = new + self.items
        self.feeds.set("/wire.xml", rss(self.items, title="Wire"))
        return [str(item["title"]) for item in new]

    def deliveries(self) -> Counter[str]:
        """How many times each article reached the channel."""
        return Counter(
            post.json()["title"].removeprefix(f"[{WATCH}] ") for post in list(self.hook.posts)
        )

    @contextmanager
    def daemon(self, **env: str) -> Iterator[subprocess.Popen[str]]:
        """`newsmonitor run` as a process; killed if still running at the end."""
        self.runs += 1
        log = self.tmp / f"daemon-{self.runs}.log"
        proc = process.start(self.config, "run", log=log, **env)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    def log(self) -> str:
        return (self.tmp / f"daemon-{self.runs}.log").read_text()

    def baseline(self) -> None:
        """Run a daemon through its first (baseline) poll and stop it cleanly."""
        with self.daemon() as proc:
            process.wait_for(lambda: "baseline" in self.log(), what="the baseline poll")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0, self.log()


@pytest.fixture
def desk(tmp_path: Path, feed_server: FeedServer, webhook_sink: WebhookSink) -> Desk:
    d = Desk(tmp_path, feed_server, webhook_sink)
    d.baseline()
    return d


def _finish(desk: Desk, titles: list[str]) -> None:
    """Run a daemon until every title was delivered, then stop it cleanly."""
    with desk.daemon() as proc:
        process.wait_for(
            lambda: set(desk.deliveries()) >= set(titles), timeout=60, what="all deliveries"
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, desk.log()


def test_kill_after_enqueue_commit_loses_nothing(desk: Desk) -> None:
    """Killed right after the outbox rows commit, a restart sends each alert exactly once."""
    titles = desk.publish(3)
    with desk.daemon(NEWSMONITOR_FAILPOINT="after-enqueue") as proc:
        assert proc.wait(30) == -signal.SIGKILL
    assert desk.deliveries() == Counter()
    _finish(desk, titles)
    assert desk.deliveries() == Counter(dict.fromkeys(titles, 1))


def test_kill_after_send_before_mark_duplicates_only_that_alert(desk: Desk) -> None:
    """Killed after the channel accepted a message, the restart re-sends it at once, once."""
    titles = desk.publish(3)
    with desk.daemon(NEWSMONITOR_FAILPOINT="after-send") as proc:
        assert proc.wait(30) == -signal.SIGKILL
    [first] = desk.deliveries()
    with desk.daemon() as proc:
        # SQLite: the file lock proves the old daemon is gone, so its leases are void at once.
        process.wait_for(
            lambda: desk.deliveries()[first] == 2, timeout=10, what="the in-flight re-send"
        )
        process.wait_for(lambda: set(desk.deliveries()) == set(titles), what="the rest")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert desk.deliveries() == Counter({t: 2 if t == first else 1 for t in titles})


def test_random_kills_under_load_lose_nothing_and_bound_duplicates(desk: Desk) -> None:
    """SIGKILL at random moments while 40 alerts go out: none lost, at most one extra per kill."""
    titles = desk.publish(40)
    desk.hook.delay = 0.05
    rng = random.Random(6)
    kills = 0
    for _ in range(5):
        with desk.daemon() as proc:
            process.wait_for(lambda: "running" in desk.log(), what="the daemon to start")
            before = len(desk.hook.posts)
            process.wait_for(
                lambda n=before: len(desk.hook.posts) > n or len(desk.deliveries()) == 40,
                what="a send",
            )
            # The kill lands at a random point of a send, a mark or a poll.
            time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
    _finish(desk, titles)
    got = desk.deliveries()
    assert set(got) == set(titles)  # zero lost
    # One channel sends one message at a time, so at most one is in flight per kill.
    assert sum(got.values()) - len(titles) <= kills


def test_sigterm_under_load_then_restart_sends_nothing_twice(desk: Desk) -> None:
    """A clean stop in the middle of a backlog, then a restart: every alert exactly once."""
    titles = desk.publish(20)
    desk.hook.delay = 0.1
    with desk.daemon() as proc:
        process.wait_for(lambda: len(desk.hook.posts) >= 3, what="a few sends")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, desk.log()
    assert 0 < len(desk.deliveries()) < 20
    _finish(desk, titles)
    assert desk.deliveries() == Counter(dict.fromkeys(titles, 1))
