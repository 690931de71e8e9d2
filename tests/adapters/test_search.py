"""Search narrows with SQLite FTS5 and the matcher decides: it finds exactly what alerts would."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from monitor.app.replay import query_condition, replay, search
from monitor.core.model import Article, Match, Settings, Source
from monitor.core.pipeline import Decision
from monitor.core.query import Matcher, compile_query
from monitor.core.stories import article_keys
from monitor.store.history import export_rows, record_replayed
from monitor.store.repository import Store
from monitor.store.schema import articles
from monitor.store.search import catch_up, has_index, newest_first, oldest_first
from tests.support.history import store_poll

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TERMS = {
    "south_korea": ("South Korea*", "Seoul", "한국", "韩国"),
    "china": ("China", "Beijing", "중국", "中国"),
}
TITLES = [
    "Seoul and Beijing cut tariffs on chips",
    "South Korean exporters brace for tariffs",
    "Trump's tariffs hit Trump-Putin talks",
    "Kim Jong Un inspects missile base",
    "Kim Jong-un watches a launch",
    "Café culture in Seoul",
    "Cafeteria prices rise",
    "북한이 탄도미사일을 발사했다",
    "북극 탐사선 발사",
    "한국과 중국, 무역 협정 체결",
    "中韩国际合作",
    "韩 국",
    "日本と中国の貿易",
    "Japan and China discuss trade",
    "K팝 스타 공연",
    "Deal or no deal on trade",
    "A trade deal is near",
    "Nothing to see here",
]
QUERIES = [
    "tariff*",
    "trump",
    '"kim jong un"',
    '"trade deal"',
    "cafe",
    "미사일",
    "발사 -미사일",
    "@south_korea AND @china",
    "@south_korea AND (trade OR 무역 OR tariff*)",
    "中",
    "韩国",
    "국",
    "k팝",
    "NOT trade",
    "trade OR -deal",
    "deal* AND -trade",
    "title:tariff*",
    "summary:monday AND trade",
    '"trade deal"~2',
    "tariff* NEAR/3 chips",
    "ATLEAST/2 trump",
    "{Seoul}",
    "/tarif+s/ AND seoul",
    "source:wire AND trade",
    "content:resolution*",
    "launch* AND 미사일",
    "summary:resolutions",
]
# Full text, beside the summary, for two of the titles.
CONTENT = {
    7: "<p>Seoul said the <b>launch</b> broke UN resolutions.</p>",
    9: "양국은 반도체 수출 규제도 논의했다.",
}


def _article(index: int, title: str) -> Article:
    return Article(
        source="wire" if index % 2 else "other",
        key=f"k{index}",
        url=f"http://news.test/{index}",
        title=title,
        summary="Reported on Monday." if index % 3 else "",
        content=CONTENT.get(index, ""),
        published=NOW - timedelta(days=index),
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store holding every title in TITLES, from two sources, one fetched per hour."""
    s = Store.open(db_url)
    s.sync_sources(
        [
            Source(name=n, url=f"http://news.test/{n}", interval=timedelta(hours=1))
            for n in ("wire", "other")
        ],
        NOW,
    )
    claimed = {c.name: c.id for c in s.claim_sources("me", NOW, lease=timedelta(hours=1), limit=2)}
    for index, title in enumerate(TITLES):
        article = _article(index, title)
        when = NOW - timedelta(hours=len(TITLES) - index)
        store_poll(s, claimed[article.source], [(article, [])], when=when)
    yield s
    s.close()


def test_search_finds_exactly_what_the_matcher_matches(store: Store) -> None:
    """For every rule, narrowed by the index or not, search returns exactly the stored articles
    the matcher matches, newest first."""
    indexed = catch_up(store.engine)
    assert indexed == (len(TITLES) if has_index(store.engine) else 0)
    settings = Settings(database="", terms=TERMS)
    for query in QUERIES:
        matcher = Matcher([("q", compile_query(query, TERMS))])
        articles = [_article(i, t) for i, t in enumerate(TITLES)]
        expected = [a.title for a in reversed(articles) if matcher.match(a)]
        candidates = newest_first(
            store.engine, condition=query_condition(query, settings), since=None, source=None
        )
        found = [hit.stored.article.title for hit in search(candidates, matcher, limit=100)]
        assert found == expected, query


def test_search_window_and_source(store: Store) -> None:
    """--since and --source keep to their window and source; the index catches up once."""
    catch_up(store.engine)
    assert catch_up(store.engine) == 0
    matcher = Matcher([("q", compile_query("tariff* OR trade", TERMS))])
    settings = Settings(database="", terms=TERMS)
    condition = query_condition("tariff* OR trade", settings)
    recent = newest_first(
        store.engine, condition=condition, since=NOW - timedelta(hours=6), source=None
    )
    assert [h.stored.article.title for h in search(recent, matcher, limit=10)] == [
        "A trade deal is near",
        "Deal or no deal on trade",
        "Japan and China discuss trade",
    ]
    wire = newest_first(store.engine, condition=condition, since=None, source="wire")
    assert {h.stored.article.source for h in search(wire, matcher, limit=10)} == {"wire"}


def test_replay_counts_and_notify_records_each_match_once(store: Store) -> None:
    """Replay counts by watch, day and source; recording twice adds no second alert."""
    matcher = Matcher([("tariffs", compile_query("tariff*", TERMS))])
    report = replay(oldest_first(store.engine, since=None, source=None), matcher, keep=True)
    assert report.scanned == len(TITLES)
    assert report.by_watch == {"tariffs": 3}
    assert sum(report.by_day.values()) == 3
    first = report.samples[0].stored.article
    assert first.title == "Seoul and Beijing cut tariffs on chips"
    routes = {"tariffs": ("console",)}
    assert record_replayed(store.engine, report.found, routes, now=NOW) == 3
    assert record_replayed(store.engine, report.found, routes, now=NOW) == 0
    assert len(store.list_alerts()) == 3
    assert report.found[0][1].hits  # the explanation is stored with the match


def test_replay_notify_alerts_once_per_story(store: Store) -> None:
    """Replayed matches on two copies of one story queue one alert per channel for the story,
    a second replay queues none, and every match is stored."""
    matcher = Matcher([("tariffs", compile_query("tariff*", TERMS))])
    stored = list(oldest_first(store.engine, since=None, source=None))
    ids = [s.id for s in stored if matcher.match(s.article)]
    assert len(ids) == 3
    with store.engine.begin() as conn:  # the first two are copies of one story
        conn.execute(update(articles).where(articles.c.id == ids[1]).values(story_id=ids[0]))
    report = replay(stored, matcher, keep=True)
    routes = {"tariffs": ("console", "mail")}
    assert record_replayed(store.engine, report.found, routes, now=NOW) == 4
    assert record_replayed(store.engine, report.found, routes, now=NOW) == 0
    assert sorted(a.channel for a in store.list_alerts()) == ["console", "console", "mail", "mail"]
    assert len(list(export_rows(store.engine, "matches"))) == 3


def test_replay_counts_every_hit_and_explains_its_samples_as_alerts_would(store: Store) -> None:
    """Replay counts every match the daemon's matcher makes, and its samples and kept hits
    carry the same explanation an alert would."""
    rules = [
        ("tariffs", "tariff*"),
        ("korea", "@south_korea"),
        ("launch", "발사 OR launch"),
        ("trade", "trade NEAR/2 deal OR 무역"),
    ]
    matcher = Matcher((name, compile_query(q, TERMS)) for name, q in rules)
    stored = list(oldest_first(store.engine, since=None, source=None))
    expected = {s.id: matcher.match(s.article) for s in stored}
    steps: list[int] = []
    report = replay(stored, matcher, sample=1, keep=True, progress=steps.append)
    assert report.found == [(id_, m) for id_, found in expected.items() for m in found]
    firsts: dict[str, tuple[int, Match]] = {}
    for id_, found in expected.items():
        for m in found:
            firsts.setdefault(m.watch, (id_, m))
    assert [(r.stored.id, r.match) for r in report.samples] == list(firsts.values())
    assert report.by_watch == Counter(m.watch for _, m in report.found)
    assert report.hits == sum(report.by_source.values()) == len(report.found) > len(firsts)
    assert all(m.hits for _, m in report.found)
    assert sum(steps) == len(TITLES)


def test_an_edited_article_is_found_by_its_new_words(store: Store) -> None:
    """Search finds an article by words an edit added after it was indexed, and no longer
    by words a later edit removed."""
    catch_up(store.engine)
    [stored] = [
        s
        for s in oldest_first(store.engine, since=None, source=None)
        if s.article.title == "Nothing to see here"
    ]
    with store.engine.connect() as conn:
        source_id = conn.execute(
            select(articles.c.source_id).where(articles.c.id == stored.id)
        ).scalar_one()

    def edit(content: str) -> None:
        edited = replace(stored.article, content=content)
        decision = Decision(article=edited, keys=article_keys(edited), updates=stored.id)
        store_poll(store, source_id, [decision], when=NOW)  # type: ignore[list-item]

    def found(query: str) -> list[str]:
        matcher = Matcher([("q", compile_query(query, TERMS))])
        condition = query_condition(query, Settings(database="", terms=TERMS))
        candidates = newest_first(store.engine, condition=condition, since=None, source=None)
        return [h.stored.article.title for h in search(candidates, matcher, limit=5)]

    edit("Sanctions were lifted overnight.")
    assert catch_up(store.engine) == (1 if has_index(store.engine) else 0)
    assert found("sanction*") == found("content:overnight") == ["Nothing to see here"]
    edit("Sanctions stay.")
    catch_up(store.engine)
    assert (found("sanction*"), found("content:overnight")) == (["Nothing to see here"], [])


# SQLite only: the index job keeps the FTS5 index, which PostgreSQL does not have.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_daemon_keeps_the_index_up_to_date(store: Store, db_url: str) -> None:
    """The daemon's index job indexes what a bounded pass left, so a search has nothing to add."""
    from monitor.app.daemon import Monitor

    assert catch_up(store.engine, at_most=5) == 5
    async with Monitor(Settings(database=db_url), clock=lambda: NOW) as monitor:
        await monitor.indexer.tick()
    assert catch_up(store.engine) == 0
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM article_search").scalar() == len(TITLES)
