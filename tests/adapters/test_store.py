"""The store contract, run on a SQLite file and on PostgreSQL alike."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from monitor.core.errors import StoreError, StoreLockedError
from monitor.core.model import Article, Hit, Match, Source
from monitor.core.pipeline import Decision
from monitor.core.records import ClaimedSource, PollRecord
from monitor.core.stories import article_keys
from monitor.store.database import (
    STATEMENTS_KEPT,
    DaemonLock,
    _alembic_config,
    head_revision,
    make_engine,
    migrate,
    sqlite_path,
)
from monitor.store.history import export_rows
from monitor.store.repository import Store
from monitor.store.search import oldest_first
from tests.support.store import known_keys, pending_count, record_failure, record_poll

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _source(name: str = "wire", url: str = "http://127.0.0.1:1/feed.xml") -> Source:
    return Source(name=name, url=url, interval=timedelta(minutes=5))


def _article(key: str, title: str = "A title") -> Article:
    return Article(
        source="wire",
        key=key,
        url=f"http://127.0.0.1:1/{key}",
        title=title,
        summary="summary",
        published=T0,
    )


def _claim_one(store: Store, now: datetime = T0) -> ClaimedSource:
    [claimed] = store.claim_sources("me", now, lease=HOUR, limit=10)
    return claimed


def _poll(
    store: Store,
    source_id: int,
    found: Sequence[tuple[Article, Sequence[Match]]],
    *,
    routes: Mapping[str, Sequence[str]] | None = None,
    now: datetime = T0,
) -> PollRecord:
    return record_poll(
        store,
        source_id,
        found=found,
        routes=routes or {},
        now=now,
        next_poll_at=now + timedelta(minutes=5),
        etag='"v1"',
        last_modified=None,
        title="Wire",
    )


def test_migrations_build_exactly_the_declared_schema(db_url: str) -> None:
    """Applying the Alembic revisions yields the tables schema.py declares, nothing missing."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from monitor.store.schema import metadata

    migrate(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"sources", "articles", "matches", "outbox", "alembic_version"} <= tables


def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    """Opening an up-to-date database migrates nothing and keeps the data."""
    s = Store.open(db_url)
    s.sync_sources([_source()], T0)
    s.close()
    s = Store.open(db_url)
    assert [r.name for r in s.list_sources()] == ["wire"]
    s.close()


def test_database_from_a_newer_version_is_refused(db_url: str) -> None:
    """A schema revision this code does not know means a newer newsmonitor wrote it."""
    migrate(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer version"):
        migrate(db_url)


def test_times_come_back_aware_utc(store: Store) -> None:
    """Times written with any offset read back as the same instant in UTC."""
    kst = datetime(2026, 11, 28, 21, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Seoul")
    )
    store.sync_sources([_source()], kst)
    [row] = store.list_sources()
    assert row.next_poll_at == datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    assert row.next_poll_at.tzinfo is UTC


def test_naive_datetimes_are_rejected(store: Store) -> None:
    """A naive datetime is a bug, not a guess about the time zone."""
    with pytest.raises(Exception, match="naive datetime"):
        store.sync_sources([_source()], datetime(2026, 1, 1))


def test_claim_leases_due_sources_once(store: Store) -> None:
    """A due source is claimed once; a second claimer gets nothing until the lease ends."""
    store.sync_sources([_source("a"), _source("b")], T0)
    first = store.claim_sources("one", T0, lease=HOUR, limit=10)
    assert sorted(c.name for c in first) == ["a", "b"]
    assert store.claim_sources("two", T0, lease=HOUR, limit=10) == []
    later = store.claim_sources("two", T0 + 2 * HOUR, lease=HOUR, limit=10)
    assert sorted(c.name for c in later) == ["a", "b"]


def test_claims_from_threads_never_overlap(store: Store) -> None:
    """Four claimers racing over 200 due sources each get a disjoint share."""
    store.sync_sources([_source(f"s{i:03}") for i in range(200)], T0)
    got: list[list[str]] = [[] for _ in range(4)]

    def claimer(i: int) -> None:
        while batch := store.claim_sources(f"w{i}", T0, lease=HOUR, limit=7):
            got[i].extend(c.name for c in batch)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = [n for share in got for n in share]
    assert len(names) == 200
    assert len(set(names)) == 200


def test_record_poll_stores_new_articles_matches_and_outbox_together(store: Store) -> None:
    """A poll commits its articles, their matches and one outbox row per channel."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    found = [
        (
            _article("guid:1", "Seoul and Beijing sign trade deal"),
            [Match(watch="trade", terms=("Seoul", "Beijing", "trade"))],
        ),
        (_article("guid:2", "Weather"), []),
    ]
    rec = _poll(store, src.id, found, routes={"trade": ("slack", "mail")})
    assert (rec.new_articles, rec.alerts) == (2, 2)
    alerts = store.list_alerts()
    assert sorted(a.channel for a in alerts) == ["mail", "slack"]
    assert {a.alert.terms for a in alerts} == {("Seoul", "Beijing", "trade")}
    assert all(a.status == "pending" for a in alerts)
    [row] = store.list_sources()
    assert (row.articles, row.title, row.consecutive_failures) == (2, "Wire", 0)


def test_an_article_is_stored_and_alerted_once(store: Store) -> None:
    """The same key in a later poll is neither stored again nor alerted again."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    found = [(_article("guid:1"), [Match(watch="w", terms=("x",))])]
    assert _poll(store, src.id, found, routes={"w": ("c",)}).alerts == 1
    assert known_keys(store, src.id, ["guid:1", "guid:2"]) == {"guid:1"}
    assert _poll(store, src.id, found, routes={"w": ("c",)}).alerts == 0
    assert len(store.list_alerts()) == 1


def test_an_alert_keeps_why_its_watch_fired(store: Store) -> None:
    """The clauses, fields and snippets of a match come back with the alert."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    hits = (Hit(clause="@dprk (DPRK)", field="title", snippet="«DPRK» fires missile"),)
    found = [(_article("guid:1"), [Match(watch="w", terms=("DPRK",), hits=hits)])]
    _poll(store, src.id, found, routes={"w": ("c",)})
    [alert] = store.list_alerts()
    assert alert.alert.hits == hits


def test_failure_is_recorded_and_counted(store: Store) -> None:
    """Failed polls keep the error, count up, and a success resets the count."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    record_failure(store, src.id, kind="http", message="HTTP 503", now=T0, next_poll_at=T0 + HOUR)
    record_failure(store, src.id, kind="timeout", message="slow", now=T0, next_poll_at=T0 + HOUR)
    [row] = store.list_sources()
    assert (row.consecutive_failures, row.last_error_kind, row.last_error) == (2, "timeout", "slow")
    assert store.claim_sources("me", T0, lease=HOUR, limit=10) == []
    src = _claim_one(store, T0 + HOUR)
    _poll(store, src.id, [], now=T0 + HOUR)
    [row] = store.list_sources()
    assert (row.consecutive_failures, row.last_error) == (0, None)


def test_changed_url_takes_a_new_baseline(store: Store) -> None:
    """A source whose URL changes is polled as new: baseline again, validators dropped."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    _poll(store, src.id, [])
    store.sync_sources([_source(url="http://127.0.0.1:1/other.xml")], T0)
    src = _claim_one(store)
    assert (src.baseline_done, src.etag, src.url) == (False, None, "http://127.0.0.1:1/other.xml")


def test_removed_sources_are_deactivated_not_deleted(store: Store) -> None:
    """A source dropped from the config stops being polled but keeps its history."""
    store.sync_sources([_source("a"), _source("b")], T0)
    store.sync_sources([_source("a")], T0)
    assert [c.name for c in store.claim_sources("me", T0, lease=HOUR, limit=10)] == ["a"]
    assert {(r.name, r.active) for r in store.list_sources()} == {("a", True), ("b", False)}


def _one_alert(store: Store) -> None:
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    _poll(
        store,
        src.id,
        [(_article("guid:1"), [Match(watch="w", terms=("x",))])],
        routes={"w": ("c",)},
    )


def test_delivery_lifecycle_retry_then_sent(store: Store) -> None:
    """A claimed row is leased, a retry waits for its time, a success is final."""
    _one_alert(store)
    [d] = store.claim_deliveries("me", T0, lease=HOUR, limit=10)
    assert (d.alert.watch, d.channel, d.alert.source, d.alert.terms) == ("w", "c", "wire", ("x",))
    assert store.claim_deliveries("other", T0, lease=HOUR, limit=10) == []
    store.mark_retry(d.id, owner="me", error="HTTP 500", next_attempt_at=T0 + HOUR)
    assert store.claim_deliveries("me", T0, lease=HOUR, limit=10) == []
    assert pending_count(store) == 1
    [d] = store.claim_deliveries("me", T0 + HOUR, lease=HOUR, limit=10)
    assert d.attempts == 1
    store.mark_sent(d.id, owner="me", now=T0 + HOUR)
    [a] = store.list_alerts()
    assert (a.status, a.attempts, a.sent_at, a.last_error) == ("sent", 2, T0 + HOUR, None)
    assert store.claim_deliveries("me", T0 + 9 * HOUR, lease=HOUR, limit=10) == []


def test_dead_letter_keeps_the_error(store: Store) -> None:
    """A dead row stays visible with its last error and is never claimed again."""
    _one_alert(store)
    [d] = store.claim_deliveries("me", T0, lease=HOUR, limit=10)
    store.mark_dead(d.id, owner="me", error="HTTP 404")
    [a] = store.list_alerts()
    assert (a.status, a.last_error) == ("dead", "HTTP 404")
    assert store.claim_deliveries("me", T0 + 9 * HOUR, lease=HOUR, limit=10) == []


def test_a_lost_lease_cannot_overwrite_the_new_owner(store: Store) -> None:
    """After a lease expires and another process claims the row, the old owner's mark is void."""
    _one_alert(store)
    [old] = store.claim_deliveries("old", T0, lease=HOUR, limit=10)
    [new] = store.claim_deliveries("new", T0 + 2 * HOUR, lease=HOUR, limit=10)
    store.mark_dead(old.id, owner="old", error="late")
    store.mark_sent(new.id, owner="new", now=T0 + 2 * HOUR)
    [a] = store.list_alerts()
    assert a.status == "sent"


def test_released_leases_are_claimable_at_once(store: Store) -> None:
    """Leases handed back at shutdown make the work claimable without waiting."""
    _one_alert(store)
    store.claim_deliveries("me", T0, lease=HOUR, limit=10)
    store.release_leases("me")
    assert len(store.claim_deliveries("next", T0, lease=HOUR, limit=10)) == 1


# SQLite only: these are SQLite's pragmas; PostgreSQL has no equivalent to check.
def test_sqlite_runs_wal_with_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    """Every SQLite connection gets WAL, foreign keys, a busy timeout and full sync."""
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        got = [
            conn.exec_driver_sql(f"PRAGMA {p}").scalar()
            for p in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        ]
    engine.dispose()
    assert got == ["wal", 1, 10000, 2]


# SQLite only: the daemon lock is a file beside a SQLite database; PostgreSQL needs none.
def test_second_daemon_lock_is_refused(sqlite_url: str) -> None:
    """Only one process may hold a SQLite database; the second is told who has it."""
    path = sqlite_path(sqlite_url)
    assert path is not None
    first, second = DaemonLock(path), DaemonLock(path)
    first.acquire()
    try:
        with pytest.raises(StoreLockedError, match=r"pid \d+"):
            second.acquire()
    finally:
        first.release()
    second.acquire()
    second.release()


def test_an_articles_full_text_is_stored_and_follows_its_edits(store: Store) -> None:
    """The content of an article is stored beside its summary, read back for search, replay
    and export, and replaced when the article is edited."""
    store.sync_sources([_source()], T0)
    src = _claim_one(store)
    first = replace(_article("guid:1"), content="Full text about tariffs.")
    _poll(store, src.id, [(first, [])])
    [stored] = oldest_first(store.engine, since=None, source=None)
    assert stored.article.content == "Full text about tariffs."
    edited = replace(first, content="Full text about tariffs and chips.")
    edit = Decision(article=edited, keys=article_keys(edited), updates=stored.id)
    _poll(store, src.id, [edit])  # type: ignore[list-item]  # record_poll takes decisions too
    [again] = oldest_first(store.engine, since=None, source=None)
    assert again.article.content == "Full text about tariffs and chips."
    [row] = export_rows(store.engine, "articles")
    assert row["content"] == "Full text about tariffs and chips."


def test_the_newest_revision_is_the_one_alembic_knows() -> None:
    """migrate() tells a current database without alembic, by the migrations' file names."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    assert head_revision() == scripts.get_current_head()


def _sqlite_heap() -> Callable[[], int]:
    """Bytes SQLite has allocated in this process, read from the library Python's sqlite3 uses."""
    maps = Path("/proc/self/maps")
    paths = {line.split()[-1] for line in maps.read_text().splitlines() if "libsqlite3" in line}
    if not paths:
        pytest.skip("SQLite is linked into Python statically: its memory counters are out of reach")
    lib = ctypes.CDLL(paths.pop())
    current, high = ctypes.c_int64(), ctypes.c_int64()

    def used() -> int:
        lib.sqlite3_status64(0, ctypes.byref(current), ctypes.byref(high), 0)  # MEMORY_USED
        return current.value

    return used


# SQLite only: PostgreSQL prepares statements in the server, not in the daemon's heap.
def test_a_pooled_sqlite_connection_keeps_few_prepared_statements(sqlite_url: str) -> None:
    """Every length of an IN list is a statement of its own, and the daemon runs them for hours:
    a connection's cache of them fills and stays small."""
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    used = _sqlite_heap()

    def run_distinct(kinds: range) -> None:
        for k in kinds:  # statements of one size, each a new one
            conn.exec_driver_sql(
                f"SELECT * FROM sources WHERE id IN (?, ?) AND name <> '{k}'", (1, 2)
            )

    with engine.connect() as conn:
        run_distinct(range(STATEMENTS_KEPT))
        full = used()
        run_distinct(range(STATEMENTS_KEPT, 4 * STATEMENTS_KEPT))
        grown = used() - full
    engine.dispose()
    # With sqlite3's default cache of 128 the 96 new statements stay: 1.5 MB.
    assert grown < 50_000, f"SQLite's heap grew {grown} bytes"
