"""The kinds of source in the config: each builds the URL that is polled, and a source naming
none or two of them, or a selector that is not CSS, is a `file:line` error."""

from __future__ import annotations

import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import PageRule

MAIN = "database: sqlite:///x.db\nsources:\n"


def _load(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(MAIN + textwrap.indent(textwrap.dedent(sources), "  "), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return info.value.problems


def test_search_sources_poll_the_engines_news_search_feeds(tmp_path: Path) -> None:
    """google_news and bing_news become the engines' RSS search URLs, in the edition asked."""
    path = _load(
        tmp_path,
        """\
        - {name: gn, google_news: '"South Korea" China trade', lang: en-US, country: US}
        - {name: gn-ko, google_news: 한중 무역, lang: ko}
        - {name: bn, bing_news: '"South Korea" China trade'}
        """,
    )
    gn, gn_ko, bn = load_settings(path).sources
    assert (gn.kind, bn.kind) == ("google_news", "bing_news")
    assert gn.url.startswith("https://news.google.com/rss/search?")
    assert parse_qs(urlsplit(gn.url).query) == {
        "q": ['"South Korea" China trade'],
        "hl": ["en-US"],
        "gl": ["US"],
        "ceid": ["US:en"],
    }
    assert parse_qs(urlsplit(gn_ko.url).query)["ceid"] == ["KR:ko"]
    assert bn.url.startswith("https://www.bing.com/news/search?")
    assert parse_qs(urlsplit(bn.url).query) == {
        "q": ['"South Korea" China trade'],
        "format": ["rss"],
    }


def test_sitemap_and_page_sources_keep_their_kind_and_selectors(tmp_path: Path) -> None:
    """A page source carries its selectors to the poller; a sitemap its URL."""
    path = _load(
        tmp_path,
        """\
        - {name: site-news, sitemap: "https://example.com/news-sitemap.xml"}
        - name: mofa-press
          page: {url: "https://example.go.kr/press/list.do", item: "table tbody tr",
                 title: "td.title a", link: "td.title a@href", date: "td.date"}
        """,
    )
    sitemap, page = load_settings(path).sources
    assert (sitemap.kind, sitemap.url) == ("sitemap", "https://example.com/news-sitemap.xml")
    assert page.kind == "page" and page.url == "https://example.go.kr/press/list.do"
    assert page.page == PageRule(
        item="table tbody tr", title="td.title a", link="td.title a@href", date="td.date"
    )


def test_a_source_needs_exactly_one_kind(tmp_path: Path) -> None:
    """None, or two, of url / google_news / bing_news / sitemap / page: an error at its line."""
    path = _load(
        tmp_path,
        """\
        - {name: a, url: "https://a.example/feed", sitemap: "https://a.example/s.xml"}
        - {name: b, interval: 5m}
        """,
    )
    kinds = "url, google_news, bing_news, sitemap, page"
    assert _problems(path) == [
        f"{path}:3: sources.0: a source needs exactly one of {kinds} (it has url, sitemap)",
        f"{path}:4: sources.1: a source needs exactly one of {kinds} (it has none of them)",
    ]


def test_bad_selectors_and_misplaced_options_are_errors_at_their_line(tmp_path: Path) -> None:
    """`newsmonitor check` (which loads the config) rejects a selector that is not CSS, an
    attribute that is not a name, and lang on a feed."""
    path = _load(
        tmp_path,
        """\
        - name: p
          page:
            url: "https://example.go.kr/list.do"
            item: "table >> tr"
            title: "td a@"
        - {name: f, url: "https://a.example/feed", lang: en}
        """,
    )
    found = _problems(path)
    assert found[0].startswith(f"{path}:6: sources.0.page.item: not a CSS selector")
    assert found[1] == f"{path}:7: sources.0.page.title: '' after @ is not an attribute name"
    assert found[2] == (
        f"{path}:8: sources.1: lang and country are options of google_news and bing_news only"
    )
