"""A rolled-over window: no entry of a response seen before, so items may have been missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.app.daemon import Monitor
from monitor.app.poll.poller import PollOutcome
from monitor.core.model import Channel, FetchSettings, OperatorSettings, Settings, Source
from monitor.core.schedule import INTERVAL_FLOOR, on_phase
from tests.support.feed_server import FeedServer, rss
from tests.support.store import recent_notices

NOW = datetime.now(UTC).replace(microsecond=0)
INTERVAL = timedelta(minutes=10)


def items(*guids: str) -> bytes:
    return rss([{"guid": g, "title": f"Story {g}"} for g in guids])


async def test_a_window_with_nothing_known_is_noticed_and_polled_sooner(
    feed_server: FeedServer, sqlite_url: str
) -> None:
    """After a response that shares no entry with the last, the operator gets one notice and
    the source is polled at half its interval, until responses overlap again."""
    settings = Settings(
        database=sqlite_url,
        fetch=FetchSettings(allow_addresses=("127.0.0.1/32",), min_interval=timedelta(minutes=1)),
        sources=(Source(name="wire", url=feed_server.url("/feed.xml"), interval=INTERVAL),),
        channels=(Channel(name="ops", url="console://"),),
        operator=OperatorSettings(channels=("ops",)),
    )
    pages = [items("1", "2", "3"), items("4", "5", "6"), items("7", "8", "9"), items("9", "10")]
    outcomes: list[PollOutcome] = []
    waits = []
    async with Monitor(settings, clock=lambda: NOW) as monitor:
        for page in pages:
            feed_server.set("/feed.xml", page, etag=False)
            [outcome] = await monitor.poll_all()
            outcomes.append(outcome)
            [status] = monitor.store.list_sources()
            assert status.next_poll_at is not None
            waits.append(status.next_poll_at - NOW)
        notices = recent_notices(monitor.store)
    assert [o.rolled_over for o in outcomes] == [False, True, True, False]
    usual = on_phase("wire", NOW, INTERVAL, INTERVAL_FLOOR)  # the source's own phase
    assert waits == [usual, usual / 2, usual / 2, usual]
    assert [(n.kind, n.about) for n in notices] == [("source-rolled-over", "wire")]
