"""Empty digests: sent on schedule only when asked for, once, against a real receiver."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.app.delivery import Deliverer
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Channel, Watch
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, paced, seed
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
DAILY = "0 8 * * *"  # 08:00 Berlin, 07:00 UTC in November
NEXT_MORNING = T0.replace(hour=7) + timedelta(days=1)


def _daily(
    store: Store, sink: WebhookSink, *, on_watch: bool = False, empty: bool = True
) -> Callable[[Clock], Deliverer]:
    """Deliverers (one per daemon run) whose channel, or watch, has a daily digest."""
    digest: dict[str, Any] = {"digest": DAILY, "digest_empty": empty}
    hook = Channel(name="hook", url=sink.json_url(), **({} if on_watch else digest))
    watch = Watch(name="w", query="trade", notify=("hook",), **(digest if on_watch else {}))
    return lambda clock: paced(store, clock, watch, hook)


def _sent(sink: WebhookSink) -> list[tuple[str, str]]:
    return [(post.json()["title"], post.json()["message"]) for post in sink.posts]


async def _until_next_morning(deliverer: Deliverer, clock: Clock) -> None:
    await deliverer.deliver_due()
    clock.now = NEXT_MORNING
    await deliverer.deliver_due()


async def test_an_empty_channel_digest_is_sent_once_on_schedule_when_asked_for(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """With digest_empty, a digest with no alerts says so at 08:00, once, even after a restart."""
    daemon, clock = _daily(store, webhook_sink), Clock()
    await daemon(clock).deliver_due()
    assert webhook_sink.posts == []
    clock.now = NEXT_MORNING - timedelta(minutes=1)
    deliverer = daemon(clock)
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now = NEXT_MORNING
    await deliverer.deliver_due()
    await deliverer.deliver_due()
    await daemon(clock).deliver_due()  # a restarted daemon
    assert _sent(webhook_sink) == [
        ("newsmonitor digest: no new alerts", "No new alerts since 2026-11-28 08:00 CET.")
    ]


async def test_an_empty_digest_is_not_sent_unless_asked_for(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Without digest_empty, a digest with nothing in it sends nothing."""
    clock = Clock()
    await _until_next_morning(_daily(store, webhook_sink, empty=False)(clock), clock)
    assert webhook_sink.posts == []


async def test_a_digest_with_alerts_is_sent_instead_of_the_empty_notice(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """With digest_empty and alerts waiting, only the digest of those alerts goes out."""
    seed(store, ["hook"], count=2)
    clock = Clock()
    await _until_next_morning(_daily(store, webhook_sink)(clock), clock)
    assert [title for title, _ in _sent(webhook_sink)] == ["newsmonitor digest: 2 alerts"]


async def test_an_empty_watch_digest_names_the_watch_and_ignores_other_watches(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """A watch's empty digest goes to its channels, though other watches had alerts there."""
    seed(store, ["hook"], count=1, watches=("other",))
    clock = Clock()
    await _until_next_morning(_daily(store, webhook_sink, on_watch=True)(clock), clock)
    assert _sent(webhook_sink)[1:] == [
        (
            "newsmonitor digest: no new alerts",
            "No new alerts for watch w since 2026-11-28 08:00 CET.",
        )
    ]
    assert _sent(webhook_sink)[0][0] == "[other] Seoul and Beijing sign trade deal"


def test_digest_empty_without_a_digest_is_a_config_error(tmp_path: Path) -> None:
    """digest_empty on a channel with no schedule is reported at its line."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "database: sqlite:///x.db\nchannels:\n  c:\n    url: 'console://'\n    digest_empty: true\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    [problem] = caught.value.problems
    assert problem.startswith(f"{config}:3: channels.c: digest_empty needs a digest"), problem
