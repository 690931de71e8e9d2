"""Poll decisions: identity, baseline, age cut-off, ordering, routing and backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.core.model import Article, Channel, Entry, Match, Watch
from monitor.core.pipeline import Plan, plan, routes
from monitor.core.schedule import failure_backoff, retry_delay
from monitor.core.stories import canonical_url, identify
from tests.support.stories import known

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class _Everything:
    def match(self, article: Article) -> list[Match]:
        return [Match(watch="all", terms=(article.title,))]


def _entry(**kw: object) -> Entry:
    values: dict[str, object] = {"guid": None, "link": None, "title": "t", "summary": "s"}
    values.update(kw)
    return Entry(**values)


def test_identity_prefers_guid_then_canonical_link_then_text_hash() -> None:
    """An entry is keyed by its guid, else its canonical link, else a hash of its text."""
    assert identify(_entry(guid=" g1 ", link="http://x/1"), "s").key == "guid:g1"
    assert identify(_entry(link="HTTP://News.Test:80/a#top"), "s").key == "url:news.test/a"
    a = identify(_entry(title="same"), "s").key
    assert a.startswith("hash:") and a == identify(_entry(title="same"), "s").key
    assert a != identify(_entry(title="other"), "s").key


def test_canonical_url_keeps_what_changes_the_page() -> None:
    """Case of host and scheme, default ports and fragments go; path and query stay."""
    assert (
        canonical_url("https://EXAMPLE.com:443/News/A?id=7#c") == "https://example.com/News/A?id=7"
    )
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"
    assert canonical_url("https://example.com/a/?b=2&a=1") == "https://example.com/a?a=1&b=2"


def _articles(*published: datetime | None) -> list[Article]:
    return [
        Article(source="s", key=f"k{i}", url=None, title=f"t{i}", summary="", published=p)
        for i, p in enumerate(published)
    ]


def _pairs(out: Plan) -> list[tuple[Article, tuple[Match, ...]]]:
    return [(d.article, d.matches) for d in out.decisions]


def test_baseline_stores_everything_and_alerts_nothing() -> None:
    """On a source's first poll, every entry is new and none alerts."""
    out = plan(
        _articles(NOW, NOW),
        known=(),
        baseline=True,
        now=NOW,
        max_age=timedelta(days=7),
        matcher=_Everything(),
    )
    assert [(a.key, m) for a, m in _pairs(out)] == [("k0", ()), ("k1", ())]


def test_known_and_repeated_keys_are_dropped() -> None:
    """Entries the source already has, or that repeat within the feed, are skipped."""
    items = _articles(NOW, NOW) + _articles(NOW)
    out = plan(
        items,
        known=[known(items[1])],
        baseline=False,
        now=NOW,
        max_age=timedelta(0),
        matcher=_Everything(),
    )
    assert [a.key for a, _ in _pairs(out)] == ["k0"]


def test_old_entries_are_stored_without_alerting() -> None:
    """An entry published before the max_age cut-off is kept but sends nothing."""
    out = plan(
        _articles(NOW - timedelta(days=30), NOW),
        known=(),
        baseline=False,
        now=NOW,
        max_age=timedelta(days=7),
        matcher=_Everything(),
    )
    assert [(a.key, bool(m)) for a, m in _pairs(out)] == [("k0", False), ("k1", True)]


def test_zero_max_age_means_no_cut_off() -> None:
    """max_age 0 alerts on entries of any age."""
    out = plan(
        _articles(NOW - timedelta(days=3000)),
        known=(),
        baseline=False,
        now=NOW,
        max_age=timedelta(0),
        matcher=_Everything(),
    )
    assert out.decisions[0].matches


def test_new_entries_are_processed_oldest_first() -> None:
    """Alerts go out in publication order; undated entries come last, in feed order."""
    out = plan(
        _articles(NOW, None, NOW - timedelta(hours=1), None),
        known=(),
        baseline=False,
        now=NOW,
        max_age=timedelta(0),
        matcher=_Everything(),
    )
    assert [a.key for a, _ in _pairs(out)] == ["k2", "k0", "k1", "k3"]


def test_routes_skip_channels_that_are_off() -> None:
    """A watch's alerts go only to its channels that are on."""
    channels = [
        Channel(name="on", url="console://"),
        Channel(name="off", url="x", enabled=False),
        Channel(name="empty", url=""),
    ]
    found = routes([Watch(name="w", query="q", notify=("on", "off", "empty"))], channels)
    assert found == {"w": ("on",)}


def test_retry_delay_stays_within_the_full_jitter_window() -> None:
    """Backoff is uniform in [0, min(cap, base * 2**n)], never under one second."""
    rng = random.Random(7)
    base, cap = timedelta(seconds=30), timedelta(hours=1)
    for attempts in range(12):
        ceiling = min(cap, base * 2**attempts)
        delays = [retry_delay(attempts, base=base, cap=cap, rng=rng) for _ in range(200)]
        assert all(timedelta(seconds=1) <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2


def test_failing_source_backs_off_exponentially_up_to_six_hours() -> None:
    """Each failure doubles the wait, which never exceeds six hours."""
    five = timedelta(minutes=5)
    waits = [failure_backoff(five, n) for n in (1, 2, 3, 10, 50)]
    assert waits == [five, 2 * five, 4 * five, timedelta(hours=6), timedelta(hours=6)]
