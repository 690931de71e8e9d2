"""monitor.sources.feeds: feedparser output turned into plain-text entries or a clear error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.core.errors import FetchError
from monitor.sources.feeds import NotAFeedError, parse_feed
from tests.support.feed_server import atom, rss

URL = "https://news.example.test/world/feed.xml"
RSS_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
KST = timezone(timedelta(hours=9))


def test_rss_entries() -> None:
    """RSS 2.0 items give guid, absolute link, plain title and summary, and a UTC date."""
    body = rss(
        [
            {
                "guid": "a-1",
                "title": "First",
                "link": "https://news.example.test/a/1",
                "description": "Body one",
                "published": datetime(2024, 3, 1, 18, 30, tzinfo=KST),
            },
            {"guid": "a-2", "title": "Second", "link": "https://news.example.test/a/2"},
        ],
        title="World news",
    )
    feed = parse_feed(body, url=URL, headers=RSS_HEADERS)
    assert feed.title == "World news"
    assert feed.warning is None
    first, second = feed.entries
    assert first.guid == "a-1"
    assert first.link == "https://news.example.test/a/1"
    assert (first.title, first.summary) == ("First", "Body one")
    assert first.published == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert first.published.utcoffset() == timedelta(0)
    assert (second.guid, second.title, second.summary, second.published) == (
        "a-2",
        "Second",
        "",
        None,
    )


def test_atom_entries() -> None:
    """Atom 1.0 entries give id, link, title, summary and the updated date in UTC."""
    body = atom(
        [
            {
                "id": "urn:uuid:1",
                "title": "Atom one",
                "link": "https://news.example.test/x",
                "summary": "Sum",
                "updated": datetime(2024, 5, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            }
        ],
        title="Atom feed",
    )
    feed = parse_feed(body, url=URL, headers={"content-type": "application/atom+xml"})
    assert feed.title == "Atom feed"
    (entry,) = feed.entries
    assert (entry.guid, entry.link, entry.title, entry.summary) == (
        "urn:uuid:1",
        "https://news.example.test/x",
        "Atom one",
        "Sum",
    )
    assert entry.published == datetime(2024, 5, 2, 1, 4, 5, tzinfo=UTC)


def test_entries_keep_document_order() -> None:
    """Entries come back in the order the document lists them."""
    body = rss([{"guid": str(i), "title": f"t{i}"} for i in (3, 1, 2)])
    assert [e.guid for e in parse_feed(body, url=URL, headers=RSS_HEADERS).entries] == [
        "3",
        "1",
        "2",
    ]


def test_html_and_entities_are_stripped() -> None:
    """Tags and entities in titles and summaries become plain text."""
    body = rss(
        [
            {
                "guid": "1",
                "title": "<b>Seoul</b> &amp; Beijing sign &quot;deal&quot;",
                "description": (
                    "<p>Trade <a href='/x'>talks</a>&nbsp;end.</p><script>evil()</script>"
                ),
            },
            {"guid": "2", "title": "Caf&eacute; 1 &lt; 2"},
        ]
    )
    first, second = parse_feed(body, url=URL, headers=RSS_HEADERS).entries
    assert first.title == 'Seoul & Beijing sign "deal"'
    assert first.summary == "Trade talks end."
    assert second.title == "Café 1 < 2"


def test_relative_links_are_made_absolute() -> None:
    """Relative item links are resolved against the feed URL; non-http links are dropped."""
    body = rss(
        [
            {"guid": "1", "link": "/politics/42"},
            {"guid": "2", "link": "story.html"},
            {"guid": "3", "link": "javascript:alert(1)"},
        ]
    )
    links = [e.link for e in parse_feed(body, url=URL, headers=RSS_HEADERS).entries]
    assert links == [
        "https://news.example.test/politics/42",
        "https://news.example.test/world/story.html",
        None,
    ]


def test_entries_without_guid_keep_none() -> None:
    """An item with no guid (or a blank one) has guid None, in RSS and in Atom."""
    rss_feed = parse_feed(
        rss([{"title": "no id", "link": "https://n.test/1"}, {"guid": "  ", "title": "blank"}]),
        url=URL,
        headers=RSS_HEADERS,
    )
    atom_feed = parse_feed(
        atom([{"title": "no id"}]), url=URL, headers={"content-type": "application/atom+xml"}
    )
    assert [e.guid for e in rss_feed.entries] == [None, None]
    assert rss_feed.entries[0].link == "https://n.test/1"
    assert [e.guid for e in atom_feed.entries] == [None]


def test_html_page_names_its_feed() -> None:
    """An HTML page with an alternate RSS link fails as not_a_feed and names the feed URL."""
    page = (
        b"<!DOCTYPE html><html><head><title>News</title>"
        b'<link rel="stylesheet" href="/s.css">'
        b'<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss/all.xml">'
        b"</head><body><p>Hello</body></html>"
    )
    with pytest.raises(NotAFeedError) as caught:
        parse_feed(page, url=URL, headers={"Content-Type": "text/html; charset=utf-8"})
    assert caught.value.kind == "not_a_feed"
    assert "https://news.example.test/rss/all.xml" in caught.value.message
    assert caught.value.feed_urls == ("https://news.example.test/rss/all.xml",)


def test_html_page_without_feed_link() -> None:
    """An HTML page with no alternate link fails as not_a_feed."""
    page = b"<html><head><title>x</title></head><body>hi</body></html>"
    with pytest.raises(FetchError) as caught:
        parse_feed(page, url=URL, headers={})
    assert caught.value.kind == "not_a_feed"


@pytest.mark.parametrize(
    "body", [b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe", b"just some text", b'{"items": []}']
)
def test_garbage_is_not_a_feed(body: bytes) -> None:
    """Binary noise, plain text and JSON fail as not_a_feed."""
    with pytest.raises(FetchError) as caught:
        parse_feed(body, url=URL, headers={"content-type": "application/octet-stream"})
    assert caught.value.kind == "not_a_feed"


def test_other_xml_is_a_parse_error() -> None:
    """Well-formed XML that is neither RSS nor Atom fails with kind "parse"."""
    with pytest.raises(FetchError) as caught:
        parse_feed(b'<?xml version="1.0"?><catalog><book/></catalog>', url=URL, headers={})
    assert caught.value.kind == "parse"


def test_truncated_feed_gives_entries_and_warning() -> None:
    """A feed cut off mid-document keeps the entries before the cut and reports a warning."""
    body = rss([{"guid": str(i), "title": f"Item {i}"} for i in range(3)])
    cut = body[: body.index(b"Item 2")]
    feed = parse_feed(cut, url=URL, headers=RSS_HEADERS)
    assert [e.guid for e in feed.entries][:2] == ["0", "1"]
    assert feed.warning


def test_empty_body_and_empty_feed_are_valid() -> None:
    """An empty body and a feed with no items are valid feeds with no entries."""
    assert parse_feed(b"", url=URL, headers={}).entries == ()
    assert parse_feed(b"  \n", url=URL, headers={}).entries == ()
    empty = parse_feed(rss([], title="Quiet"), url=URL, headers=RSS_HEADERS)
    assert (empty.title, empty.entries, empty.warning) == ("Quiet", (), None)


def test_path_like_body_is_data(tmp_path: Path) -> None:
    """A body that is a file path is parsed as bytes, never opened as a file."""
    local = tmp_path / "local.xml"
    local.write_bytes(rss([{"guid": "secret", "title": "from disk"}]))
    for body in (b"/etc/passwd", str(local).encode()):
        with pytest.raises(FetchError) as caught:
            parse_feed(body, url=URL, headers={"content-type": "text/plain"})
        assert caught.value.kind == "not_a_feed"


def test_euc_kr_feed_decodes() -> None:
    """An EUC-KR RSS document with its charset declared decodes to the right Korean text."""
    body = rss(
        [{"guid": "k1", "title": "북한 미사일 발사", "description": "합참은 오늘 &amp; 내일"}],
        title="연합뉴스",
        encoding="EUC-KR",
    )
    assert "북한".encode("euc-kr") in body
    feed = parse_feed(
        body, url=URL, headers={"Content-Type": "application/rss+xml; charset=EUC-KR"}
    )
    assert feed.title == "연합뉴스"
    (entry,) = feed.entries
    assert (entry.title, entry.summary) == ("북한 미사일 발사", "합참은 오늘 & 내일")
    assert feed.warning is None


def test_full_content_and_language() -> None:
    """content:encoded becomes the entry's plain full text; the feed's language is the entry's."""
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>T</title><link>https://news.example.test/</link><language>ko-KR</language>
<item><guid isPermaLink="false">c-1</guid><title>Title</title><description>Lead</description>
<content:encoded><![CDATA[<p>Full <b>text</b> &amp; more</p>]]></content:encoded></item>
<item><guid isPermaLink="false">c-2</guid><title>Plain</title></item>
</channel></rss>"""
    first, second = parse_feed(body, url=URL, headers=RSS_HEADERS).entries
    assert (first.summary, first.content, first.lang) == ("Lead", "Full text & more", "ko-kr")
    assert (second.content, second.lang) == ("", "ko-kr")
