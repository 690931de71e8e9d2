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
from tests.support.sinks import HANG, Reply, WebhookSink

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


def _finish(desk: Desk, titles: list[str], again: str | None = None) -> None:
    """Run a daemon until every title was delivered (and `again` a second time), then stop
    it cleanly."""

    def done() -> bool:
        got = desk.deliveries()
        return set(got) >= set(titles) and (again is None or got[again] == 2)

    with desk.daemon() as proc:
        process.wait_for(done, timeout=60, what="all deliveries")
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


def test_kill_in_the_middle_of_a_send_never_loses_it(desk: Desk) -> None:
    """SIGKILL while the channel holds a request open: the restart delivers that alert once
    more at most, and every other alert once."""
    titles = desk.publish(3)
    desk.hook.delay = 2.0
    with desk.daemon() as proc:
        process.wait_for(lambda: len(desk.hook.posts) == 1, what="the first send to start")
        time.sleep(1.0)  # half way through the receiver's answer
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    [in_flight] = desk.deliveries()
    desk.hook.delay = 0
    _finish(desk, titles, again=in_flight)  # it was never marked sent, so it goes again
    got = desk.deliveries()
    assert set(got) == set(titles)
    assert got[in_flight] == 2 and all(got[t] == 1 for t in titles if t != in_flight)


def test_sigterm_then_sigkill_with_a_hung_channel_redelivers_after_restart(desk: Desk) -> None:
    """A channel that never answers: SIGTERM, then SIGKILL when the grace has passed; the
    restarted daemon sends the hung alert again (one duplicate at most) and the rest once."""
    titles = desk.publish(3)
    desk.hook.replies = [Reply(action=HANG)]
    with desk.daemon() as proc:
        process.wait_for(lambda: len(desk.hook.posts) == 1, what="the hung send")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    desk.hook.release()
    [hung] = desk.deliveries()
    _finish(desk, titles, again=hung)
    got = desk.deliveries()
    assert set(got) == set(titles)
    assert got[hung] == 2 and all(got[t] == 1 for t in titles if t != hung)


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
