"""One daemon, one healthy feed and every hostile server of reliability.md F1-F12 at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from tests.support import hostile, loopback
from tests.support.feed_server import FeedServer, drip, redirect, rss
from tests.support.scenario import MATCHING, SLACK_URL, World, write_config
from tests.support.sinks import SmtpSink, WebhookSink

pytestmark = pytest.mark.slow
FETCH = (
    "interval: 1s, timeout: 3s, max_bytes: 1MB, parse_timeout: 1s, allow_addresses: [127.0.0.1/32]"
)
# source name -> the error kind its poll must end with (None: parsed, harmlessly)
EXPECTED = {
    "wire": None,
    "drip": "timeout",
    "endless": "too_large",
    "gzip-bomb": "too_large",
    "brotli-bomb": "too_large",
    "short-length": "parse",
    "redirect-loop": "redirects",
    "to-internal": "blocked",
    "to-metadata": "blocked",
    "to-file": "scheme",
    "billion-laughs": None,
    "xxe": None,
    "author-redos": "parse_timeout",
    "path-body": "not_a_feed",
}


@pytest.fixture
def internal() -> FeedServer:
    """The internal host at 127.0.0.2 that hostile redirects point at."""
    with FeedServer(host="127.0.0.2") as srv:
        srv.set("/secret", rss([{"guid": "secret", "title": "Internal only"}]))
        yield srv


def serve_hostile(feeds: FeedServer, internal: FeedServer, canary: Path) -> None:
    feeds.set_handler("/drip", drip(rss([{"guid": "d"}]), interval=0.2))
    feeds.set_handler("/endless", hostile.endless())
    feeds.set_handler("/gzip-bomb", hostile.encoded(hostile.gzip_bomb(), "gzip"))
    feeds.set_handler("/brotli-bomb", hostile.encoded(hostile.brotli_bomb(), "br"))
    feeds.set_handler("/short-length", hostile.lying_length(declared=100, body=b"<" * 3_000_000))
    feeds.set_handler("/redirect-loop", redirect("/redirect-loop-2"))
    feeds.set_handler("/redirect-loop-2", redirect("/redirect-loop"))
    feeds.set_handler("/to-internal", redirect(internal.url("/secret")))
    feeds.set_handler("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
    feeds.set_handler("/to-file", redirect("file:///etc/passwd"))
    feeds.set("/billion-laughs", hostile.billion_laughs())
    feeds.set("/xxe", hostile.xxe(str(canary)))
    feeds.set("/author-redos", hostile.author_redos())
    feeds.set("/path-body", b"/etc/passwd")


async def test_hostile_servers_fail_alone_and_the_healthy_feed_still_alerts(
    tmp_path: Path,
    feed_server: FeedServer,
    internal: FeedServer,
    smtp_sink: SmtpSink,
    slack_to: WebhookSink,
) -> None:
    """Each hostile source fails with its own kind, nothing reaches 127.0.0.2 or 169.254.169.254,
    and the healthy source's new item is alerted in the same passes."""
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-91c2")
    world = World(tmp_path, feed_server, smtp_sink, slack_to)
    serve_hostile(feed_server, internal, canary)
    feeds = {name: feed_server.url(f"/{name}") for name in EXPECTED if name != "wire"}
    config = write_config(
        tmp_path / "hostile.yaml",
        feeds={"wire": feed_server.url("/wire.xml"), **feeds},
        channels={"team-slack": SLACK_URL, "analysts": smtp_sink.url()},
        database=f"sqlite:///{tmp_path / 'hostile.db'}",
        fetch=FETCH,
    )
    settings = load_settings(config, check_channel_url=check_channel_url)
    loopback.connections.clear()
    async with Monitor(settings) as monitor:
        await monitor.run_once()  # baseline
        world.publish(MATCHING)
        outcomes, report = await monitor.run_once()
        statuses = {s.name: s for s in monitor.store.list_sources()}

    by_name = {o.source: o for o in outcomes}
    assert by_name["wire"].ok and by_name["wire"].alerts == 2
    assert report.sent == 2
    assert len(slack_to.posts) == 1 and len(smtp_sink.mails) == 1
    kinds = {name: statuses[name].last_error_kind for name in EXPECTED}
    assert kinds == EXPECTED
    assert all(statuses[n].consecutive_failures == 2 for n, k in EXPECTED.items() if k)
    assert internal.requests == []
    reached = {host for host, _ in loopback.connections}
    assert reached <= {"127.0.0.1"}
    assert "CANARY" not in (tmp_path / "hostile.db").read_bytes().decode("latin-1")
