"""Polls at scale: many sources' writes share transactions, and only new entries are read."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.app.daemon import Monitor
from monitor.app.poll.commits import CommitQueue
from monitor.core.errors import StoreError
from monitor.core.model import Channel, FetchSettings, Settings, Source, StorySettings, Watch
from monitor.core.schedule import INTERVAL_FLOOR, on_phase
from monitor.store.polls import PollBatch
from monitor.store.repository import Store
from tests.support.feed_server import FeedServer, rss
from tests.support.store import pending_count

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=10)
LEAD = "Officials in Seoul and Beijing said on Monday that the new measures take effect in 2027."


def entries(numbers: range, *, edited: int | None = None) -> bytes:
    return rss(
        [
            {
                "guid": f"e{i}",
                # The edit also stops the entry matching the watch, so only new entries alert.
                "title": f"Markets, part {i}" if i == edited else f"Tariffs on chips, part {i}",
                "description": f"<p>{LEAD} Item {i}.</p>",
                "link": f"https://news.test/{i}",
                "published": T0 - timedelta(minutes=i),
            }
            for i in reversed(numbers)
        ]
    )


def settings(url: str, server: FeedServer, count: int) -> Settings:
    return Settings(
        database=url,
        fetch=FetchSettings(allow_addresses=("127.0.0.1/32",), per_host=16),
        sources=tuple(
            Source(name=f"s{i}", url=server.url(f"/f{i}.xml"), interval=INTERVAL)
            for i in range(count)
        ),
        channels=(Channel(name="log", url="console://"),),
        watches=(Watch(name="chips", query="tariffs AND chips", notify=("log",)),),
        stories=StorySettings(mode="off"),
    )


async def test_a_round_of_304s_updates_every_source_in_few_transactions(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """When forty unchanged feeds answer 304, each source's last poll and next poll move on,
    and their writes share fewer transactions than there are sources."""
    count = 40
    for i in range(count):
        feed_server.set(f"/f{i}.xml", entries(range(3)))
    now = [T0]
    async with Monitor(settings(sqlite_url, feed_server, count), clock=lambda: now[0]) as monitor:
        await monitor.poll_all()
        now[0] = later = T0 + timedelta(minutes=30)
        before = monitor.poller.commits.transactions
        outcomes = await monitor.poll_all()
        transactions = monitor.poller.commits.transactions - before
        statuses = monitor.store.list_sources()
    assert sum(o.not_modified for o in outcomes) == count
    assert {s.last_polled_at for s in statuses} == {later}
    assert {s.name: s.next_poll_at for s in statuses} == {
        s.name: later + on_phase(s.name, later, INTERVAL, INTERVAL_FLOOR) for s in statuses
    }
    assert 1 <= transactions < count


async def test_only_new_and_edited_entries_are_read_in_full(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """A feed of 30 entries read again with 3 new and 1 edited has those 4 tokenized and
    looked up by text, not the 26 it had already; the same feed once more has none read."""
    feed_server.set("/f0.xml", entries(range(30)), etag=False)
    async with Monitor(settings(sqlite_url, feed_server, 1), clock=lambda: T0) as monitor:
        [first] = await monitor.poll_all()
        feed_server.set("/f0.xml", entries(range(3, 33), edited=10), etag=False)
        [second] = await monitor.poll_all()
        [third] = await monitor.poll_all()
        pending = pending_count(monitor.store)
    assert (first.entries, first.normalized, first.new_articles) == (30, 30, 30)
    assert (second.entries, second.normalized) == (30, 4)
    assert (second.new_articles, second.updated, second.alerts) == (3, 1, 3)
    assert (third.entries, third.normalized, third.new_articles, third.updated) == (30, 0, 0, 0)
    assert pending == 3


@pytest.mark.parametrize("size", [1, 5])
async def test_a_failed_write_fails_its_own_poll_only(store: Store, size: int) -> None:
    """When one poll's write fails inside a shared transaction, the batch rolls back (undoing
    its in-memory effects) and the other polls commit on their own; the failed one raises."""
    store.sync_sources(
        [Source(name=f"s{i}", url=f"https://n.test/{i}", interval=INTERVAL) for i in range(size)],
        T0,
    )
    claimed = store.claim_sources("me", T0, lease=INTERVAL, limit=size)
    undone: list[int] = []
    queue = CommitQueue(store, begin=lambda: lambda: undone.append(1))

    def fail(tx: PollBatch) -> bool:
        raise StoreError("disk full")

    def ok(source_id: int) -> object:
        return lambda tx: tx.record_failure(
            source_id, kind="http", message="HTTP 500", now=T0, next_poll_at=T0 + INTERVAL
        )

    results = await asyncio.gather(
        queue.commit(fail), *(queue.commit(ok(s.id)) for s in claimed), return_exceptions=True
    )
    await queue.aclose()
    assert isinstance(results[0], StoreError)
    assert results[1:] == [False] * size
    assert [s.consecutive_failures for s in store.list_sources()] == [1] * size
    assert len(undone) >= 1


async def test_an_edited_baseline_entry_alerts_nothing(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """An entry stored by the baseline poll, then edited in a way that still matches the
    watch, sends no alert: the watch matched the version that was there before."""
    feed_server.set("/f0.xml", entries(range(3)), etag=False)
    async with Monitor(settings(sqlite_url, feed_server, 1), clock=lambda: T0) as monitor:
        [first] = await monitor.poll_all()
        edited = entries(range(3)).replace(b"Item 1.", b"Item 1, updated.")
        feed_server.set("/f0.xml", edited, etag=False)
        [second] = await monitor.poll_all()
    assert (first.new_articles, first.alerts) == (3, 0)
    assert (second.updated, second.alerts) == (1, 0)


async def test_a_poll_that_ends_frees_its_slot_for_the_next_due_source(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """With one poll at a time and three sources due, one tick of the scheduler polls all
    three: each poll that ends claims the next due source instead of waiting for a tick."""
    for i in range(3):
        feed_server.set(f"/f{i}.xml", entries(range(2)))
    config = settings(sqlite_url, feed_server, 3)
    config = replace(config, fetch=replace(config.fetch, concurrency=1))
    async with Monitor(config, clock=lambda: T0) as monitor:
        await monitor._poll_tick()  # what the scheduler runs every second
        while monitor._tasks:
            await asyncio.wait(set(monitor._tasks))
        polled = [s.last_polled_at for s in monitor.store.list_sources()]
    assert polled == [T0] * 3
