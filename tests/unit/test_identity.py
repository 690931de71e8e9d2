"""Identity of entries within a source: URL variants, guid churn, edits and backfill."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.model import Article, Entry, Match
from monitor.core.pipeline import BACKFILL_MIN, Known, Plan, plan
from monitor.core.stories import article_keys, canonical_url, identify, identity_url
from monitor.core.stories.identity import CONTENT_CHARS
from tests.support.stories import known

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEAD = "Seoul and Beijing agreed on Monday to phase out tariffs on chips and batteries by 2028."


class _Watches:
    """Matches a watch per word of the title that names one."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def match(self, article: Article) -> list[Match]:
        title = article.title.lower()
        return [Match(watch=n, terms=(n,)) for n in self.names if n in title]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("HTTPS://News.Example.COM:443/a/b/", "https://news.example.com/a/b"),
        (
            "https://news.example.com/a/b?utm_source=x&utm_medium=rss",
            "https://news.example.com/a/b",
        ),
        ("https://news.example.com/a/b?fbclid=1&gclid=2&id=7", "https://news.example.com/a/b?id=7"),
        ("https://news.example.com/a/b#comments", "https://news.example.com/a/b"),
        ("https://m.news.example.com/a/b", "https://news.example.com/a/b"),
        ("https://news.example.com/a/b/amp/", "https://news.example.com/a/b"),
        ("https://news.example.com/amp/a/b", "https://news.example.com/a/b"),
        ("https://news.example.com/a/b?outputType=amp", "https://news.example.com/a/b"),
        ("https://news.example.com/a/b.amp.html", "https://news.example.com/a/b.html"),
        ("http://news.example.com:8080/a", "http://news.example.com:8080/a"),
    ],
)
def test_canonical_url_drops_what_does_not_change_the_page(variant: str, expected: str) -> None:
    """Case, default ports, tracking parameters, fragments, AMP and mobile variants go."""
    assert canonical_url(variant) == expected


def test_canonical_url_keeps_meaningful_parameters_and_other_output_types() -> None:
    """A query that selects the page stays (sorted), and outputType other than amp stays."""
    assert canonical_url("https://x.test/p?b=2&a=1") == "https://x.test/p?a=1&b=2"
    assert canonical_url("https://x.test/p?outputType=json") == "https://x.test/p?outputType=json"


def test_identity_url_is_the_same_across_http_https_and_www() -> None:
    """http/https flips and a www. prefix give one identity."""
    assert identity_url("http://www.x.test/a/") == identity_url("https://x.test/a?utm_source=rss")


def _entry(guid: str | None, link: str | None, title: str = "Trade deal signed") -> Entry:
    return Entry(guid=guid, link=link, title=title, summary=LEAD, published=NOW)


def test_a_permalink_guid_is_keyed_by_its_identity_form() -> None:
    """A guid that is a URL keeps its key when it flips to https or gains tracking."""
    a = identify(_entry("http://x.test/1", None), "s")
    b = identify(_entry("https://x.test/1?utm_campaign=feed", None), "s")
    assert a.key == b.key == "guid:x.test/1"


def _plan(items: list[Article], stored: list[Known], **kw: object) -> list[tuple[str, int | None]]:
    out = plan(
        items,
        known=stored,
        baseline=False,
        now=NOW,
        max_age=timedelta(days=7),
        matcher=_Watches("trade", "chips"),
        **kw,  # type: ignore[arg-type]
    )
    return [(",".join(m.watch for m in d.matches), d.updates) for d in out.decisions]


def test_rewritten_guids_and_flipped_links_are_not_new() -> None:
    """Every guid rewritten and every link switched to https: nothing is new."""
    before = [
        identify(_entry(f"tag:old:{i}", f"http://x.test/{i}", f"Story {i}"), "s") for i in range(5)
    ]
    after = [
        identify(_entry(f"tag:new:{i}", f"https://x.test/{i}", f"Story {i}"), "s") for i in range(5)
    ]
    assert _plan(after, [known(a, id=i) for i, a in enumerate(before)]) == []


def test_new_guid_and_new_link_but_same_text_is_not_new() -> None:
    """An entry re-announced with another guid and link but the same title and lead is known."""
    old = identify(_entry("g1", "https://x.test/a"), "s")
    again = identify(_entry("g2", "https://x.test/moved/a"), "s")
    assert _plan([again], [known(old)]) == []


def test_a_retitled_article_alerts_only_watches_it_did_not_match_before() -> None:
    """An edit is the same article: watches that matched stay quiet, a newly matching one fires."""
    old = identify(_entry("g1", "https://x.test/a", "Trade deal signed"), "s")
    edited = identify(_entry("g1", "https://x.test/a", "Trade deal on chips signed"), "s")
    assert _plan([edited], [known(old, frozenset({"trade"}), id=9)]) == [("chips", 9)]
    same_watches = identify(_entry("g1", "https://x.test/a", "Trade deal finally signed"), "s")
    assert _plan([same_watches], [known(old, frozenset({"trade"}), id=9)]) == [("", 9)]


def test_an_edit_of_an_article_stored_without_alerting_stays_quiet() -> None:
    """A baseline article, or one a watch added later matches, stays quiet when edited, unless
    the edit makes a watch match that did not match the stored version."""
    old = identify(_entry("g1", "https://x.test/a", "Trade deal signed"), "s")
    stored = [known(old, id=9, previous=old)]
    retitled = identify(_entry("g1", "https://x.test/a", "Trade deal finally signed"), "s")
    assert _plan([retitled], stored) == [("", 9)]
    widened = identify(_entry("g1", "https://x.test/a", "Trade deal on chips signed"), "s")
    assert _plan([widened], stored) == [("chips", 9)]


def test_an_unchanged_entry_that_comes_back_is_skipped() -> None:
    """An entry that left the feed and returns unchanged is not new."""
    old = identify(_entry("g1", "https://x.test/a"), "s")
    assert _plan([old], [known(old)]) == []


def _plan_after(last_success: datetime, items: list[Article]) -> Plan:
    """The plan for a known source last polled successfully at `last_success`."""
    return plan(
        items,
        known=[],
        baseline=False,
        now=NOW,
        max_age=timedelta(days=7),
        matcher=_Watches("trade"),
        last_success=last_success,
    )


def test_an_archive_re_announcement_alerts_nothing_and_is_counted_once() -> None:
    """Many unseen entries dated before the last poll are backfill: stored, not alerted."""
    last = NOW - timedelta(hours=1)
    old = [
        Article(
            source="s",
            key=f"guid:{i}",
            url=None,
            title=f"Trade story {i}",
            summary=f"An older report number {i} from the archive of this outlet.",
            published=NOW - timedelta(days=3, minutes=i),
        )
        for i in range(BACKFILL_MIN)
    ]
    fresh = Article(
        source="s", key="guid:new", url=None, title="Trade news", summary="", published=NOW
    )
    out = _plan_after(last, [fresh, *old])
    assert out.backfill == BACKFILL_MIN
    assert [d.article.key for d in out.decisions if d.matches] == ["guid:new"]


def test_a_few_late_entries_are_not_backfill() -> None:
    """Fewer unseen old entries than the threshold, or many that are only hours late (a cached
    feed), still alert as usual."""
    last = NOW - timedelta(hours=1)
    late = [
        Article(
            source="s",
            key=f"guid:l{i}",
            url=None,
            title=f"Trade late {i}",
            summary="",
            published=NOW - timedelta(hours=2),
        )
        for i in range(BACKFILL_MIN)
    ]
    out = _plan_after(last, late[:1])
    assert out.backfill == 0 and out.decisions[0].matches
    out = _plan_after(last, late)
    assert out.backfill == 0 and all(d.matches for d in out.decisions)


def test_a_link_shared_by_several_guids_identifies_none_of_them() -> None:
    """Feeds that link every item to one page (or the front page) still get each item."""
    same_link = [
        identify(_entry(f"g{i}", "https://x.test/news", f"Item {i}"), "s") for i in range(3)
    ]
    assert len(_plan(same_link, [])) == 3
    front = identify(_entry("g9", "https://x.test/", "Front"), "s")
    assert article_keys(front).url_key is None
    stored = [known(a, id=i) for i, a in enumerate(same_link)]
    again = identify(_entry("g-new", "https://x.test/news", "Item new"), "s")
    assert _plan([again], stored) == [("", None)]  # a new article, not an edit of one of them


def test_a_very_long_content_is_clipped_at_a_word_before_matching() -> None:
    """Content beyond CONTENT_CHARS is cut at the last space, so matching and storage see the
    same bounded text; shorter content is kept as it came."""
    words = "tariff " * (CONTENT_CHARS // 7 + 10)
    article = identify(replace(_entry("g1", "https://x.test/a"), content=words), "s")
    assert len(article.content) <= CONTENT_CHARS
    assert article.content.endswith("tariff")
    short = identify(replace(_entry("g1", "https://x.test/a"), content="Full text."), "s")
    assert short.content == "Full text."
