"""Poll scheduling: publisher hints, adaptive intervals and error backoff, as pure arithmetic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from monitor.core.schedule import (
    HINT_CAP,
    cache_lifetime,
    failure_wait,
    feed_ttl,
    next_interval,
    on_phase,
    publishing_gap,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def test_cache_control_max_age_and_s_maxage() -> None:
    """max-age (or s-maxage) gives the freshness lifetime; no-cache and no-store give none."""
    assert cache_lifetime({"cache-control": "public, max-age=600"}, NOW) == 10 * MINUTE
    assert cache_lifetime({"cache-control": "s-maxage=120"}, NOW) == 2 * MINUTE
    assert cache_lifetime({"cache-control": "no-cache, max-age=600"}, NOW) is None
    assert cache_lifetime({"cache-control": "max-age=99999999"}, NOW) == HINT_CAP


def test_expires_counts_from_the_servers_date() -> None:
    """Expires minus the response's Date (else now); an Expires in the past gives zero."""
    headers = {"expires": "Mon, 01 Jun 2026 13:00:00 GMT", "date": "Mon, 01 Jun 2026 12:30:00 GMT"}
    assert cache_lifetime(headers, NOW) == 30 * MINUTE
    assert cache_lifetime({"expires": "Mon, 01 Jun 2026 13:00:00 GMT"}, NOW) == HOUR
    assert cache_lifetime({"expires": "0"}, NOW) is None
    assert cache_lifetime({"expires": "Mon, 01 Jun 2026 11:00:00 GMT"}, NOW) == timedelta(0)


def test_rss_ttl_and_syndication_period() -> None:
    """<ttl> is minutes; sy:updatePeriod divided by sy:updateFrequency; junk is ignored."""
    assert feed_ttl("15", None, None) == 15 * MINUTE
    assert feed_ttl(None, "hourly", "2") == 30 * MINUTE
    assert feed_ttl(None, "daily", None) == timedelta(days=1)
    assert feed_ttl("soon", "sometimes", "x") is None


def test_publishing_gap_over_the_last_week() -> None:
    """The mean gap of dated entries in the last week; a week when fewer; None when undated."""
    hourly = [NOW - HOUR * i for i in range(10)]
    assert publishing_gap(hourly, NOW) == HOUR
    assert publishing_gap([NOW - timedelta(days=30), NOW], NOW) == timedelta(weeks=1)
    assert publishing_gap([None, None], NOW) is None


def test_adaptive_interval_follows_the_gap_within_bounds() -> None:
    """An adaptive source polls once per gap, clamped to [min_interval, max_interval]."""

    def adaptive(gap: timedelta | None) -> timedelta:
        return next_interval(
            interval=MINUTE, adaptive=True, min_interval=MINUTE, max_interval=HOUR, gap=gap
        )

    assert adaptive(10 * MINUTE) == 10 * MINUTE
    assert adaptive(timedelta(seconds=5)) == MINUTE
    assert adaptive(timedelta(days=2)) == HOUR
    assert MINUTE < adaptive(None) < HOUR


def test_a_publisher_hint_only_ever_lengthens_the_wait() -> None:
    """A longer max-age or ttl pushes the next poll out; a shorter one changes nothing."""
    fixed = {
        "interval": 5 * MINUTE,
        "adaptive": False,
        "min_interval": MINUTE,
        "max_interval": HOUR,
    }
    assert next_interval(**fixed, hint=MINUTE) == 5 * MINUTE  # type: ignore[arg-type]
    assert next_interval(**fixed, hint=2 * HOUR) == 2 * HOUR  # type: ignore[arg-type]
    assert next_interval(**fixed, hint=timedelta(days=9)) == HINT_CAP  # type: ignore[arg-type]


def test_failure_backoff_honours_retry_after_up_to_the_cap() -> None:
    """Errors double the wait up to 6 h; a longer Retry-After wins, but not past a day."""
    assert [failure_wait(MINUTE, n) for n in (1, 2, 3)] == [MINUTE, 2 * MINUTE, 4 * MINUTE]
    assert failure_wait(MINUTE, 50) == 6 * HOUR
    assert failure_wait(MINUTE, 1, retry_after=HOUR) == HOUR
    assert failure_wait(MINUTE, 3, retry_after=timedelta(seconds=1)) == 4 * MINUTE
    assert failure_wait(MINUTE, 1, retry_after=timedelta(days=30)) == HINT_CAP


def test_sources_polled_together_come_back_spread_over_their_interval() -> None:
    """Two hundred sources of one interval, first polled at one moment: their next polls spread
    over the second half of the interval (the first half's phases wait for the next round),
    none later than the interval."""
    interval, now = timedelta(minutes=10), datetime(2026, 12, 2, 9, 0, 7, tzinfo=UTC)
    waits = [on_phase(f"feed{i}", now, interval, timedelta(seconds=30)) for i in range(200)]
    assert all(interval / 2 <= w <= interval for w in waits)
    spread = sorted(w for w in waits if w > interval / 2)
    # About half, and no tenth of the half-interval holds more than a fifth of them.
    assert 70 <= len(spread) <= 130
    tenths = Counter(int((w - interval / 2) / (interval / 20)) for w in spread)
    assert max(tenths.values()) <= len(spread) / 5, tenths


def test_a_source_polled_on_its_phase_keeps_it() -> None:
    """From its second poll on, a source polls on its phase, every interval exactly, whenever
    the daemon started; a poll that ran late comes back on the phase, not an interval after the
    late poll."""
    interval, shortest = timedelta(minutes=10), timedelta(seconds=30)

    def polls(start: datetime, count: int) -> list[datetime]:
        times = [start]
        for _ in range(count):
            times.append(times[-1] + on_phase("yonhap", times[-1], interval, shortest))
        return times[1:]

    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    _, second, third = polls(start, 3)
    assert third - second == interval
    assert polls(third + timedelta(seconds=20), 1) == [third + interval]
    for minutes in (3, 7, 61):
        again = polls(start + timedelta(minutes=minutes, seconds=11), 2)[-1]
        assert (again - second) % interval == timedelta(0)


def test_phase_never_shortens_below_the_floor() -> None:
    """A short interval is not shortened past the shortest wait allowed (min_interval, or the
    30 s floor), and an interval below that is kept as it is."""
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    floor = timedelta(seconds=30)
    waits = {on_phase(f"s{i}", now, timedelta(seconds=40), floor) for i in range(50)}
    assert min(waits) == floor and max(waits) <= timedelta(seconds=40)
    assert {on_phase(f"s{i}", now, timedelta(seconds=5), floor) for i in range(50)} == {
        timedelta(seconds=5)
    }
