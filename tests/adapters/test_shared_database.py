"""Several daemons on one database: migrations in turn, poll leases short and renewed."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.app.heartbeat import POLL_LEASE, Heartbeat
from monitor.core.model import Source
from monitor.store.database import migrate
from monitor.store.repository import Store
from monitor.store.schema import sources

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_migrations_started_together_all_succeed(pg_url: str) -> None:
    """Four processes migrate an empty database at once: none fails, one schema results."""
    # Processes, as daemons are: alembic's context is global to a process.
    pool = ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("fork"))
    futures = [pool.submit(migrate, pg_url) for _ in range(4)]
    try:
        # Unserialized, concurrent CREATEs fail on PostgreSQL's catalog or wait on each other.
        errors = [f.exception(timeout=30) for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert errors == [None] * 4
    store = Store.open(pg_url)
    assert store.list_sources() == []
    store.close()


def _leases(store: Store) -> list[tuple[str | None, datetime | None]]:
    with store.engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(select(sources.c.lease_owner, sources.c.lease_until))
        ]


def test_poll_leases_are_short_and_renewed_only_for_their_holder(db_url: str) -> None:
    """A claimed source is free after POLL_LEASE unless its holder renews it."""
    store = Store.open(db_url)
    store.sync_sources(
        [
            Source(name=n, url=f"http://127.0.0.1:9/{n}", interval=timedelta(minutes=1))
            for n in "ab"
        ],
        T0,
    )
    assert len(store.claim_sources("one", T0, lease=POLL_LEASE, limit=1)) == 1
    [b] = store.claim_sources("two", T0, lease=POLL_LEASE, limit=1)
    later = T0 + POLL_LEASE + timedelta(seconds=1)
    store.beat("one", "here", later, lease_until=later + POLL_LEASE)
    assert store.claim_sources("three", later, lease=POLL_LEASE, limit=5)[0].id == b.id
    assert sorted(_leases(store), key=str) == sorted(
        [("one", later + POLL_LEASE), ("three", later + POLL_LEASE)], key=str
    )
    store.close()


async def test_the_heartbeat_renews_while_it_runs(sqlite_url: str) -> None:
    """The daemon's heartbeat keeps its leases ahead of the clock, and stops when told."""
    store = Store.open(sqlite_url)
    store.sync_sources(
        [Source(name="a", url="http://127.0.0.1:9/a", interval=timedelta(minutes=1))], T0
    )
    store.claim_sources("me", T0, lease=timedelta(seconds=1), limit=1)
    now = [T0 + timedelta(minutes=5)]
    beat = Heartbeat(store, "me", lambda: now[0], every=timedelta(seconds=0.05))
    beat.start()
    await asyncio.sleep(0.3)
    await beat.stop()
    assert _leases(store) == [("me", now[0] + POLL_LEASE)]
    assert store.last_beat() is None  # a stopped daemon's row is gone
    store.close()


@pytest.mark.postgres
def test_a_heartbeat_never_waits_on_a_source_row_another_transaction_holds(pg_url: str) -> None:
    """A poll committing one of the holder's sources locks its row; the heartbeat renews the
    others at once instead of queueing behind it (where, taking rows in another order than a
    commit, it was aborted as a deadlock)."""
    store = Store.open(pg_url)
    store.sync_sources(
        [
            Source(name=n, url=f"http://127.0.0.1:9/{n}", interval=timedelta(minutes=1))
            for n in "abc"
        ],
        T0,
    )
    claimed = store.claim_sources("one", T0, lease=POLL_LEASE, limit=3)
    busy = claimed[1].id
    later = T0 + timedelta(seconds=10)
    beat = threading.Thread(
        target=store.beat, args=("one", "here", later), kwargs={"lease_until": later + POLL_LEASE}
    )
    with store.engine.connect() as committing:
        committing.execute(sources.update().where(sources.c.id == busy).values(etag="x"))
        beat.start()
        beat.join(timeout=5)
        waited = beat.is_alive()
        committing.rollback()
    beat.join()
    assert not waited
    with store.engine.connect() as conn:
        until = dict(conn.execute(select(sources.c.id, sources.c.lease_until)).all())
    assert [until[s.id] == later + POLL_LEASE for s in claimed] == [True, False, True]
    store.close()
