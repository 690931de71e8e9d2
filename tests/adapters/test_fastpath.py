"""The fast parse path agrees with feedparser wherever it accepts a document (item 9)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.errors import FetchError
from monitor.core.model import Entry
from monitor.core.text import strip_html
from monitor.sources.charset import to_utf8
from monitor.sources.fastpath import _strip_simple_html, _tag_counts, parse_fast
from monitor.sources.feeds import _link, _linker, parse_feed
from tests.support import hostile
from tests.support.corpus import load_cases
from tests.support.feed_server import atom, rss

URL = "http://127.0.0.1/feed"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def key(entry: Entry) -> tuple[object, ...]:
    return (entry.guid, entry.link, entry.title, entry.published, entry.content)


def keep(value: object) -> str | None:
    """Links made absolute against URL, http(s) only, as parse_feed does."""
    if not isinstance(value, str) or not value.strip():
        return None
    absolute = urljoin(URL, value.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def test_fast_path_and_feedparser_agree_over_the_corpus() -> None:
    """For every corpus document the fast path accepts, (guid, link, title, published) of each
    entry equal feedparser's. Most corpus documents test one channel element and have no
    linked items, so the fast path takes few of them; the generated feeds below cover more."""
    accepted = 0
    disagreements = []
    for case in load_cases():
        headers = {k.lower(): v for k, v in case.headers.items()}
        if "content-encoding" in headers:
            continue
        decoded = to_utf8(case.body, headers.get("content-type", ""))
        quick = parse_fast(decoded.body, link=keep)
        if quick is None:
            continue
        accepted += 1
        try:
            slow = parse_feed(case.body, url=URL, headers=headers, fast=False)
        except FetchError as exc:
            disagreements.append((case.name, "feedparser refused", exc.kind))
            continue
        fast = [key(e) for e in parse_feed(case.body, url=URL, headers=headers).entries]
        if fast != [key(e) for e in slow.entries]:
            disagreements.append((case.name, fast, [key(e) for e in slow.entries]))
    assert disagreements == []
    assert accepted >= 40


def test_a_plain_news_feed_takes_the_fast_path() -> None:
    """An ordinary RSS or Atom feed of news items is read by the fast parser."""
    items = [
        {
            "guid": f"g{i}",
            "title": f"Story {i} & more",
            "link": f"https://news.test/{i}",
            "description": "<p>Lead <b>text</b></p>",
            "published": NOW - timedelta(minutes=i),
        }
        for i in range(50)
    ]
    for body in (rss(items), atom(items)):
        quick = parse_fast(body, link=keep)
        assert quick is not None
        _, _, entries, _ = quick
        assert [e.title for e in entries[:2]] == ["Story 0 & more", "Story 1 & more"]
        assert entries[1].published == NOW - timedelta(minutes=1)
        assert entries[0].summary == "Lead text"


def test_documents_the_fast_path_must_not_read_go_to_feedparser() -> None:
    """DTDs (entities, XXE), broken XML, undated or unlinked items are left to feedparser."""
    truncated = rss([{"guid": "1", "link": "https://n.test/1", "title": "t"}])[:-20]
    undated_some = rss(
        [
            {"guid": "1", "link": "https://n.test/1", "published": NOW},
            {"guid": "2", "link": "https://n.test/2"},
        ]
    )
    no_links = rss([{"guid": "1", "title": "a"}, {"guid": "2", "title": "b"}])
    for body in (
        hostile.billion_laughs(),
        hostile.xxe("/etc/passwd"),
        truncated,
        undated_some,
        no_links,
    ):
        assert parse_fast(body, link=keep) is None


def test_double_encoded_utf8_is_repaired_as_feedparser_does() -> None:
    """UTF-8 text that was read as Latin-1 and encoded again ("Â¡") reads the same on both paths,
    while genuine Latin-1 letters ("café") stay as they are."""
    body = rss(
        [
            {"guid": "1", "title": "Â¡Hola!", "link": "https://news.test/a/1"},
            {"guid": "2", "title": "café", "link": "https://news.test/a/2"},
        ]
    )
    fast, slow = (
        parse_feed(body, url=URL, headers={}),
        parse_feed(body, url=URL, headers={}, fast=False),
    )
    assert [e.title for e in fast.entries] == [e.title for e in slow.entries] == ["¡Hola!", "café"]


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<\ufffd"),
    max_size=40,
)
ITEM = st.fixed_dictionaries(
    {
        "guid": st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=12),
        "title": TEXT,
        "link": st.integers(0, 10**6).map(lambda n: f"https://news.test/a/{n}"),
        "description": TEXT,
        "published": st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ).map(lambda d: d.replace(microsecond=0)),
    }
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(ITEM, min_size=1, max_size=8), flavour=st.sampled_from([rss, atom]))
def test_fast_path_and_feedparser_agree_on_generated_feeds(
    items: list[dict[str, object]], flavour: object
) -> None:
    """Random titles (entities, ampersands, any script), links and dates: where the fast path
    reads the feed, each entry's guid, link, title and published time equal feedparser's."""
    body = flavour(items)  # type: ignore[operator]
    fast = parse_feed(body, url=URL, headers={})
    slow = parse_feed(body, url=URL, headers={}, fast=False)
    assert [key(e) for e in fast.entries] == [key(e) for e in slow.entries]


FRAGMENT = st.lists(
    st.one_of(
        st.sampled_from(
            ["<p>", "</p>", "<b>", "</b>", "<br/>", '<a href="x?a=1&amp;b=2">', "</a>"]
        ),
        st.sampled_from(["&amp;", "&lt;", "&#233;", "&nbsp;", "&amp;lt;", "<", ">", "<!-- c -->"]),
        st.text(alphabet="ab 한\n\u3000\xa0\x1c", max_size=5),
    ),
    max_size=12,
).map("".join)


@given(fragment=FRAGMENT)
def test_the_quick_html_reduction_equals_strip_html(fragment: str) -> None:
    """The fast path's regex reduction of markup gives exactly what strip_html gives."""
    assert _strip_simple_html(fragment) == strip_html(fragment)


URL_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["http://", "https://", "HTTP://", "//", "/", "?", "#", "?#", ";", "["]),
        st.sampled_from(["]", "news.test", "a", "..", "./", ":8080", "@", "%20", "&", "=", "\\"]),
        st.text(alphabet=" \t\n\x00\x7fé한", max_size=2),
    ),
    max_size=8,
).map("".join)


@given(value=URL_TEXT.map(lambda rest: "https://" + rest) | URL_TEXT)
def test_the_link_shortcut_gives_what_urljoin_gives(value: str) -> None:
    """Plain absolute links skip urljoin; every link still comes out as _link makes it, against
    an http, an https and an unparseable base."""
    for base in (URL, "https://news.test/a/feed.xml", "http://[::1/feed"):
        assert _linker(base)(value) == _link(value, base)


TAGS = st.lists(
    st.sampled_from(
        [
            "<link>",
            "<link/>",
            "<links>",
            "<guid ",
            "<id>",
            "<idx>",
            "<guid/>",
            "<<id>",
            "x",
            " ",
            "<content/>",
            "<content:encoded>",
            "<content:encodedx",
            "<pubDate>",
            "<dc:date ",
            "<published>",
            "<updated/>",
            "<issued>",
            "<modified>",
            "<created>",
            "<updatedx>",
        ]
    ),
    max_size=30,
).map(lambda tags: "".join(tags).encode())


@given(body=TAGS)
def test_tags_are_counted_as_by_one_expression_each(body: bytes) -> None:
    """The one-pass count of links, ids, dates and contents equals each tag's own count."""
    assert _tag_counts(body) == tuple(
        len(re.findall(pattern, body))
        for pattern in (
            rb"<link[\s>/]",
            rb"<(?:guid|id)[\s>]",
            rb"<(?:pubDate|published|updated|dc:date|issued|modified|created)[\s>]",
            rb"<content(?::encoded)?[\s>/]",
        )
    )
