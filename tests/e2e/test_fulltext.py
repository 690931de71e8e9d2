"""Full article text on the real path: a local news site, its feed, the daemon in process."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from monitor.store.repository import Store
from monitor.store.schema import articles
from tests.support import process
from tests.support.feed_server import FeedServer, redirect, rss
from tests.support.pages import KOREAN_BODY, SEED_BODY, SEED_SUMMARY, SEED_TITLE, article_page
from tests.support.scenario import NOW, write_config
from tests.support.sinks import WebhookSink

WATCH = "korea-china-trade"
FETCH = "interval: 1s, timeout: 3s, allow_addresses: [127.0.0.1/32], full_text_wait: 20s"


class Site:
    """A news site on the feed server: one feed, article pages, a JSON webhook channel."""

    def __init__(self, tmp: Path, server: FeedServer, hook: WebhookSink, fetch: str = FETCH):
        self.server = server
        self.hook = hook
        self.db = tmp / "newsmonitor.db"
        self.items: list[dict[str, Any]] = []
        self.feeds: dict[str, list[dict[str, Any]]] = {"wire": []}
        self.config = tmp / "monitor.yaml"
        self.fetch = fetch
        self.write()

    def write(self, extra_feeds: tuple[str, ...] = ()) -> None:
        for name in extra_feeds:
            self.feeds.setdefault(name, [])
        write_config(
            self.config,
            feeds={name: self.server.url(f"/{name}.xml") for name in self.feeds},
            channels={"hook": f"json://{self.hook.base_url.removeprefix('http://')}/alerts"},
            database=f"sqlite:///{self.db}",
            fetch=self.fetch,
        )
        for name in self.feeds:
            self.publish(feed=name)

    def publish(self, *items: dict[str, Any], feed: str = "wire") -> None:
        self.feeds[feed] = [*items, *self.feeds[feed]]
        self.server.set(f"/{feed}.xml", rss(self.feeds[feed], title=feed))

    def page(self, path: str, html: str | bytes, content_type: str = "text/html") -> str:
        body = html.encode() if isinstance(html, str) else html
        self.server.set(path, body, headers={"Content-Type": content_type}, etag=False)
        return self.server.url(path)

    async def run_once(self) -> None:
        settings = load_settings(self.config, check_channel_url=check_channel_url)
        async with Monitor(settings) as monitor:
            await monitor.run_once()

    def alerts(self) -> Counter[str]:
        return Counter(p.json()["title"].removeprefix(f"[{WATCH}] ") for p in self.hook.posts)

    def language(self, link: str) -> str | None:
        store = Store.open(f"sqlite:///{self.db}")
        try:
            with store.engine.connect() as conn:
                query = select(articles.c.lang).where(articles.c.url == link)
                return conn.execute(query).scalar_one()
        finally:
            store.close()

    def outcomes(self) -> dict[str, dict[str, dict[str, Any]]]:
        store = Store.open(f"sqlite:///{self.db}")
        try:
            return store.pages.outcomes()
        finally:
            store.close()


def item(guid: str, title: str, link: str, summary: str = "Short wire text.") -> dict[str, Any]:
    return {
        "guid": guid,
        "title": title,
        "link": link,
        "description": summary,
        "published": NOW - timedelta(minutes=2),
    }


@pytest.fixture
def site(tmp_path: Path, feed_server: FeedServer, webhook_sink: WebhookSink) -> Site:
    return Site(tmp_path, feed_server, webhook_sink)


@pytest.mark.parametrize("mode", ["auto", "always", "never"])
async def test_the_seed_article_alerts_through_its_body(site: Site, mode: str) -> None:
    """The seed entry's feed text lacks a trade word; its page's body says "tariffs" and alerts
    korea-china-trade once (auto, always), and with `never` nothing changes from feeds alone."""
    site.fetch = FETCH + f", full_text: {mode}"
    old = site.page("/a/old", article_page("Old news", SEED_BODY))
    site.publish(item("old", "Seoul and Beijing sign a trade pact", old))
    site.write()
    await site.run_once()  # the baseline reads no page
    assert site.server.hits("/a/old") == 0

    url = site.page("/a/seed", article_page(SEED_TITLE, SEED_BODY, layout="divs", lang="en-GB"))
    site.publish(item("seed", SEED_TITLE, url + "?utm_source=rss", SEED_SUMMARY))
    await site.run_once()
    if mode == "never":
        assert site.alerts() == Counter()
        assert site.server.hits("/a/seed") == 0
        return
    assert site.alerts() == Counter({SEED_TITLE: 1})
    assert site.server.hits("/a/seed") == 1
    assert site.outcomes()["wire"]["fetched"]["count"] == 1
    assert site.language(url + "?utm_source=rss") == "en"  # the page's, the feed naming none
    await site.run_once()  # a poll that finds nothing new reads no page again
    assert site.server.hits("/a/seed") == 1
    assert site.alerts() == Counter({SEED_TITLE: 1})


async def test_robots_txt_that_disallows_keeps_the_page_unread(site: Site) -> None:
    """A page robots.txt disallows is never fetched, is counted with its reason, and its entry
    is still matched on the feed's text; robots.txt is read once for the host."""
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    await site.run_once()
    hidden = site.page("/private/seed", article_page(SEED_TITLE, SEED_BODY))
    open_url = site.page("/a/2", article_page("Seoul and Beijing talk", KOREAN_BODY))
    site.publish(
        item("seed", SEED_TITLE, hidden, SEED_SUMMARY),
        item("fed", "Seoul and Beijing agree a trade deal", open_url),
    )
    await site.run_once()
    assert site.server.hits("/private/seed") == 0
    assert site.server.hits("/robots.txt") == 1
    assert site.alerts() == Counter({"Seoul and Beijing agree a trade deal": 1})
    robots = site.outcomes()["wire"]["robots"]
    assert robots["count"] == 1
    assert robots["last_message"] == "robots.txt disallows this page"


async def test_sources_linking_one_page_fetch_it_once(site: Site) -> None:
    """Two feeds linking one article (tracking parameters apart) fetch its page once, and the
    story alerts once."""
    site.write(extra_feeds=("agency",))
    await site.run_once()
    url = site.server.url("/a/seed")
    site.page("/a/seed", article_page(SEED_TITLE, SEED_BODY, canonical=url))
    site.publish(item("s1", SEED_TITLE, url + "?utm_source=wire", SEED_SUMMARY))
    site.publish(item("s2", SEED_TITLE, url + "?utm_source=agency", SEED_SUMMARY), feed="agency")
    await site.run_once()
    assert site.server.hits("/a/seed") == 1
    assert site.alerts() == Counter({SEED_TITLE: 1})


async def test_a_later_report_of_the_pages_canonical_url_joins_the_story(site: Site) -> None:
    """A link that hides the publisher (an aggregator's) alerts once; its page names the
    canonical URL, and another outlet's later report of that URL is the same story (in
    `copies` mode, where only the URL can join two differently worded reports)."""
    site.write(extra_feeds=("agency",))
    site.config.write_text(site.config.read_text() + "stories: {mode: copies}\n")
    canonical = site.server.url("/news/qingdao-talks")
    body = article_page(SEED_TITLE, SEED_BODY, canonical=canonical)
    site.page("/r/8f3a", body)
    site.page("/news/qingdao-talks", body)
    settings = load_settings(site.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:  # one daemon's life: the name is kept in memory
        await monitor.run_once()
        site.publish(item("s1", SEED_TITLE, site.server.url("/r/8f3a"), SEED_SUMMARY))
        await monitor.run_once()
        assert site.alerts() == Counter({SEED_TITLE: 1})
        later = "Seoul and Beijing agree a trade deal at Qingdao"
        site.publish(item("s2", later, canonical, "Tariffs fall, officials said."), feed="agency")
        await monitor.run_once()
    assert site.alerts() == Counter({SEED_TITLE: 1})


def _endless(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.end_headers()
    while not request.server.stopping.wait(0.05):  # type: ignore[attr-defined]
        request.wfile.write(b"<p>more and more and more</p>" * 50)


def _huge(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Length", str(50 * 1024 * 1024))
    request.end_headers()
    request.wfile.write(b"<html>" + b" " * 65536)


HEADLINES = [
    "Seoul and Beijing trade ministers meet",
    "Tariff row: Seoul protests Beijing steel duties",
    "South Korea courts China on a free trade deal",
    "Beijing lifts curbs on Seoul tour groups in trade thaw",
    "China and South Korea swap currency in trade pact",
    "Seoul exporters see Beijing tariffs fall",
    "Korean chip trade with China hits a record, Seoul says",
]


async def test_bad_pages_each_cost_one_bounded_fetch(site: Site) -> None:
    """Each bad page fails with a clear reason in `sources --json`, its entry still alerts on
    the feed's text, and the good page beside them is read."""
    bomb = gzip.compress(b"<p>" + b"a" * (64 * 1024 * 1024) + b"</p>")
    bad = {
        "/bad/huge": "too_large",
        "/bad/endless": "timeout",
        "/bad/bomb": "too_large",
        "/bad/private": "blocked",
        "/bad/broken": "no_text",
        "/bad/empty": "empty",
        "/bad/missing": "http",
    }
    site.server.set_handler("/bad/huge", _huge)
    site.server.set_handler("/bad/endless", _endless)
    site.server.set(
        "/bad/bomb",
        bomb,
        headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
        etag=False,
    )
    site.server.set_handler("/bad/private", redirect("http://169.254.169.254/latest/meta-data/"))
    site.page("/bad/broken", "<html><body><div><p>Hi<td></table></span><<<>")
    site.page("/bad/empty", b"")
    site.page("/ko/1", article_page("한중 통상", KOREAN_BODY, lang="ko").encode("euc-kr"))
    await site.run_once()
    entries = [
        item(f"bad-{i}", title, site.server.url(path))
        for i, (path, title) in enumerate(zip(bad, HEADLINES, strict=True))
    ]
    site.publish(*entries, item("ko", "한국과 중국 통상 회의", site.server.url("/ko/1"), "서울."))
    await site.run_once()
    assert site.alerts() == Counter(dict.fromkeys(HEADLINES, 1))
    result = process.run(site.config, "sources", "--json")
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    pages = row["pages"]
    counts = {k: v["count"] for k, v in pages.items()}
    assert counts == {
        "fetched": 1,
        "too_large": 2,
        "timeout": 1,
        "blocked": 1,
        "no_text": 1,
        "empty": 1,
        "http": 1,
    }
    assert "exceeds" in pages["too_large"]["last_message"]
