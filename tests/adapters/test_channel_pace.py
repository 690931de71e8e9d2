"""A channel's pace: a short burst of alerts goes out at once, then the service's rate holds."""

from __future__ import annotations

import time

import pytest
from apprise.plugins.custom_json import NotifyJSON

from monitor.core.model import Channel
from monitor.core.render import Message
from monitor.core.templating import TEXT
from monitor.notify.channels import BURST, ChannelSet
from tests.support.sinks import WebhookSink

GAP = 0.5


async def test_a_burst_goes_out_at_once_then_one_per_gap(
    webhook_sink: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alerts a moment apart do not wait for the service's gap (apprise alone spaced every
    send by it); beyond the burst, sends keep to one per gap."""
    monkeypatch.setattr(NotifyJSON, "request_rate_per_sec", GAP)
    url = f"json://{webhook_sink.base_url[7:]}/alerts"
    channels = ChannelSet([Channel(name="hook", url=url)], send_timeout=10)
    start = time.monotonic()
    for i in range(BURST + 2):
        outcome = await channels.send("hook", Message(title=f"t{i}", body="b", body_format=TEXT))
        assert outcome.ok, outcome.error
    arrived = [t - start for t in webhook_sink.times]
    assert len(arrived) == BURST + 2
    assert arrived[BURST - 1] < GAP * 0.9, arrived
    assert arrived[BURST] >= GAP * 0.9, arrived
    assert arrived[BURST + 1] >= 2 * GAP * 0.95, arrived
    assert [p.body for p in webhook_sink.posts] == sorted(p.body for p in webhook_sink.posts)
