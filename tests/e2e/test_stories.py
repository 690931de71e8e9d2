"""One story in many outlets, through the real feed server, store and channels: one alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.config import load_settings
from monitor.daemon import Monitor
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
