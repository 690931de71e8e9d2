"""Stories meet on the publisher's URL: two aggregators' items for one article are one story,
however differently they are titled and summed up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.core.model import Article, Entry, StorySettings
from monitor.core.stories import StoryItem, article_keys, identify
from monitor.core.stories.index import StoryIndex

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PUBLISHER = "https://www.reuters.com/world/asia/korea-china-tariffs-2026-12-07/?utm_source=x"


def _item(source: str, link: str, title: str, summary: str, origin: str) -> Article:
    entry = Entry(
        guid=None, link=link, title=title, summary=summary, outlet="Reuters", origin=origin
    )
    return identify(entry, source)


def _place(index: StoryIndex, article: Article, article_id: int) -> int:
    [p] = index.place([(article, NOW)])
    story = p.story if p.story is not None else article_id
    index.load(
        [
            StoryItem(
                article_id=article_id,
                story_id=story,
                source=article.source,
                when=NOW,
                title=article.title,
                lead=article.summary,
                signature=p.signature,
                url_key=article_keys(article).url_key,
            )
        ]
    )
    return story


GOOGLE = _item(
    "gn",
    "https://news.google.com/rss/articles/CBMiggFBVV95cUxPbDRsNmJqbmZ4?oc=5",
    "Seoul, Beijing agree tariff cuts",
    "",
    PUBLISHER,
)
BING = _item(
    "bn",
    "http://www.bing.com/news/apiclick.aspx?url=https%3a%2f%2fwww.reuters.com%2fworld",
    "South Korea and China agree to cut tariffs on chips and batteries",
    "SEOUL (Reuters) - The two governments said on Monday they would phase out duties.",
    PUBLISHER.replace("https://", "http://").split("?")[0],
)


def test_one_publisher_url_behind_two_aggregators_is_one_story() -> None:
    """Different titles, no shared lead, different redirect links: one story by the URL."""
    index = StoryIndex(StorySettings(mode="copies", window=timedelta(hours=72)))
    assert _place(index, GOOGLE, 1) == _place(index, BING, 2) == 1


def test_with_stories_off_the_same_url_is_still_two_stories() -> None:
    """`stories: off` groups nothing, the publisher's URL included."""
    index = StoryIndex(StorySettings(mode="off", window=timedelta(hours=72)))
    assert [_place(index, GOOGLE, 1), _place(index, BING, 2)] == [1, 2]


def test_the_aggregators_link_stays_the_articles_link() -> None:
    """The alert links where the item links; only identity uses the publisher's URL."""
    assert GOOGLE.url is not None and GOOGLE.url.startswith("https://news.google.com/")
    assert article_keys(GOOGLE).url_key == article_keys(BING).url_key


def test_a_pages_canonical_url_joins_later_reports_of_it_until_the_article_leaves() -> None:
    """An item whose link hides the publisher (a script redirect) is one story with a later
    report of that publisher's URL once its page named it canonical; evicted, the name goes."""
    hidden = replace(GOOGLE, origin=None)
    direct = _item("reuters", PUBLISHER, "Tariff cuts agreed", "", PUBLISHER)
    index = StoryIndex(StorySettings(mode="copies", window=timedelta(hours=72)))
    assert _place(index, hidden, 1) == 1
    index.alias(1, PUBLISHER.replace("https://www.", "http://"))
    assert _place(index, direct, 2) == 1
    index.evict(NOW + timedelta(days=1))
    assert len(index) == 0
    assert _place(index, replace(direct, title="Tariff cuts take effect"), 3) == 3
