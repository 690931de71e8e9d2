"""One story in many outlets, through the real feed server, store and channels: one alert."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from monitor.store.repository import Store
from tests.support.feed_server import FeedServer, rss
from tests.support.scenario import NOW, SLACK_URL, write_config
from tests.support.sinks import SmtpSink, WebhookSink

OUTLETS = 30
LEAD = (
    "SEOUL, Dec 1 - South Korea and China signed a trade deal on Monday that cuts tariffs on "
    "semiconductors and batteries, officials in Seoul and Beijing said, after two years of talks "
    "between the neighbours over market access and export controls."
)
TITLES = [
    "South Korea, China sign trade deal",
    "Seoul and Beijing seal tariff pact",
    "Korea-China trade deal cuts chip tariffs",
]


def _copy(i: int) -> dict[str, object]:
    return {
        "guid": f"outlet{i}-story",
        "title": TITLES[i % len(TITLES)],
        "description": LEAD,
        "link": f"https://outlet{i}.test/world/korea-china-deal?utm_source=rss&utm_medium=feed",
        "published": NOW - timedelta(minutes=OUTLETS - i),
    }


async def _run_once(config: Path) -> None:
    settings = load_settings(config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        await monitor.run_once()


async def test_thirty_outlets_carrying_one_story_give_one_alert_per_channel(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, slack_to: WebhookSink
) -> None:
    """Thirty copies with new titles and tracked links: one Slack post, one email, and the
    alert lists the other outlets as also reporting it."""
    feeds = {f"outlet{i}": feed_server.url(f"/o{i}.xml") for i in range(OUTLETS)}
    for i in range(OUTLETS):
        feed_server.set(f"/o{i}.xml", rss([], title=f"Outlet {i}"))
    db = f"sqlite:///{tmp_path / 'news.db'}"
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds=feeds,
        channels={"team-slack": SLACK_URL, "analysts": smtp_sink.url()},
        database=db,
    )
    await _run_once(config)  # every feed's baseline, empty
    for i in range(OUTLETS):
        feed_server.set(f"/o{i}.xml", rss([_copy(i)], title=f"Outlet {i}"))
    await _run_once(config)
    assert len(slack_to.posts) == 1
    assert len(smtp_sink.mails) == 1
    store = Store.open(db)
    try:
        alerts = store.list_alerts()
    finally:
        store.close()
    assert sorted(a.channel for a in alerts) == ["analysts", "team-slack"]
    also = alerts[0].alert.also_reported_by
    assert len(also) == OUTLETS - 1 and alerts[0].alert.source not in also


def _matching(
    n: int, *, scheme: str = "http", guid: str = "g", age: timedelta
) -> dict[str, object]:
    return {
        "guid": f"{guid}-{n}",
        "title": f"Seoul and Beijing trade talks, round {n}",
        # Distinct words per round, so that rounds are not near-copies of one another.
        "description": "South Korea and China trade talks: "
        + " ".join(f"point{n}x{k}" for k in range(10)),
        "link": f"{scheme}://news.test/talks/{n}",
        "published": NOW - age,
    }


def _world(tmp_path: Path, feed_server: FeedServer, items: list[dict[str, object]]) -> Path:
    feed_server.set("/wire.xml", rss(items, title="Wire"))
    return write_config(
        tmp_path / "monitor.yaml",
        feeds={"wire": feed_server.url("/wire.xml")},
        channels={"team-slack": SLACK_URL},
        database=f"sqlite:///{tmp_path / 'news.db'}",
    )


async def test_every_guid_rewritten_and_links_on_https_alert_nothing(
    tmp_path: Path, feed_server: FeedServer, slack_to: WebhookSink
) -> None:
    """A feed that rewrites every guid and moves every link to https sends no alert."""
    items = [_matching(n, age=timedelta(hours=n)) for n in range(12)]
    config = _world(tmp_path, feed_server, items)
    await _run_once(config)
    churned = [_matching(n, scheme="https", guid="new", age=timedelta(hours=n)) for n in range(12)]
    feed_server.set("/wire.xml", rss(churned, title="Wire"))
    await _run_once(config)
    assert slack_to.posts == []


async def test_an_archive_re_announced_gives_one_warning_and_no_alerts(
    tmp_path: Path,
    feed_server: FeedServer,
    slack_to: WebhookSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Twenty unseen entries from last month appear at once: one WARNING, no alert, recorded
    on the source; a genuinely new entry beside them still alerts."""
    config = _world(tmp_path, feed_server, [_matching(0, age=timedelta(hours=1))])
    await _run_once(config)
    archive = [_matching(n, age=timedelta(days=30 + n)) for n in range(1, 21)]
    fresh = _matching(99, age=timedelta(minutes=-1))
    feed_server.set("/wire.xml", rss([fresh, _matching(0, age=timedelta(hours=1)), *archive]))
    with caplog.at_level(logging.WARNING):
        await _run_once(config)
    warnings = [r for r in caplog.records if "archive" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert len(slack_to.posts) == 1 and "round 99" in str(slack_to.posts[0].json())
    store = Store.open(f"sqlite:///{tmp_path / 'news.db'}")
    try:
        [source] = store.list_sources()
    finally:
        store.close()
    assert source.last_backfill_entries == 20 and source.last_backfill_at is not None
