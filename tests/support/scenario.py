"""A small world for end-to-end tests: a feed server, alert sinks and a config file for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.feed_server import FeedServer, rss
from tests.support.sinks import SmtpSink, WebhookSink

SLACK_URL = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
NOW = datetime.now(UTC).replace(microsecond=0)

BACKLOG = [
    {
        "guid": "old-1",
        "title": "South Korea and China sign trade pact",
        "description": "An older story already in the feed.",
        "link": "http://news.test/old-1",
        "published": NOW - timedelta(hours=3),
    },
    {
        "guid": "old-2",
        "title": "Weather: snow in Seoul",
        "description": "Cold week ahead.",
        "link": "http://news.test/old-2",
        "published": NOW - timedelta(hours=2),
    },
]
MATCHING = {
    "guid": "new-1",
    "title": "Seoul and Beijing agree to cut tariffs on chips",
    "description": "South Korea and China will phase out tariffs by 2028.",
    "link": "http://news.test/new-1",
    "published": NOW - timedelta(minutes=5),
}
NOT_MATCHING = {
    "guid": "new-2",
    "title": "Japan's central bank holds rates",
    "description": "No change in Tokyo.",
    "link": "http://news.test/new-2",
    "published": NOW - timedelta(minutes=4),
}


def write_config(
    path: Path,
    *,
    feeds: dict[str, str],
    channels: dict[str, str],
    database: str,
    notify: list[str] | None = None,
    extra: str = "",
    fetch: str = "interval: 1s, timeout: 5s, allow_addresses: [127.0.0.1/32]",
) -> Path:
    """A config with the given sources and channels and one Korea-China trade watch."""
    lines = [
        f"database: {json.dumps(database)}",
        f"fetch: {{{fetch}}}",
        "delivery: {max_attempts: 3, retry_base: 1s, retry_max: 2s, timeout: 10s}",
        "sources:",
        *(f"  - {{name: {name}, url: {json.dumps(url)}}}" for name, url in feeds.items()),
        "terms:",
        '  south_korea: ["South Korea", Seoul, 한국]',
        "  china: [China, Beijing, 중국]",
        "channels:",
        *(f"  {name}: {{url: {json.dumps(url)}}}" for name, url in channels.items()),
        "watches:",
        "  - name: korea-china-trade",
        "    query: '@south_korea AND @china AND (trade OR tariff* OR deal*)'",
        f"    notify: {json.dumps(notify or list(channels))}",
    ]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


class World:
    """A feed server with one source, an SMTP sink and a Slack receiver, and a config for them."""

    def __init__(
        self,
        tmp: Path,
        feeds: FeedServer,
        smtp: SmtpSink,
        slack: WebhookSink,
        *,
        database: str | None = None,
    ) -> None:
        self.tmp = tmp
        self.feeds = feeds
        self.smtp = smtp
        self.slack = slack
        self.db_file = tmp / "data" / "newsmonitor.db"
        self.items: list[dict[str, Any]] = list(BACKLOG)
        self.etag = True
        self.publish()
        self.config = write_config(
            tmp / "monitor.yaml",
            feeds={"wire": feeds.url("/wire.xml")},
            channels={"team-slack": SLACK_URL, "analysts": smtp.url()},
            database=database or f"sqlite:///{self.db_file}",
        )

    def publish(self, *items: dict[str, Any]) -> None:
        """Put new items at the top of the feed, as a publisher would."""
        self.items = [*items, *self.items]
        self.feeds.set("/wire.xml", rss(self.items, title="Wire"), etag=self.etag)

    def slack_payloads(self) -> list[dict[str, Any]]:
        """Every JSON payload the Slack receiver got."""
        return [post.json() for post in self.slack.posts]
