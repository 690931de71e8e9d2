"""A watch's own `stories:` mode, through the real feed server, store and channels."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from monitor.store.repository import Store
from tests.support.feed_server import FeedServer, rss
from tests.support.scenario import NOW, SLACK_URL, write_config
from tests.support.sinks import WebhookSink

LEAD = (
    "SEOUL, Dec 1 - South Korea and China signed a trade deal on Monday that cuts tariffs on "
    "semiconductors and batteries, officials in Seoul and Beijing said, after two years of talks "
    "between the neighbours over market access and export controls."
)
OWN_WORDS = (
    "South Korea and China agreed on Monday to lower tariffs on chips and electric-vehicle "
    "batteries, in a trade deal that Seoul and Beijing negotiated for two years, the trade "
    "ministries said."
)
# Two copies of one wire text, then an outlet's own report of the same deal.
ITEMS = [
    ("South Korea, China sign trade deal", LEAD),
    ("Seoul and Beijing seal tariff pact", LEAD),
    ("South Korea and China cut tariffs in trade deal", OWN_WORDS),
]


async def _run_once(config: Path) -> None:
    settings = load_settings(config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        await monitor.run_once()


@pytest.mark.parametrize(
    ("main", "watch", "alerts"),
    [
        ("events", None, 1),  # one story
        ("events", "copies", 2),  # the copies, and the own report
        ("events", "off", 3),  # every article
        ("copies", None, 2),
        ("copies", "events", 1),  # the index groups events for this watch alone
        ("off", "copies", 2),
    ],
)
async def test_a_watch_groups_articles_in_its_own_mode(
    tmp_path: Path,
    feed_server: FeedServer,
    slack_to: WebhookSink,
    main: str,
    watch: str | None,
    alerts: int,
) -> None:
    """Three outlets report one deal, two with one wire text: the watch alerts once per story
    as its own `stories:` mode (else the daemon's) groups them."""
    feeds = {f"outlet{i}": feed_server.url(f"/o{i}.xml") for i in range(len(ITEMS))}
    for i in range(len(ITEMS)):
        feed_server.set(f"/o{i}.xml", rss([], title=f"Outlet {i}"))
    db = f"sqlite:///{tmp_path / 'news.db'}"
    extra = f"    stories: {watch}\n" if watch else ""
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds=feeds,
        channels={"team-slack": SLACK_URL},
        database=db,
        extra=extra + f"stories: {{mode: {main}}}\n",
    )
    await _run_once(config)  # every feed's baseline, empty
    for i, (title, lead) in enumerate(ITEMS):
        item = {
            "guid": f"outlet{i}-deal",
            "title": title,
            "description": lead,
            "link": f"https://outlet{i}.test/world/deal",
            "published": NOW - timedelta(minutes=len(ITEMS) - i),
        }
        feed_server.set(f"/o{i}.xml", rss([item], title=f"Outlet {i}"))
    await _run_once(config)
    assert len(slack_to.posts) == alerts
    store = Store.open(db)
    try:
        assert len(store.list_alerts()) == alerts
    finally:
        store.close()
