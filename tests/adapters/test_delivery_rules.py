"""Retry rules against real receivers: which answers retry, when, which dead-letter at once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.app.delivery import Deliverer
from monitor.core.model import Channel, DeliverySettings
from monitor.core.records import AlertRecord
from monitor.notify.channels import ChannelSet
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, ZeroJitter, seed
from tests.support.process import wait_for
from tests.support.sinks import DISCONNECT, HANG, RESET, Reply, SmtpSink, WebhookSink

BASE, CAP = timedelta(seconds=30), timedelta(minutes=10)


pytestmark = pytest.mark.usefixtures("no_pacing")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def _deliverer(
    store: Store,
    urls: dict[str, str],
    clock: Clock,
    *,
    attempts: int = 8,
    timeout: float = 10,
    rng: random.Random | None = None,
) -> Deliverer:
    channels = ChannelSet(
        [Channel(name=name, url=url) for name, url in urls.items()], send_timeout=timeout
    )
    settings = DeliverySettings(max_attempts=attempts, retry_base=BASE, retry_max=CAP)
    return Deliverer(store, channels, settings, owner="me", clock=clock, rng=rng or ZeroJitter())


def _row(store: Store, channel: str = "hook") -> AlertRecord:
    [row] = [a for a in store.list_alerts() if a.channel == channel]
    return row


async def test_5xx_retries_with_full_jitter_backoff_until_delivered_once(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Four 500s, then 200: one delivery, and each wait within [1 s, min(cap, base * 2^n)]."""
    seed(store, ["hook"])
    webhook_sink.replies = [Reply(500)] * 4
    clock = Clock()
    deliverer = _deliverer(store, {"hook": webhook_sink.json_url()}, clock, rng=random.Random(1))
    waits = []
    for _ in range(5):
        await deliverer.deliver_due()
        row = _row(store)
        if row.status == "sent":
            break
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    assert (row.status, row.attempts, len(webhook_sink.posts)) == ("sent", 5, 5)
    assert len(waits) == 4
    for n, wait in enumerate(waits, start=1):
        assert timedelta(seconds=1) <= wait <= min(CAP, BASE * 2**n)
    assert len(set(waits)) == 4  # jittered, not a fixed schedule


@pytest.mark.parametrize(
    ("status", "outcome", "posts"),
    [(s, ("pending", 1), 1) for s in (408, 425, 429, 500, 502, 503)]
    + [(s, ("dead", 1), 1) for s in (400, 401, 403, 404, 410, 413)],
)
async def test_http_answers_retry_only_when_a_retry_can_succeed(
    store: Store, webhook_sink: WebhookSink, status: int, outcome: tuple[str, int], posts: int
) -> None:
    """Timeouts, too-early, rate limits and 5xx stay pending; other 4xx are dead at once."""
    seed(store, ["hook"])
    webhook_sink.status = status
    clock = Clock()
    deliverer = _deliverer(store, {"hook": webhook_sink.json_url()}, clock)
    await deliverer.deliver_due()
    clock.now += timedelta(seconds=1)  # ZeroJitter: a retry would be due now
    if outcome[0] == "dead":
        await deliverer.deliver_due()
    row = _row(store)
    assert ((row.status, row.attempts), len(webhook_sink.posts)) == (outcome, posts)
    assert f"HTTP {status}" in (row.last_error or "")


@pytest.mark.parametrize("header", ["120", "Sat, 28 Nov 2026 12:02:00 GMT"])
async def test_retry_after_is_a_lower_bound_on_the_next_attempt(
    store: Store, webhook_sink: WebhookSink, header: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """429 with Retry-After (seconds or a date) is not retried sooner, whatever the jitter."""
    from monitor.notify import wire

    # An HTTP date is read against the wall clock; pin it to the test's clock.
    monkeypatch.setattr(wire, "datetime", _FrozenDatetime)
    seed(store, ["hook"])
    webhook_sink.replies = [Reply(429, {"Retry-After": header})]
    clock = Clock()
    deliverer = _deliverer(store, {"hook": webhook_sink.json_url()}, clock)
    await deliverer.deliver_due()
    row = _row(store)
    assert row.next_attempt_at - clock.now >= timedelta(seconds=120)
    clock.now += timedelta(seconds=119)
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 1
    clock.now = row.next_attempt_at
    await deliverer.deliver_due()
    assert (_row(store).status, len(webhook_sink.posts)) == ("sent", 2)


class _FrozenDatetime:
    @staticmethod
    def now(tz: object = None) -> object:
        return T0


async def test_connection_reset_is_retried_and_delivered(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """A reset after the request was read is an unknown outcome: retried, so at most one dup."""
    seed(store, ["hook"])
    webhook_sink.replies = [Reply(action=RESET)]
    clock = Clock()
    deliverer = _deliverer(store, {"hook": webhook_sink.json_url()}, clock)
    await deliverer.deliver_due()
    assert _row(store).status == "pending"
    clock.now += timedelta(minutes=5)
    await deliverer.deliver_due()
    assert (_row(store).status, len(webhook_sink.posts)) == ("sent", 2)


async def test_a_hung_channel_does_not_delay_another(store: Store) -> None:
    """While one channel hangs on its first alert, the other channel sends all of its own."""
    seed(store, ["stuck", "fine"], count=3)
    with WebhookSink() as stuck, WebhookSink() as fine:
        stuck.replies = [Reply(action=HANG)]
        urls = {"stuck": stuck.json_url(), "fine": fine.json_url()}
        deliverer = _deliverer(store, urls, Clock(), timeout=30)
        task = asyncio.create_task(deliverer.deliver_due())
        await asyncio.to_thread(wait_for, lambda: len(fine.posts) == 3, what="the healthy sends")
        assert len(stuck.posts) == 1
        assert not task.done()
        stuck.release()
        report = await task
    assert report.sent >= 3


async def test_a_timed_out_send_keeps_its_channel_busy_until_it_ends(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """After a send timeout the retry waits for the abandoned attempt: one in flight, ever."""
    seed(store, ["hook"])
    webhook_sink.replies = [Reply(action=HANG)]
    clock = Clock()
    deliverer = _deliverer(store, {"hook": webhook_sink.json_url()}, clock, timeout=0.3)
    first = await deliverer.deliver_due()
    assert first.retried == 1
    assert "no answer within 0.3s" in (_row(store).last_error or "")
    clock.now += timedelta(minutes=5)
    retry = asyncio.create_task(deliverer.deliver_due())
    await asyncio.sleep(0.5)  # the retry had time to start, were the channel free
    assert (len(webhook_sink.posts), webhook_sink.in_flight) == (1, 1)
    webhook_sink.release()
    await retry
    assert webhook_sink.max_in_flight == 1
    assert len(webhook_sink.posts) == 2


async def test_smtp_451_is_retried_then_delivered_once(store: Store, smtp_sink: SmtpSink) -> None:
    """A temporary SMTP refusal (451) is retried; the second attempt delivers one email."""
    seed(store, ["mail"])
    smtp_sink.replies = ["451 Try again later"]
    clock = Clock()
    deliverer = _deliverer(store, {"mail": smtp_sink.url()}, clock)
    await deliverer.deliver_due()
    assert _row(store, "mail").status == "pending"
    assert "SMTP 451" in (_row(store, "mail").last_error or "")
    clock.now += timedelta(minutes=5)
    await deliverer.deliver_due()
    assert (_row(store, "mail").status, smtp_sink.attempts, len(smtp_sink.mails)) == ("sent", 2, 1)


async def test_smtp_550_dead_letters_at_once(store: Store, smtp_sink: SmtpSink) -> None:
    """A permanent SMTP refusal (550) is dead after one attempt."""
    seed(store, ["mail"])
    smtp_sink.replies = ["550 No such mailbox"] * 3
    clock = Clock()
    deliverer = _deliverer(store, {"mail": smtp_sink.url()}, clock)
    for _ in range(2):
        await deliverer.deliver_due()
        clock.now += timedelta(hours=2)
    row = _row(store, "mail")
    assert (row.status, row.attempts, smtp_sink.attempts) == ("dead", 1, 1)
    assert "SMTP 550" in (row.last_error or "")


async def test_smtp_disconnect_during_data_is_retried(store: Store, smtp_sink: SmtpSink) -> None:
    """A connection dropped after the message was sent is retried, then delivered."""
    seed(store, ["mail"])
    smtp_sink.replies = [DISCONNECT]
    clock = Clock()
    deliverer = _deliverer(store, {"mail": smtp_sink.url()}, clock)
    await deliverer.deliver_due()
    assert _row(store, "mail").status == "pending"
    clock.now += timedelta(minutes=5)
    await deliverer.deliver_due()
    assert (_row(store, "mail").status, smtp_sink.attempts, len(smtp_sink.mails)) == ("sent", 2, 1)
