"""Waits for article pages in the store, on SQLite and PostgreSQL: whoever ends one matches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.core.model import Article, Match, Source
from monitor.store.pages import Wait, hold
from monitor.store.repository import Store
from tests.support.store import pending_count, record_poll

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WATCH = Match(watch="trade", terms=("tariffs",))


def _stored_wait(store: Store) -> Wait:
    source = Source(name="wire", url="http://127.0.0.1:1/f.xml", interval=timedelta(minutes=5))
    store.sync_sources([source], T0)
    [claimed] = store.claim_sources("me", T0, lease=timedelta(hours=1), limit=1)
    article = Article(source="wire", key="a1", url="http://x.test/a1", title="Talks", summary="")
    record_poll(
        store,
        claimed.id,
        found=[(article, ())],
        routes={},
        now=T0,
        next_poll_at=T0 + timedelta(minutes=5),
        etag=None,
        last_modified=None,
        title="Wire",
    )
    with store.batch() as tx:
        [wait] = hold(tx.conn, claimed.id, [("a1", article.url or "", ["old"])], due_at=T0, now=T0)
    return wait


def test_a_wait_is_ended_once_and_its_text_kept(store: Store) -> None:
    """The first finisher stores the text, the match and one alert; a second (a late page, or
    another daemon) stores its text only, and alerts nothing."""
    wait = _stored_wait(store)
    assert store.pages.waiting() == [wait]
    assert wait.quiet == frozenset({"old"})
    routes = {"trade": ("hook",)}
    first = store.pages.finish(
        wait,
        text="Seoul cuts tariffs.",
        matches=[WATCH],
        routes=routes,
        outcome="fetched",
        message=None,
        now=T0,
    )
    second = store.pages.finish(
        wait,
        text="Seoul cuts tariffs again.",
        matches=[WATCH],
        routes=routes,
        outcome="wait",
        message="late",
        now=T0,
    )
    assert (first, second) == (1, None)
    assert pending_count(store) == 1
    assert store.pages.waiting() == []
    stored = store.pages.article(wait.article_id)
    assert stored is not None and stored.content == "Seoul cuts tariffs again."
    outcomes = store.pages.outcomes()["wire"]
    assert {k: v["count"] for k, v in outcomes.items()} == {"fetched": 1, "wait": 1}
    assert outcomes["wait"]["last_message"] == "late"
