"""No floods: digests, quiet hours, bursts and rate limits, each opt-in, against a receiver."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from monitor.app.delivery import Deliverer
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Channel, Watch
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, paced, seed
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")


def _deliverer(
    store: Store, sink: WebhookSink, clock: Clock, *, watch: Watch, channel: Channel
) -> Deliverer:
    return paced(store, clock, watch, channel)


def _titles(sink: WebhookSink) -> list[str]:
    return [post.json()["title"] for post in sink.posts]


def _statuses(store: Store) -> set[str]:
    return {a.status for a in store.list_alerts()}


def _watch(**pacing: object) -> Watch:
    return Watch(name="w", query="trade", notify=("hook",), **pacing)  # type: ignore[arg-type]


async def test_without_pacing_every_alert_goes_out_at_once_on_its_own(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """The default: three alerts, three messages, in the first pass."""
    seed(store, ["hook"], count=3)
    hook = Channel(name="hook", url=webhook_sink.json_url())
    await _deliverer(store, webhook_sink, Clock(), watch=_watch(), channel=hook).deliver_due()
    assert len(webhook_sink.posts) == 3
    assert _statuses(store) == {"sent"}


async def test_a_digest_waits_for_its_schedule_then_sends_one_message_grouped_by_watch(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Alerts of two watches wait for 08:00 Berlin time and go out as one counted digest."""
    seed(store, ["hook"], count=3, watches=("w", "v"))
    hook = Channel(name="hook", url=webhook_sink.json_url(), digest="0 8 * * *")
    clock = Clock()
    deliverer = _deliverer(store, webhook_sink, clock, watch=_watch(), channel=hook)
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now = T0.replace(hour=6, minute=59) + timedelta(days=1)  # 07:59 in Berlin
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now += timedelta(minutes=1)
    await deliverer.deliver_due()
    assert _titles(webhook_sink) == ["newsmonitor digest: 6 alerts"]
    body = webhook_sink.posts[0].json()["message"]
    assert "w (3)" in body and "v (3)" in body
    assert body.count("http://news.test/") == 6
    assert _statuses(store) == {"sent"}


async def test_quiet_hours_hold_alerts_then_send_one_catch_up(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Alerts during a channel's quiet hours go out together when they end."""
    seed(store, ["hook"], count=4)  # at 13:00 Berlin time
    quiet = (time(12, 30), time(14, 0))
    hook = Channel(name="hook", url=webhook_sink.json_url(), quiet_hours=quiet)
    clock = Clock()
    deliverer = _deliverer(store, webhook_sink, clock, watch=_watch(), channel=hook)
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now = T0 + timedelta(hours=1)  # 14:00 Berlin
    await deliverer.deliver_due()
    assert _titles(webhook_sink) == ["While hook was quiet: 4 alerts"]


async def test_a_burst_of_matches_becomes_one_alert_listing_them(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Fourteen matches of one watch within its burst window make one message."""
    seed(store, ["hook"], count=14)
    hook = Channel(name="hook", url=webhook_sink.json_url())
    clock = Clock()
    watch = _watch(burst=timedelta(minutes=10))
    deliverer = _deliverer(store, webhook_sink, clock, watch=watch, channel=hook)
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now += timedelta(minutes=10)
    await deliverer.deliver_due()
    assert _titles(webhook_sink) == ["[w] 14 new articles in 10 minutes"]
    assert _statuses(store) == {"sent"}


async def test_a_rate_limit_sends_n_then_one_summary_of_the_overflow(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """With at most 2 per hour, 5 alerts give 2 messages now and 1 summary of 3 next hour."""
    seed(store, ["hook"], count=5)
    hook = Channel(name="hook", url=webhook_sink.json_url())
    clock = Clock()
    watch = _watch(rate_limit=(2, timedelta(hours=1)))
    deliverer = _deliverer(store, webhook_sink, clock, watch=watch, channel=hook)
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 2
    clock.now += timedelta(minutes=59)
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 2
    clock.now += timedelta(minutes=1)
    await deliverer.deliver_due()
    assert (
        _titles(webhook_sink)[2] == "[w] 3 more alerts, held back by the rate limit (2 per 1 hour)"
    )
    assert _statuses(store) == {"sent"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("delivery: {timezone: Mars/Base}", "delivery.timezone: unknown time zone"),
        (
            "channels: {c: {url: 'console://', digest: '0 25 * * *'}}",
            "channels.c.digest: not a crontab schedule",
        ),
        (
            "channels: {c: {url: 'console://', quiet_hours: '22-7'}}",
            'channels.c.quiet_hours: use "HH:MM-HH:MM"',
        ),
    ],
)
def test_pacing_settings_are_checked_at_load(tmp_path: Path, line: str, message: str) -> None:
    """A bad time zone, schedule or quiet-hours span is a config error at its line."""
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: sqlite:///x.db\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    [problem] = caught.value.problems
    assert problem.startswith(f"{config}:2: {message}"), problem
