"""Every kind of source, from the stored samples served on 127.0.0.1 to an alert that names
the right outlet: search feeds, a news sitemap behind an index, a ministry's list page, a page
that advertises its feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.core.records import AlertRecord
from monitor.notify.channels import check_channel_url
from monitor.store.repository import Store
from tests.support.feed_server import FeedServer, redirect, rss
from tests.support.scenario import SLACK_URL
from tests.support.sinks import WebhookSink
from tests.support.source_samples import sample

ARTICLE = "/world/asia-pacific/south-korea-china-tariffs-chips-batteries-2026-12-07/"
GOOGLE_LINK = "/rss/articles/CBMiggFBVV95cUxPbDRsNmJqbmZ4"


def _config(tmp_path: Path, sources: list[str]) -> Path:
    lines = [
        f"database: {json.dumps('sqlite:///' + str(tmp_path / 'news.db'))}",
        "fetch: {interval: 1s, timeout: 5s, allow_addresses: [127.0.0.1/32]}",
        "sources:",
        *(f"  - {line}" for line in sources),
        "terms:",
        '  south_korea: ["South Korea", Seoul, 한국, 한중]',
        "  china: [China, Beijing, 중국, 한중]",
        "channels:",
        f"  team-slack: {{url: {json.dumps(SLACK_URL)}}}",
        "watches:",
        "  - name: korea-china-trade",
        "    query: '@south_korea AND @china AND (trade OR tariff* OR deal* OR 무역)'",
        "    notify: [team-slack]",
    ]
    path = tmp_path / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def _run_once(config: Path) -> None:
    settings = load_settings(config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        await monitor.run_once()


def _alerts(tmp_path: Path) -> list[AlertRecord]:
    store = Store.open(f"sqlite:///{tmp_path / 'news.db'}")
    try:
        return store.list_alerts()
    finally:
        store.close()


async def test_two_search_feeds_with_one_article_give_one_alert_naming_the_outlet(
    tmp_path: Path, feed_server: FeedServer, slack_to: WebhookSink
) -> None:
    """Google News (redirect link, resolved once) and Bing News (publisher URL in the link)
    carry the same Reuters article: one alert, from Reuters, the title without " - Reuters";
    Google's other item alerts as The Korea Herald's."""
    base = feed_server.base_url
    feed_server.set("/google.xml", rss([], title="Google News"))
    feed_server.set("/bing.xml", rss([], title="Bing News"))
    feed_server.set_handler(GOOGLE_LINK, redirect(base + ARTICLE))
    feed_server.set(ARTICLE, b"<html><title>Reuters</title></html>")
    config = _config(
        tmp_path,
        [
            f'{{name: gn-korea-china, url: "{feed_server.url("/google.xml")}"}}',
            f'{{name: bn-korea-china, url: "{feed_server.url("/bing.xml")}"}}',
        ],
    )
    await _run_once(config)  # the baseline
    feed_server.set("/google.xml", sample("google-news-search.xml", base=base))
    feed_server.set("/bing.xml", sample("bing-news-search.xml", base=base))
    await _run_once(config)
    alerts = {a.alert.source: a.alert for a in _alerts(tmp_path)}
    assert sorted(alerts) == ["Reuters", "The Korea Herald"]
    reuters = alerts["Reuters"]
    assert reuters.title == "South Korea and China agree to cut tariffs on chips and batteries"
    # The aggregator's link stays the alert's link, whichever search feed was polled first.
    links = ("http://www.bing.com/news/apiclick.aspx?", base + GOOGLE_LINK)
    assert reuters.url is not None and reuters.url.startswith(links)
    assert alerts["The Korea Herald"].title == (
        "Seoul eyes wider trade ties with Beijing as exports slow"
    )
    assert len(slack_to.posts) == 2
    assert sum(b"Reuters" in post.body for post in slack_to.posts) == 1
    assert feed_server.hits(GOOGLE_LINK) == 1  # asked once, then cached


async def test_a_news_sitemap_behind_an_index_alerts_and_the_index_is_read_one_level(
    tmp_path: Path, feed_server: FeedServer, slack_to: WebhookSink
) -> None:
    """The index names an old child, the news sitemap and itself: the news sitemap is read
    first, the index is not read again as its own child, and its new article alerts."""
    base = feed_server.base_url
    feed_server.set("/sitemap-index.xml", sample("sitemap-index.xml", base=base))
    empty = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
    feed_server.set("/sitemaps/news.xml", empty)
    feed_server.set("/sitemaps/2026-11.xml", empty)
    config = _config(
        tmp_path, [f'{{name: example-times, sitemap: "{feed_server.url("/sitemap-index.xml")}"}}']
    )
    await _run_once(config)
    feed_server.set("/sitemaps/news.xml", sample("news-sitemap.xml", base=base))
    await _run_once(config)
    [alert] = _alerts(tmp_path)
    assert alert.alert.source == "example-times"
    assert alert.alert.title == "Seoul and Beijing sign deal to scrap tariffs on chips"
    assert alert.alert.url == base + "/news/2026/12/07/korea-china-chip-tariffs.html"
    assert feed_server.hits("/sitemap-index.xml") == 2
    assert len(slack_to.posts) == 1


async def test_a_ministry_list_page_alerts_on_a_new_press_release(
    tmp_path: Path, feed_server: FeedServer, slack_to: WebhookSink
) -> None:
    """A press-release board read by CSS selectors: a new row alerts, with its absolute link."""
    base = feed_server.base_url
    page = sample("ministry-press-list.html", base=base).decode()
    first_row = page.index("<tr>", page.index("<tbody>"))
    end_row = page.index("</tr>", first_row) + len("</tr>")
    feed_server.set("/www/brd/m_4080/list.do", page[:first_row] + page[end_row:])
    selectors = (
        f'url: "{feed_server.url("/www/brd/m_4080/list.do")}", item: "table.board_list tbody tr",'
        ' title: "td.title a", date: "td.date", summary: "td.title .summary"'
    )
    config = _config(tmp_path, [f"{{name: mofa-press, page: {{{selectors}}}}}"])
    await _run_once(config)
    feed_server.set("/www/brd/m_4080/list.do", page)
    await _run_once(config)
    [alert] = _alerts(tmp_path)
    assert alert.alert.source == "mofa-press"
    assert alert.alert.title == "한중 외교장관 회담 결과: 무역 협력 확대 합의"
    assert alert.alert.url == base + "/www/brd/m_4080/view.do?seq=376512&page=1"


async def test_a_page_given_as_url_is_polled_through_the_feed_it_advertises(
    tmp_path: Path, feed_server: FeedServer, slack_to: WebhookSink
) -> None:
    """The home page links its feed: the feed is polled, and kept as the source's resolved
    URL, so the next poll fetches the feed alone."""
    home = '<html><head><link rel="alternate" type="application/rss+xml" href="/news.rss">'
    feed_server.set("/", home + "</head><body>Home</body></html>")
    feed_server.set("/news.rss", rss([], title="Site news"))
    config = _config(tmp_path, [f'{{name: site, url: "{feed_server.url("/")}"}}'])
    await _run_once(config)
    item = {
        "guid": "n1",
        "title": "Seoul and Beijing agree trade deal",
        "link": "http://site.test/n1",
        "published": datetime.now(UTC),
    }
    feed_server.set("/news.rss", rss([item], title="Site news"))
    await _run_once(config)
    [alert] = _alerts(tmp_path)
    assert alert.alert.title == "Seoul and Beijing agree trade deal"
    assert feed_server.hits("/") == 1
    store = Store.open(f"sqlite:///{tmp_path / 'news.db'}")
    try:
        [status] = store.list_sources()
    finally:
        store.close()
    assert status.resolved_url == feed_server.url("/news.rss")
