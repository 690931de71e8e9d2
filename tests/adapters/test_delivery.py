"""Draining the outbox through real apprise channels to a local webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.app.delivery import Deliverer
from monitor.core.model import Channel, DeliverySettings
from monitor.notify.channels import ChannelSet
from monitor.store.repository import Store
from tests.support.outbox import Clock, ZeroJitter, seed
from tests.support.sinks import WebhookSink


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    seed(s, ["hook", "gone"])
    yield s
    s.close()


def _deliverer(store: Store, sink: WebhookSink, clock: Clock, attempts: int = 3) -> Deliverer:
    channels = ChannelSet(
        [Channel(name="hook", url=f"json://{sink.base_url[7:]}/alerts")], send_timeout=10
    )
    settings = DeliverySettings(
        max_attempts=attempts, retry_base=timedelta(seconds=30), retry_max=timedelta(hours=1)
    )
    return Deliverer(store, channels, settings, owner="me", clock=clock, rng=ZeroJitter())


def _status(store: Store) -> dict[str, tuple[str, int]]:
    return {a.channel: (a.status, a.attempts) for a in store.list_alerts()}


async def test_a_failed_send_is_retried_on_a_later_pass_only(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Even with no backoff at all, one pass sends each due row at most once."""
    webhook_sink.status = 500
    clock = Clock()
    report = await _deliverer(store, webhook_sink, clock).deliver_due()
    assert (report.sent, report.retried) == (0, 1)
    assert len(webhook_sink.posts) == 1
    assert _status(store)["hook"] == ("pending", 1)


async def test_retries_until_success(store: Store, webhook_sink: WebhookSink) -> None:
    """A channel that recovers gets the alert on a later pass, once."""
    webhook_sink.status = 500
    clock = Clock()
    deliverer = _deliverer(store, webhook_sink, clock)
    await deliverer.deliver_due()
    webhook_sink.status = 200
    clock.now += timedelta(seconds=1)
    report = await deliverer.deliver_due()
    assert report.sent == 1
    assert len(webhook_sink.posts) == 2
    assert webhook_sink.posts[-1].json()["title"] == "[w] Seoul and Beijing sign trade deal"
    assert _status(store)["hook"] == ("sent", 2)


async def test_dead_letter_after_max_attempts(store: Store, webhook_sink: WebhookSink) -> None:
    """After max_attempts failures the alert is dead, keeps its error and is not sent again."""
    webhook_sink.status = 503
    clock = Clock()
    deliverer = _deliverer(store, webhook_sink, clock, attempts=3)
    for _ in range(5):
        await deliverer.deliver_due()
        clock.now += timedelta(hours=2)
    assert len(webhook_sink.posts) == 3
    [hook] = [a for a in store.list_alerts() if a.channel == "hook"]
    assert (hook.status, hook.attempts) == ("dead", 3)
    assert "503" in (hook.last_error or "")


async def test_alert_for_a_channel_no_longer_configured_is_dead_at_once(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """An outbox row whose channel was removed from the config is kept as dead, with why."""
    await _deliverer(store, webhook_sink, Clock()).deliver_due()
    [gone] = [a for a in store.list_alerts() if a.channel == "gone"]
    assert gone.status == "dead"
    assert "no longer configured" in (gone.last_error or "")
