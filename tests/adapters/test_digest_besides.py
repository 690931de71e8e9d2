"""A digest besides instant alerts: each alert goes out at once and again in the next digest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app import failpoints
from monitor.app.delivery import Deliverer
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Channel, Watch
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, paced, seed
from tests.support.sinks import WebhookSink
from tests.support.store import pending_count

pytestmark = pytest.mark.usefixtures("no_pacing")
DAILY = "0 8 * * *"  # 08:00 Berlin, 07:00 UTC in November
NEXT_MORNING = T0.replace(hour=7) + timedelta(days=1)
WATCH = Watch(name="w", query="trade", notify=("hook",))


def _titles(sink: WebhookSink) -> list[str]:
    return [post.json()["title"] for post in sink.posts]


def _hook(sink: WebhookSink, **pacing: object) -> Channel:
    return Channel(name="hook", url=sink.json_url(), **pacing)  # type: ignore[arg-type]


def _daemon(store: Store, channel: Channel, watch: Watch = WATCH) -> tuple[Deliverer, Clock]:
    clock = Clock()
    return paced(store, clock, watch, channel), clock


async def test_besides_sends_each_alert_at_once_and_again_in_the_next_digest(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Two alerts go out on their own at once, then both appear in the 08:00 digest."""
    seed(store, ["hook"], count=2)
    deliverer, clock = _daemon(store, _hook(webhook_sink, digest=DAILY, digest_mode="besides"))
    await deliverer.deliver_due()
    assert sorted(_titles(webhook_sink)) == [
        "[w] Seoul and Beijing sign trade deal (0)",
        "[w] Seoul and Beijing sign trade deal (1)",
    ]
    clock.now = NEXT_MORNING - timedelta(minutes=1)
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 2
    clock.now = NEXT_MORNING
    await deliverer.deliver_due()
    assert _titles(webhook_sink)[2:] == ["newsmonitor digest: 2 alerts"]
    digest = webhook_sink.posts[2].json()["message"]
    assert "(0)" in digest and "(1)" in digest and "w (2)" in digest
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 3
    assert {a.status for a in store.list_alerts()} == {"sent"}


async def test_a_plain_digest_sends_the_alert_only_in_the_digest(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Without digest_mode besides, nothing goes out before 08:00, then one digest."""
    seed(store, ["hook"])
    deliverer, clock = _daemon(store, _hook(webhook_sink, digest=DAILY))
    await deliverer.deliver_due()
    assert webhook_sink.posts == []
    clock.now = NEXT_MORNING
    await deliverer.deliver_due()
    assert _titles(webhook_sink) == ["newsmonitor digest: 1 alert"]
    assert len(store.list_alerts()) == 1


async def test_a_watch_digest_besides_applies_to_that_watch_only(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """The watch with its own digest besides gets both; another watch is sent once, at once."""
    seed(store, ["hook"], watches=("w", "other"))
    watch = Watch(name="w", query="trade", notify=("hook",), digest=DAILY, digest_mode="besides")
    deliverer, clock = _daemon(store, _hook(webhook_sink), watch)
    await deliverer.deliver_due()
    assert sorted(_titles(webhook_sink)) == [
        "[other] Seoul and Beijing sign trade deal",
        "[w] Seoul and Beijing sign trade deal",
    ]
    clock.now = NEXT_MORNING
    await deliverer.deliver_due()
    assert _titles(webhook_sink)[2:] == ["newsmonitor digest: 1 alert"]
    assert "other" not in webhook_sink.posts[2].json()["message"]


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after the failpoint runs."""


async def test_a_crash_and_restart_lose_nothing_and_double_no_digest(
    store: Store, webhook_sink: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the first instant send, before it is marked: the restarted daemon repeats
    that one alert at most once, and the digest lists each alert exactly once."""
    seed(store, ["hook"], count=3)
    hook = _hook(webhook_sink, digest=DAILY, digest_mode="besides")

    def kill(name: str) -> None:
        if name == "after-send":
            raise _Killed

    monkeypatch.setattr(failpoints, "hit", kill)
    first, clock = _daemon(store, hook)
    with pytest.raises(_Killed):
        await first.deliver_due()
    monkeypatch.undo()
    store.release_leases()  # what a daemon starting on the SQLite file does
    restarted = paced(store, clock, WATCH, hook)
    await restarted.deliver_due()
    instants = [t for t in _titles(webhook_sink) if t.startswith("[w]")]
    assert sorted(set(instants)) == [
        f"[w] Seoul and Beijing sign trade deal ({n})" for n in range(3)
    ]
    assert len(instants) <= 4
    clock.now = NEXT_MORNING
    again = paced(store, clock, WATCH, hook)  # and once more, a daemon started at 08:00
    await again.deliver_due()
    await again.deliver_due()
    digests = [p.json()["message"] for p in webhook_sink.posts if "digest" in p.json()["title"]]
    assert len(digests) == 1
    assert [digests[0].count(f"({n})") for n in range(3)] == [1, 1, 1]
    assert {a.status for a in store.list_alerts()} == {"sent"}


async def test_digest_copies_are_dropped_when_the_digest_is_removed(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Copies waiting for a digest that the config no longer has never go out as alerts."""
    seed(store, ["hook"])
    deliverer, clock = _daemon(store, _hook(webhook_sink, digest=DAILY, digest_mode="besides"))
    await deliverer.deliver_due()
    assert len(webhook_sink.posts) == 1
    clock.now = NEXT_MORNING
    await paced(store, clock, WATCH, _hook(webhook_sink)).deliver_due()
    assert len(webhook_sink.posts) == 1
    assert pending_count(store) == 0


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("channels:\n  c:\n    url: 'console://'\n    digest_mode: besides\n", "3: channels.c"),
        (
            "channels: {c: {url: 'console://'}}\nwatches:\n"
            "  - {name: w, query: x, notify: [c], digest_mode: besides}\n",
            "4: watches.0",
        ),
    ],
)
def test_digest_mode_besides_without_a_digest_is_a_config_error(
    tmp_path: Path, section: str, line: str
) -> None:
    """digest_mode besides on a channel or watch with no schedule is reported at its line."""
    config = tmp_path / "monitor.yaml"
    config.write_text("database: sqlite:///x.db\n" + section)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    [problem] = caught.value.problems
    assert problem.startswith(f"{config}:{line}: digest_mode besides needs a digest"), problem


def test_an_unknown_digest_mode_is_a_config_error(tmp_path: Path) -> None:
    """digest_mode takes instead or besides; anything else is an error at its line."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "database: sqlite:///x.db\nchannels:\n  c:\n    url: 'console://'\n"
        "    digest: '0 8 * * *'\n    digest_mode: also\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    [problem] = caught.value.problems
    assert problem.startswith(f"{config}:6: channels.c.digest_mode: "), problem
    assert "besides" in problem
