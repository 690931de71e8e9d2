"""Source health: a failing source and a silent one are reported once per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.health import silent_after
from monitor.core.model import Channel, FetchSettings, OperatorSettings, Settings, Source
from tests.support.feed_server import FeedServer, rss
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


def _settings(
    db_url: str, feed_server: FeedServer, ops: WebhookSink, **operator: float
) -> Settings:
    return Settings(
        database=db_url,
        fetch=FetchSettings(allow_addresses=("127.0.0.1/32",)),
        sources=(Source(name="wire", url=feed_server.url("/feed.xml"), interval=HOUR),),
        channels=(Channel(name="ops", url=ops.json_url()),),
        operator=OperatorSettings(channels=("ops",), **operator),  # type: ignore[arg-type]
    )


def _titles(sink: WebhookSink) -> list[str]:
    return [post.json()["title"] for post in sink.posts]


def _hourly(newest: datetime, prefix: str = "g", count: int = 5) -> bytes:
    return rss(
        [
            {"guid": f"{prefix}{i}", "title": f"Story {i}", "published": newest - i * HOUR}
            for i in range(count)
        ]
    )


async def test_failing_source_is_reported_once_and_its_recovery_once(
    db_url: str, feed_server: FeedServer, webhook_sink: WebhookSink
) -> None:
    """Three failed polls in a row give one notice, more failures (and a restart) none, and the
    next success one recovery notice."""
    settings = _settings(db_url, feed_server, webhook_sink, source_failures=3)
    feed_server.set("/feed.xml", "gone", status=500)
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        for _ in range(2):
            await monitor.run_once()
        assert _titles(webhook_sink) == []
        for _ in range(3):
            await monitor.run_once()
    assert _titles(webhook_sink) == ["newsmonitor: source wire is failing"]
    assert "answered 500" in webhook_sink.posts[0].json()["message"]
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        await monitor.run_once()
        assert len(webhook_sink.posts) == 1
        feed_server.set("/feed.xml", _hourly(NOW))
        for _ in range(2):
            outcomes, _ = await monitor.run_once()
            assert [o.ok for o in outcomes] == [True]
    assert _titles(webhook_sink) == [
        "newsmonitor: source wire is failing",
        "newsmonitor: source wire works again",
    ]


async def test_source_failures_zero_never_reports(
    db_url: str, feed_server: FeedServer, webhook_sink: WebhookSink
) -> None:
    """With `source_failures: 0` a source failing every poll sends no notice."""
    settings = _settings(db_url, feed_server, webhook_sink, source_failures=0)
    feed_server.set("/feed.xml", "gone", status=500)
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        for _ in range(4):
            await monitor.run_once()
    assert webhook_sink.posts == []


async def test_silent_source_is_flagged_once_per_episode(
    db_url: str, feed_server: FeedServer, webhook_sink: WebhookSink
) -> None:
    """A feed that publishes hourly and then nothing for a day is flagged once, also across
    unchanged (304) responses and a restart; publishing again ends the episode, so the next
    silence is flagged again."""
    settings = _settings(db_url, feed_server, webhook_sink, source_silence=10)
    now = NOW
    feed_server.set("/feed.xml", _hourly(NOW))
    async with Monitor(settings, clock=lambda: now) as monitor:
        await monitor.run_once()
        now = NOW + 5 * HOUR
        await monitor.run_once()
        assert webhook_sink.posts == []
        now = NOW + 11 * HOUR
        outcomes, _ = await monitor.run_once()
        assert [o.not_modified for o in outcomes] == [True]
        now = NOW + 24 * HOUR
        await monitor.run_once()
    assert _titles(webhook_sink) == ["newsmonitor: source wire has gone silent"]
    async with Monitor(settings, clock=lambda: now) as monitor:
        await monitor.run_once()
        assert len(webhook_sink.posts) == 1
        fresh = [{"guid": f"h{i}", "published": now - i * HOUR} for i in range(3)]
        feed_server.set("/feed.xml", rss([*fresh, {"guid": "g0", "published": NOW}]))
        await monitor.run_once()
        assert len(webhook_sink.posts) == 1
        now += 4 * 24 * HOUR  # its usual gap is now 8 h (24 h over three gaps)
        await monitor.run_once()
    assert _titles(webhook_sink) == ["newsmonitor: source wire has gone silent"] * 2


def test_silence_waits_for_many_usual_gaps_and_at_least_the_interval() -> None:
    """The deadline is the newest entry plus factor x the mean gap, never under the interval;
    undated feeds and factor 0 have none."""
    t = datetime(2026, 1, 1, tzinfo=UTC)
    dates = [t, t - HOUR, t - 2 * HOUR, None]
    assert silent_after(dates, factor=10, interval=timedelta(minutes=5)) == t + 10 * HOUR
    assert silent_after(dates, factor=10, interval=3 * HOUR) == t + 30 * HOUR
    assert silent_after([t, None], factor=10, interval=HOUR) is None
    assert silent_after(dates, factor=0, interval=HOUR) is None


def test_source_health_keys_are_read_and_checked(tmp_path: Path) -> None:
    """The two keys load into the settings, and a negative one is an error with file and line."""
    config = tmp_path / "monitor.yaml"
    head = "database: sqlite:///x.db\noperator:\n  source_failures: 2\n"
    config.write_text(head + "  source_silence: 2.5\n")
    assert load_settings(config).operator == OperatorSettings(source_failures=2, source_silence=2.5)
    config.write_text(head + "  source_silence: -1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.problems == [f"{config}:4: operator.source_silence: must not be negative"]
