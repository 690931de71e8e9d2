"""The readers of the new kinds of source, on the stored samples and on hostile input: search
feeds' outlets, news sitemaps and indexes, list pages, OPML, and the dates pages write."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from monitor.core.errors import FetchError
from monitor.core.model import PageRule
from monitor.sources.dates import parse_date
from monitor.sources.feeds import parse_feed
from monitor.sources.opml import MAX_FEEDS, read_opml, sources_yaml
from monitor.sources.pages import parse_page
from monitor.sources.parsing import ParserPool
from monitor.sources.searchfeeds import publisher_url
from monitor.sources.sitemaps import SitemapIndex, parse_sitemap, title_from_url
from tests.support.source_samples import sample

BASE = "http://127.0.0.1:9"
BOARD = PageRule(
    item="table.board_list tbody tr", title="td.title a", date="td.date", summary=".summary"
)
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
"""


def test_a_google_news_item_names_its_outlet_and_loses_it_from_the_title() -> None:
    """<source url> gives the outlet; the title's " - Outlet" and the summary that only
    repeats the title go; the redirect link stays the link, with no publisher URL yet."""
    feed = parse_feed(sample("google-news-search.xml", base=BASE), url=BASE, headers={})
    first = feed.entries[0]
    assert first.outlet == "Reuters"
    assert first.title == "South Korea and China agree to cut tariffs on chips and batteries"
    assert first.summary == ""
    assert first.link is not None and first.link.startswith(BASE + "/rss/articles/")
    assert first.origin is None
    assert feed.entries[1].outlet == "The Korea Herald"


def test_a_bing_news_item_gives_its_provider_and_the_publisher_url() -> None:
    """Bing's News:Source is the outlet, and the url= parameter of its click-through link is
    the publisher's URL."""
    feed = parse_feed(sample("bing-news-search.xml", base=BASE), url=BASE, headers={})
    first, second = feed.entries
    assert first.outlet == "Reuters"
    assert first.origin == (
        BASE + "/world/asia-pacific/south-korea-china-tariffs-chips-batteries-2026-12-07/"
    )
    assert second.origin == "https://www.koreatimes.co.kr/business/20261206/chinese-tourists-jeju"


def test_an_older_google_news_link_carries_the_publisher_url_in_its_id() -> None:
    """Ids that hold the URL (a base64 protobuf) give it without a request; newer ones don't."""
    url = "https://www.reuters.com/world/asia-pacific/" + "korea-china-trade-deal-" * 6
    field = b"\x22" + bytes([len(url) & 0x7F | 0x80, len(url) >> 7]) + url.encode()
    token = base64.urlsafe_b64encode(b"\x08\x13" + field + b"\xd2\x01\x00").decode()
    assert publisher_url(f"https://news.google.com/rss/articles/{token.rstrip('=')}?oc=5") == url
    newer = "https://news.google.com/rss/articles/CBMiggFBVV95cUxPbDRsNmJqbmZ4"
    assert publisher_url(newer) is None


def test_a_planet_item_with_source_linking_the_outlet_itself_keeps_that_link() -> None:
    """Any RSS item with <source> names its outlet; a link on the outlet's own site is the
    publisher's URL as it is."""
    body = (
        b'<rss version="2.0"><channel><title>Planet</title><item><title>Post - Alice</title>'
        b"<link>https://alice.example/post</link><guid>p1</guid>"
        b'<source url="https://alice.example/feed">Alice</source></item></channel></rss>'
    )
    [entry] = parse_feed(body, url="https://planet.example/", headers={}).entries
    assert (entry.outlet, entry.title, entry.origin) == ("Alice", "Post", entry.link)


def test_a_search_feed_without_source_reads_as_a_plain_feed() -> None:
    """No <source>: the items name no outlet (alerts show the source's name) and nothing fails."""
    body = (
        sample("google-news-search.xml", base=BASE)
        .replace(b"<source", b"<x")
        .replace(b"</source>", b"</x>")
    )
    entries = parse_feed(body, url=BASE, headers={}).entries
    assert [e.outlet for e in entries] == [None, None]
    assert entries[0].title.endswith(" - Reuters")


def test_a_news_sitemap_gives_titles_dates_keywords_and_language() -> None:
    """Each <url> with <news:news> is an entry, newest first."""
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    feed = parse_sitemap(sample("news-sitemap.xml", base=BASE, now=now), url=BASE, headers={})
    first, second = feed.entries
    assert first.title == "Seoul and Beijing sign deal to scrap tariffs on chips"
    assert first.summary == "South Korea, China, trade, tariffs"
    assert first.published == now
    assert first.lang == "en"
    assert second.published is not None and second.published < now


def test_a_sitemap_index_names_its_children_newest_first_and_never_itself() -> None:
    """An index is not entries: its children, newest first, without the index itself."""
    url = BASE + "/sitemap-index.xml"
    with pytest.raises(SitemapIndex) as raised:
        parse_sitemap(sample("sitemap-index.xml", base=BASE), url=url, headers={})
    assert raised.value.feed_urls == (BASE + "/sitemaps/news.xml", BASE + "/sitemaps/2026-11.xml")


def test_a_fifty_thousand_url_sitemap_keeps_the_newest_up_to_the_cap() -> None:
    """A plain sitemap of 50,000 URLs with <lastmod>: the newest 1,000, and a warning."""
    rows = "".join(
        f"<url><loc>{BASE}/a/story-{i}.html</loc><lastmod>2026-{1 + i % 12:02d}-01</lastmod></url>"
        for i in range(50_000)
    )
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()
    feed = parse_sitemap(body, url=BASE, headers={}, max_entries=1000)
    assert len(feed.entries) == 1000
    assert feed.warning == "50000 URLs, only the newest 1000 were read"
    assert {e.published for e in feed.entries} == {datetime(2026, 12, 1, tzinfo=UTC)}
    assert feed.entries[0].title.startswith("story ")


@pytest.mark.parametrize("reader", ["sitemap", "opml"])
def test_an_entity_bomb_is_refused_before_parsing(reader: str) -> None:
    """A DTD with nested entities never reaches the XML parser: a clear refusal."""
    if reader == "sitemap":
        body = BOMB + b"<urlset><url><loc>&lol3;</loc></url></urlset>"
        with pytest.raises(FetchError, match="DTD or entity declarations: refused"):
            parse_sitemap(body, url=BASE, headers={})
    else:
        body = BOMB + b'<opml version="2.0"><body><outline xmlUrl="&lol3;"/></body></opml>'
        with pytest.raises(FetchError, match="DTD or entity declarations: refused"):
            read_opml(body)


def test_a_ministry_list_page_reads_rows_with_absolute_links_and_korean_dates() -> None:
    """Rows by selectors; relative links resolved against the page; three date styles."""
    now = datetime(2026, 12, 6, tzinfo=UTC)
    page = sample("ministry-press-list.html", now=now)
    url = "https://www.mofa.go.kr/www/brd/m_4080/list.do"
    feed = parse_page(page, url=url, headers={}, rule=BOARD)
    assert [e.link for e in feed.entries] == [
        "https://www.mofa.go.kr/www/brd/m_4080/view.do?seq=376512&page=1",
        "https://www.mofa.go.kr/www/brd/m_4080/view.do?seq=376498&page=1",
        "https://www.mofa.go.kr/www/brd/m_4080/view.do?seq=376470&page=1",
    ]
    assert feed.entries[0].title == "한중 외교장관 회담 결과: 무역 협력 확대 합의"
    assert feed.entries[0].summary.startswith("한국과 중국 외교장관이")
    assert {e.published for e in feed.entries} == {now}
    assert feed.title == "보도자료 | 외교부"


def test_a_list_page_in_euc_kr_is_read_by_its_meta_charset() -> None:
    """Korean government pages are often EUC-KR, declared only in <meta>."""
    text = sample("ministry-press-list.html").decode().replace('"utf-8"', '"euc-kr"')
    feed = parse_page(text.encode("euc-kr"), url=BASE, headers={}, rule=BOARD)
    assert feed.entries[0].title == "한중 외교장관 회담 결과: 무역 협력 확대 합의"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (PageRule(item="ul.news li", title="a"), "the item selector 'ul.news li' matches nothing"),
        (PageRule(item="tbody tr", title="td.headline"), "the title selector 'td.headline'"),
        (PageRule(item="tbody tr", title="td.dept"), "no item gives a link"),
        (PageRule(item="tbody tr", title="td.title", link="td.num@data-href"), "link selector"),
    ],
)
def test_selectors_that_find_nothing_fail_with_the_reason(rule: PageRule, reason: str) -> None:
    """Never a silent empty poll: the error names the selector that found nothing."""
    with pytest.raises(FetchError, match=reason) as raised:
        parse_page(sample("ministry-press-list.html"), url=BASE, headers={}, rule=rule)
    assert raised.value.kind == "page"


def test_a_selector_matching_a_hundred_thousand_rows_reads_the_first_up_to_the_cap() -> None:
    """A 10 MB page whose item selector matches 100,000 rows: the first 1,000, and a warning."""
    rows = "".join(
        f'<div class="r"><a href="/n/{i}">Item number {i} {"x" * 60}</a></div>'
        for i in range(100_000)
    )
    body = f"<html><body>{rows}</body></html>".encode()
    assert len(body) > 9_000_000
    feed = parse_page(
        body, url=BASE, headers={}, rule=PageRule(item="div.r", title="a"), max_entries=1000
    )
    assert len(feed.entries) == 1000
    assert feed.warning == "100000 items, only the first 1000 were read"


async def test_sitemaps_and_pages_are_parsed_in_the_worker_processes() -> None:
    """The parser workers read each kind, and an index comes back as its children."""
    pool = ParserPool(workers=1, timeout=30, max_entries=100)
    try:
        page = await pool.parse(
            sample("ministry-press-list.html"), url=BASE, headers={}, kind="page", rule=BOARD
        )
        news = await pool.parse(sample("news-sitemap.xml"), url=BASE, headers={}, kind="sitemap")
        with pytest.raises(SitemapIndex) as raised:
            index = sample("sitemap-index.xml", base=BASE)
            await pool.parse(index, url=BASE + "/sitemap-index.xml", headers={}, kind="sitemap")
    finally:
        await pool.aclose()
    assert len(page.entries) == 3 and len(news.entries) == 2
    assert len(raised.value.feed_urls) == 2


def test_an_opml_export_becomes_a_sources_file_with_valid_unique_names() -> None:
    """Folders become tags, a feed listed twice is imported once, names are made valid."""
    feeds = read_opml(sample("reader-export.opml", base=BASE))
    assert len(feeds) == 5
    text = sources_yaml(feeds, tags=["imported"], taken={"yonhap-news-agency"})
    assert '{name: yonhap-news-agency-2, url: "https://en.yna.co.kr/RSS/news.xml", ' in text
    assert 'tags: ["imported", "korea"]' in text
    assert "{name: yna.co.kr," in text  # a Korean title gives the host as the name
    assert "{name: bbc-news-world," in text


def test_an_opml_with_ten_thousand_outlines_is_refused_with_the_reason() -> None:
    """Over the limit of feeds: one clear error, nothing half-imported."""
    outlines = "".join(f'<outline xmlUrl="https://f{i}.example/rss"/>' for i in range(10_000))
    body = f'<opml version="2.0"><body>{outlines}</body></opml>'.encode()
    with pytest.raises(FetchError, match=f"more than {MAX_FEEDS} feeds"):
        read_opml(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026.12.06", datetime(2026, 12, 6, tzinfo=UTC)),
        ("2026. 12. 6.", datetime(2026, 12, 6, tzinfo=UTC)),
        ("2026년 12월 6일", datetime(2026, 12, 6, tzinfo=UTC)),
        ("2026年12月6日", datetime(2026, 12, 6, tzinfo=UTC)),
        ("2026-12-06 14:05", datetime(2026, 12, 6, 14, 5, tzinfo=UTC)),
        ("2026-12-06T09:30:00+09:00", datetime(2026, 12, 6, 0, 30, tzinfo=UTC)),
        ("2026년 12월 6일 오후 3:20", datetime(2026, 12, 6, 15, 20, tzinfo=UTC)),
        ("06.12.2026", datetime(2026, 12, 6, tzinfo=UTC)),
        ("Dec 6, 2026", datetime(2026, 12, 6, tzinfo=UTC)),
        ("6 December 2026", datetime(2026, 12, 6, tzinfo=UTC)),
        ("Sun, 06 Dec 2026 08:00:00 GMT", datetime(2026, 12, 6, 8, tzinfo=UTC)),
        ("조회수 1532", None),
        ("2026-13-45", None),
    ],
)
def test_dates_in_the_common_formats(text: str, expected: datetime | None) -> None:
    """Korean, Chinese, ISO, European and English dates; anything else is no date."""
    assert parse_date(text) == expected


def test_titles_from_article_paths() -> None:
    """A sitemap without titles gets words from each URL's last path part."""
    assert title_from_url("https://x.example/2026/12/korea-china-trade.html") == (
        "korea china trade"
    )
    assert title_from_url("https://x.example/view/123456") == ""
