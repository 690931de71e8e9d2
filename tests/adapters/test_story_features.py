"""New articles' story features computed in a parser worker place them as the daemon would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.model import Article, StorySettings
from monitor.core.stories.index import StoryIndex
from monitor.sources.parsing import ParserPool

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
WIRE = (
    "South Korea and China signed a trade agreement in Beijing on Monday that cuts tariffs on "
    "semiconductors and electric-vehicle batteries, officials in Seoul said, after President "
    "Lee Jae-myung met Xi Jinping for two hours."
)
OWN = (
    "President Lee Jae-myung and Xi Jinping agreed in Beijing to cut tariffs on chips and "
    "batteries, a deal that Seoul says will lift exports; South Korea and China had "
    "negotiated since 2024."
)
ARTICLES = [
    Article(
        source="a", key="1", url="https://a.test/1", title="Korea, China sign deal", summary=WIRE
    ),
    Article(
        source="b", key="2", url="https://b.test/2", title="Lee and Xi cut tariffs", summary=OWN
    ),
    Article(
        source="c", key="3", url="https://c.test/3", title="Seoul deal", summary=f"<p>{WIRE}</p>"
    ),
]


@pytest.fixture
async def pool() -> AsyncIterator[ParserPool]:
    pool = ParserPool(workers=1, timeout=20, max_entries=100)
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.mark.parametrize("mode", ["events", "copies"])
async def test_a_workers_features_are_the_daemons(pool: ParserPool, mode: str) -> None:
    here = StoryIndex(StorySettings(mode=mode))
    there = await pool.prepare(ARTICLES, mode=mode)
    assert there == [here.prepare(a) for a in ARTICLES]
    assert (there[0].report is not None) == (mode == "events")


async def test_placed_with_a_workers_features_one_event_is_one_story(pool: ParserPool) -> None:
    """The copy joins by signature and the other outlet's own report by event features."""
    batch = [(a, T0 + timedelta(minutes=i)) for i, a in enumerate(ARTICLES)]
    prepared = await pool.prepare(ARTICLES, mode="events")
    placed = StoryIndex(StorySettings(mode="events")).place(batch, prepared)
    computed = StoryIndex(StorySettings(mode="events")).place(batch)
    assert [(p.story, p.joins, p.how) for p in placed] == [
        (None, None, "new"),
        (None, 0, "event"),
        (None, 0, "copy"),
    ]
    assert placed == computed


async def test_features_prepared_for_another_mode_are_prepared_again(pool: ParserPool) -> None:
    """A reload that turns `events` on between a poll's features and its placement."""
    batch = [(a, T0) for a in ARTICLES[:2]]
    stale = await pool.prepare(ARTICLES[:2], mode="copies")
    placed = StoryIndex(StorySettings(mode="events")).place(batch, stale)
    assert placed[1].how == "event"
