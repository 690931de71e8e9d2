"""Formats and encodings: RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.0/1.1, charsets that lie."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime

import pytest

from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings
from monitor.sources.feeds import parse_feed
from monitor.sources.http import fetch, make_client
from tests.support.feed_server import FeedServer, rss

TITLES = {
    "euc-kr": "북한 미사일 발사",
    "gb2312": "中国贸易协定",
    "gbk": "中國贸易",
    "big5": "中國貿易協定",
    "shift_jis": "日本銀行の金利",
    "windows-1252": "Café \u2013 \u201cquoted\u201d \u20ac",
}
# Each header a publisher may send with such a feed: none, right, RFC 3023's us-ascii default,
# and a web server's text/html default with a charset that is wrong.
HEADERS = [
    {},
    {"content-type": "application/rss+xml"},
    {"content-type": "text/xml"},
    {"content-type": "text/html; charset=iso-8859-1"},
]


def titles(body: bytes, headers: dict[str, str] | None = None) -> list[str]:
    return [
        e.title for e in parse_feed(body, url="http://news.test/", headers=headers or {}).entries
    ]


@pytest.mark.parametrize("encoding", sorted(TITLES))
@pytest.mark.parametrize("headers", HEADERS, ids=["none", "rss", "text-xml", "html-latin1"])
def test_declared_legacy_encodings_are_read(encoding: str, headers: dict[str, str]) -> None:
    """A feed in a legacy CJK or Western charset, declared in its XML, reads right whatever
    the Content-Type says."""
    body = rss([{"guid": "1", "title": TITLES[encoding]}], encoding=encoding)
    assert titles(body, headers) == [TITLES[encoding]]


def _document(declared: str, title: str, actual: str) -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>t</title>'
        f"<item><guid>1</guid><title>{title}</title>"
        f"<description>{title}. {title}, 그리고 더 많은 소식</description></item></channel></rss>"
    )
    return text.encode(actual, errors="ignore")


@pytest.mark.parametrize(
    ("declared", "actual", "title"),
    [
        ("utf-8", "euc-kr", "북한 미사일 발사 소식"),
        ("utf-8", "windows-1252", "Café “quoted”"),
        ("iso-8859-1", "utf-8", "Café 북한"),
        ("euc-kr", "utf-8", "북한 미사일"),
        ("shift_jis", "utf-8", "日本銀行"),
    ],
)
def test_wrongly_declared_charsets_are_detected(declared: str, actual: str, title: str) -> None:
    """A document whose declaration lies is read in the charset it is really in, with a note."""
    parsed = parse_feed(_document(declared, title, actual), url="http://x/", headers={})
    assert [e.title for e in parsed.entries] == [title]
    assert parsed.warning is not None and f"declared as {declared}" in parsed.warning


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be"])
def test_byte_order_marks_decide_the_encoding(encoding: str) -> None:
    """UTF-8 and UTF-16 with a BOM read right, even without a declaration or with a wrong header."""
    bom = {
        "utf-8": codecs.BOM_UTF8,
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
    }
    text = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><guid>1</guid><title>북한</title></item></channel></rss>"
    )
    body = bom[encoding] + text.encode(encoding)
    for headers in ({}, {"content-type": "text/html; charset=iso-8859-1"}):
        assert titles(body, headers) == ["북한"]


RSS_091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>t</title><link>http://x/</link>
<description>d</description><item><title>Old school</title><link>http://x/1</link></item></channel></rss>"""
RSS_10 = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://x/"><title>t</title></channel>
<item rdf:about="http://x/1"><title>RDF item</title><link>http://x/1</link></item></rdf:RDF>"""
ATOM_03 = b"""<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title>
<entry><title>Atom 0.3 entry</title><link rel="alternate" href="http://x/1"/><id>tag:x,1</id>
<issued>2024-01-01T00:00:00Z</issued></entry></feed>"""


@pytest.mark.parametrize(
    ("body", "title"),
    [(RSS_091, "Old school"), (RSS_10, "RDF item"), (ATOM_03, "Atom 0.3 entry")],
    ids=["rss-0.91", "rss-1.0", "atom-0.3"],
)
def test_older_formats_are_read(body: bytes, title: str) -> None:
    """RSS 0.91, RSS 1.0 (RDF) and Atom 0.3 give their entries."""
    assert titles(body) == [title]


def json_feed(version: str, items: list[dict[str, object]], **feed: object) -> bytes:
    return json.dumps(
        {
            "version": f"https://jsonfeed.org/version/{version}",
            "title": "JSON news",
            **feed,
            "items": items,
        }
    ).encode()


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_json_feed_items_become_entries(version: str) -> None:
    """id, url (made absolute), title, summary, HTML content as text, dates and language."""
    body = json_feed(
        version,
        [
            {
                "id": 42,
                "url": "/stories/42",
                "title": "Seoul and Beijing agree",
                "content_html": "<p>Tariffs <b>cut</b> on chips.</p>",
                "date_published": "2026-03-01T09:30:00+09:00",
            },
            {
                "id": "b",
                "external_url": "https://other.test/b",
                "content_text": "Plain text only",
                "summary": "Short",
                "date_modified": "2026-03-02T00:00:00Z",
                "language": "ko",
            },
            {"title": 7, "url": ["not", "a", "string"]},  # nothing usable: skipped
            "not an object",
        ],
        language="en-US",
    )
    parsed = parse_feed(body, url="https://news.test/feed.json", headers={})
    assert parsed.title == "JSON news"
    first, second = parsed.entries
    assert (first.guid, first.link, first.title) == (
        "42",
        "https://news.test/stories/42",
        "Seoul and Beijing agree",
    )
    assert first.summary == first.content == "Tariffs cut on chips."
    assert first.published == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    assert first.lang == "en-us"
    assert (second.link, second.summary, second.content) == (
        "https://other.test/b",
        "Short",
        "Plain text only",
    )
    assert (second.published, second.lang) == (datetime(2026, 3, 2, tzinfo=UTC), "ko")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"items": []}', "not a JSON Feed"),
        (b"[1, 2, 3]", "not a JSON Feed"),
        (b"{not json", "not an RSS, Atom or JSON feed"),
        (b"[" * 100_000, "not an RSS, Atom or JSON feed"),
    ],
)
def test_json_that_is_not_a_json_feed_is_not_a_feed(body: bytes, message: str) -> None:
    """Other JSON, broken JSON and absurdly nested JSON are "not_a_feed", not a crash."""
    with pytest.raises(FetchError) as caught:
        parse_feed(body, url="http://x/", headers={"content-type": "application/json"})
    assert caught.value.kind == "not_a_feed"
    assert message in caught.value.message


def test_json_feed_without_items_is_a_parse_error() -> None:
    """A JSON Feed whose items is not a list says so."""
    with pytest.raises(FetchError, match="without an items list"):
        parse_feed(
            json_feed("1.1", []).replace(b'"items": []', b'"items": {}'),
            url="http://x/",
            headers={},
        )


async def test_json_feed_through_the_fetch_path(feed_server: FeedServer) -> None:
    """A JSON Feed served as application/feed+json is fetched and parsed like any feed."""
    feed_server.set(
        "/feed.json",
        json_feed("1.1", [{"id": "1", "url": "https://news.test/1", "title": "Hello"}]),
        headers={"Content-Type": "application/feed+json"},
    )
    async with make_client(FetchSettings(allow_addresses=("127.0.0.1/32",))) as client:
        result = await fetch(client, feed_server.url("/feed.json"), max_bytes=10**6, timeout=5.0)
    parsed = parse_feed(result.body, url=result.url, headers=result.headers)
    assert [(e.guid, e.title) for e in parsed.entries] == [("1", "Hello")]
