"""Operator notices: a failing channel is reported once to the fallback, and its recovery once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app.delivery import Deliverer
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Channel, DeliverySettings, Notice, OperatorSettings
from monitor.notify.channels import ChannelSet
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, ZeroJitter, seed
from tests.support.sinks import WebhookSink
from tests.support.store import recent_notices

pytestmark = pytest.mark.usefixtures("no_pacing")


@pytest.fixture
def ops() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink


def _deliverer(store: Store, urls: dict[str, str], clock: Clock, notify: list[str]) -> Deliverer:
    return Deliverer(
        store,
        ChannelSet([Channel(name=n, url=u) for n, u in urls.items()]),
        DeliverySettings(max_attempts=20),
        owner="me",
        clock=clock,
        rng=ZeroJitter(),
        operator=OperatorSettings(channels=tuple(notify), channel_failures=3),
    )


def _titles(sink: WebhookSink) -> list[str]:
    return [post.json()["title"] for post in sink.posts]


async def test_one_failing_notice_then_one_recovery_notice(
    store: Store, webhook_sink: WebhookSink, ops: WebhookSink
) -> None:
    """Three failures in a row tell the operator once; later failures don't; success does."""
    seed(store, ["hook"], count=2)
    webhook_sink.status = 503
    clock = Clock()
    deliverer = _deliverer(
        store, {"hook": webhook_sink.json_url(), "ops": ops.json_url()}, clock, ["ops"]
    )
    for _ in range(4):  # 8 failed sends
        await deliverer.deliver_due()
        clock.now += timedelta(hours=2)
    assert _titles(ops) == ["newsmonitor: channel hook is failing"]
    assert "HTTP 503" in ops.posts[0].json()["message"]
    webhook_sink.status = 200
    await deliverer.deliver_due()
    clock.now += timedelta(hours=2)
    await deliverer.deliver_due()
    assert _titles(ops) == [
        "newsmonitor: channel hook is failing",
        "newsmonitor: channel hook works again",
    ]
    assert [n.status for n in recent_notices(store)] == ["sent", "sent"]


async def test_an_outage_past_the_last_attempt_dead_letters_and_tells_the_fallback_once(
    store: Store, webhook_sink: WebhookSink, ops: WebhookSink
) -> None:
    """A channel down for longer than its retries last: the alert ends dead after
    max_attempts sends, with its error, and the fallback channel hears of it once."""
    seed(store, ["hook"])
    webhook_sink.status = 503
    clock = Clock()
    deliverer = Deliverer(
        store,
        ChannelSet(
            [
                Channel(name="hook", url=webhook_sink.json_url()),
                Channel(name="ops", url=ops.json_url()),
            ]
        ),
        DeliverySettings(max_attempts=3),
        owner="me",
        clock=clock,
        rng=ZeroJitter(),
        operator=OperatorSettings(channels=("ops",), channel_failures=3),
    )
    for _ in range(6):
        await deliverer.deliver_due()
        clock.now += timedelta(hours=2)
    [alert] = [a for a in store.list_alerts() if a.channel == "hook"]
    assert (alert.status, alert.attempts, len(webhook_sink.posts)) == ("dead", 3, 3)
    assert "HTTP 503" in (alert.last_error or "")
    assert _titles(ops) == ["newsmonitor: channel hook is failing"]


def test_failures_that_do_not_follow_each_other_tell_nobody(store: Store) -> None:
    """A success between failures resets the count: fail, fail, ok, fail, fail is no notice."""
    kinds = [
        store.notices.channel_result(
            "hook",
            ok=ok,
            error=None if ok else "HTTP 500",
            threshold=3,
            notify=["ops"],
            failing=Notice(kind="failing", about="hook", title="f", body="f"),
            recovered=Notice(kind="recovered", about="hook", title="r", body="r"),
            now=T0,
        )
        for ok in (False, False, True, False, False)
    ]
    assert kinds == [None] * 5
    assert recent_notices(store) == []


async def test_a_failing_operator_channel_is_reported_to_the_other_ones(
    store: Store, webhook_sink: WebhookSink, ops: WebhookSink
) -> None:
    """The failing channel, listed as an operator channel, is not told about itself."""
    seed(store, ["hook"], count=3)
    webhook_sink.status = 500
    deliverer = _deliverer(
        store, {"hook": webhook_sink.json_url(), "ops": ops.json_url()}, Clock(), ["hook", "ops"]
    )
    await deliverer.deliver_due()
    await deliverer.deliver_due()
    assert _titles(ops) == ["newsmonitor: channel hook is failing"]
    assert [n.channel for n in recent_notices(store)] == ["ops"]
    assert len(webhook_sink.posts) == 3  # alerts only, no notice to itself


async def test_any_part_of_the_service_can_enqueue_a_notice(store: Store, ops: WebhookSink) -> None:
    """A notice queued through the store goes out on the next pass, to every operator channel."""
    notice = Notice(
        kind="source-failing",
        about="wire",
        title="newsmonitor: source wire is failing",
        body="HTTP 503 for 6 hours",
    )
    added = store.notices.enqueue(notice, channels=["ops"], now=T0)
    assert added == 1
    await _deliverer(store, {"ops": ops.json_url()}, Clock(), ["ops"]).deliver_due()
    assert _titles(ops) == ["newsmonitor: source wire is failing"]
    assert ops.posts[0].json()["message"] == "HTTP 503 for 6 hours"


def test_operator_channels_must_be_defined(tmp_path: Path) -> None:
    """operator.channels naming an unknown channel is a config error with file and line."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "database: sqlite:///x.db\n"
        "channels: {console: {url: 'console://'}}\n"
        "operator:\n"
        "  channels: [pager]\n"
        "  channel_failures: 3\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.problems == [
        f"{config}:4: operator.channels.0: unknown channel 'pager' (defined: console)"
    ]
