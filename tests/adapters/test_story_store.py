"""Stories in the store: one alert per story, watch and channel; follow-ups; upgrades."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text

from monitor.core.model import Article, Match, Source
from monitor.core.pipeline import Decision
from monitor.core.records import PollRecord
from monitor.core.stories import Placement, article_keys
from monitor.store.database import _alembic_config, make_engine
from monitor.store.repository import Store
from monitor.store.search import oldest_first
from tests.support.store import record_poll, story_items

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WATCH = [Match(watch="w", terms=("deal",))]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.sync_sources(
        [
            Source(name=f"o{i}", url=f"http://127.0.0.1:1/{i}", interval=timedelta(minutes=5))
            for i in range(4)
        ],
        T0,
    )
    yield s
    s.close()


def _ids(store: Store) -> dict[str, int]:
    claimed = store.claim_sources("me", T0, lease=timedelta(hours=1), limit=10)
    return {c.name: c.id for c in claimed}


def _decision(source: str, story: int | None = None) -> Decision:
    article = Article(
        source=source, key=f"guid:{source}", url=None, title="Deal", summary="", published=T0
    )
    return Decision(
        article=article,
        keys=article_keys(article),
        matches=tuple(WATCH),
        placement=Placement(story=story),
    )


def _poll(
    store: Store,
    source_id: int,
    found: Sequence[Decision],
    followups: Mapping[str, int] | None = None,
) -> PollRecord:
    return record_poll(
        store,
        source_id,
        found=found,
        routes={"w": ("slack", "mail")},
        now=T0,
        next_poll_at=T0,
        etag=None,
        last_modified=None,
        title=None,
        followups=followups,
    )


def test_later_articles_of_a_story_attach_without_alerting(store: Store) -> None:
    """The first outlet alerts each channel; the others join the story and show as also
    reporting it."""
    ids = _ids(store)
    first = _poll(store, ids["o0"], [_decision("o0")])
    [root] = first.stored
    assert first.alerts == 2
    for name in ("o1", "o2"):
        assert _poll(store, ids[name], [_decision(name, story=root.story_id)]).alerts == 0
    alerts = store.list_alerts()
    assert len(alerts) == 2
    assert {a.alert.also_reported_by for a in alerts} == {("o1", "o2")}


def test_the_unique_key_guards_a_second_alert_for_one_story(store: Store) -> None:
    """Two rows for one (story, watch, channel) cannot both be stored."""
    ids = _ids(store)
    [root] = _poll(store, ids["o0"], [_decision("o0")]).stored
    with store.engine.begin() as conn:
        row = conn.execute(
            text("SELECT match_id, status, next_attempt_at, created_at FROM outbox")
        ).first()
        assert row is not None
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            conn.execute(
                text(
                    "INSERT INTO outbox (match_id, channel, status, attempts, next_attempt_at,"
                    " created_at, story_id, watch, stage) VALUES (:m, 'slack', 'pending', 0,"
                    " :t, :t, :s, 'w', 0)"
                ),
                {"m": row.match_id, "t": row.next_attempt_at, "s": root.story_id},
            )


def test_a_follow_up_fires_once_when_the_story_reaches_n_outlets(store: Store) -> None:
    """With follow_up_at 3, the third outlet adds one alert per channel, the fourth none."""
    ids = _ids(store)
    follow = {"w": 3}
    [root] = _poll(store, ids["o0"], [_decision("o0")], follow).stored
    assert _poll(store, ids["o1"], [_decision("o1", root.story_id)], follow).alerts == 0
    assert _poll(store, ids["o2"], [_decision("o2", root.story_id)], follow).alerts == 2
    assert _poll(store, ids["o3"], [_decision("o3", root.story_id)], follow).alerts == 0
    assert len(store.list_alerts()) == 4


def test_story_items_rebuild_the_index_from_stored_signatures(store: Store) -> None:
    """Stored articles come back with their story and signature, newer than a given id."""
    ids = _ids(store)
    d = _decision("o0")
    d = Decision(
        article=d.article, keys=d.keys, placement=Placement(signature=b"\x01\x00\x00\x00" * 128)
    )
    [root] = _poll(store, ids["o0"], [d]).stored
    [item] = story_items(store, after_id=0, since=T0 - timedelta(days=3))
    assert (item.article_id, item.story_id, item.source) == (root.article_id, root.article_id, "o0")
    assert item.signature == b"\x01\x00\x00\x00" * 128
    assert story_items(store, after_id=item.article_id, since=T0 - timedelta(days=3)) == []


def test_upgrading_keeps_old_articles_known_by_link(db_url: str) -> None:
    """An article stored before stories existed is found by its link key after the upgrade,
    its alerts take its story, and it reads as having no full text."""
    engine = make_engine(db_url, for_migrations=True)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO sources (id, name, url, active, baseline_done, interval_s,"
                " next_poll_at, consecutive_failures, created_at) VALUES"
                " (1, 'o0', 'http://127.0.0.1:1/', :yes, :yes, 300, :t, 0, :t)"
            ),
            {"t": T0.replace(tzinfo=None), "yes": True},
        )
        conn.execute(
            text(
                "INSERT INTO articles (id, source_id, key, url, title, summary, fetched_at)"
                " VALUES (5, 1, 'url:http://news.test/a', 'http://news.test/a', 'Old', '', :t)"
            ),
            {"t": T0.replace(tzinfo=None)},
        )
    engine.dispose()
    store = Store.open(db_url)
    try:
        again = Article(
            source="o0", key="url:news.test/a", url="https://news.test/a/", title="Old", summary=""
        )
        with store.lookup() as lookup:
            [known] = lookup.known(1, [article_keys(again)])
        assert known.id == 5
        [item] = story_items(store, after_id=0, since=T0 - timedelta(days=1))
        assert item.story_id == 5
        [stored] = oldest_first(store.engine, since=None, source=None)
        assert (stored.id, stored.article.content) == (5, "")
    finally:
        store.close()


# PostgreSQL only: SQLite has one writer, so its article ids cannot commit out of order.
@pytest.mark.postgres
def test_a_reader_of_new_ids_misses_no_article_committed_out_of_order(pg_url: str) -> None:
    """While one daemon's poll holds an article id it has not committed, another daemon's poll
    cannot commit a higher one, so a reader of ids above the last it saw misses neither."""
    store = Store.open(pg_url)
    try:
        store.sync_sources(
            [
                Source(name=n, url=f"http://127.0.0.1:1/{n}", interval=timedelta(minutes=5))
                for n in ("o0", "o1")
            ],
            T0,
        )
        ids = _ids(store)
        inserted, release = threading.Event(), threading.Event()
        second_pid: list[int] = []

        def pause_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # After the insert: the article id is taken, not committed.
            if threading.current_thread().name == "first" and "INSERT INTO articles" in statement:
                inserted.set()
                release.wait(10)

        def note_second(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if threading.current_thread().name == "second" and not second_pid:
                second_pid.append(cursor.connection.info.backend_pid)

        event.listen(store.engine, "after_cursor_execute", pause_first)
        event.listen(store.engine, "before_cursor_execute", note_second)
        first = threading.Thread(
            target=_poll, args=(store, ids["o0"], [_decision("o0")]), name="first"
        )
        second = threading.Thread(
            target=_poll, args=(store, ids["o1"], [_decision("o1")]), name="second"
        )
        first.start()
        assert inserted.wait(10)
        second.start()
        _wait(lambda: not second.is_alive() or _waiting(store, second_pid))
        since = T0 - timedelta(days=1)
        seen = story_items(store, after_id=0, since=since)
        last = max((i.article_id for i in seen), default=0)
        release.set()
        first.join(10)
        second.join(10)
        seen += story_items(store, after_id=last, since=since)
        assert sorted(i.source for i in seen) == ["o0", "o1"]
    finally:
        store.close()


def _waiting(store: Store, pids: list[int]) -> bool:
    """Whether the backend in `pids` waits for a lock."""
    if not pids:
        return False
    with store.engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
        return bool(conn.execute(query, {"pid": pids[0]}).scalar())


def _wait(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
