"""Outbox leases are short and renewed while a sender works, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.app.delivery import LEASE, Deliverer
from monitor.core.model import Channel, DeliverySettings
from monitor.notify.channels import ChannelSet
from monitor.store.repository import Store
from monitor.store.schema import outbox
from tests.support.outbox import T0, Clock, seed
from tests.support.process import wait_for
from tests.support.sinks import WebhookSink


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed(s, ["hook"])
    yield s
    s.close()


def _lease_until(store: Store) -> datetime | None:
    with store.engine.connect() as conn:
        return conn.execute(select(outbox.c.lease_until)).scalar_one()


def _deliverer(store: Store, sink: WebhookSink, clock: Clock, owner: str = "me") -> Deliverer:
    channels = ChannelSet([Channel(name="hook", url=f"json://{sink.base_url[7:]}/a")])
    return Deliverer(store, channels, DeliverySettings(), owner=owner, clock=clock)


async def test_rows_of_a_killed_sender_are_sent_by_another_within_the_lease(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """A row claimed by a sender that died is free again once LEASE (20 s) has passed."""
    [held] = store.claim_deliveries("dead-daemon", T0, lease=LEASE, limit=10)
    clock = Clock()
    report = await _deliverer(store, webhook_sink, clock).deliver_due()
    assert report.sent == 0
    clock.now = T0 + LEASE + timedelta(seconds=1)
    report = await _deliverer(store, webhook_sink, clock).deliver_due()
    assert report.sent == 1
    assert len(webhook_sink.posts) == 1
    assert [a.status for a in store.list_alerts()] == ["sent"]
    assert held.id == store.list_alerts()[0].id


async def test_a_live_sender_renews_its_lease_during_a_long_send(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """While a send outlasts the lease, the heartbeat keeps other senders off the row."""
    webhook_sink.delay = 1.0
    clock = Clock()
    deliverer = _deliverer(store, webhook_sink, clock)
    deliverer.heartbeat = timedelta(seconds=0.05)
    task = asyncio.create_task(deliverer.deliver_due())
    await asyncio.to_thread(wait_for, lambda: bool(webhook_sink.posts), what="the send")
    for _ in range(3):
        clock.now += LEASE / 2
        renewed = clock.now + LEASE
        await asyncio.to_thread(
            wait_for, lambda r=renewed: _lease_until(store) == r, what="a renewal"
        )
    # The original lease ran out long ago; the renewed one has not.
    other = await asyncio.to_thread(store.claim_deliveries, "x", clock.now, lease=LEASE, limit=5)
    assert other == []
    assert (await task).sent == 1
    assert len(webhook_sink.posts) == 1
