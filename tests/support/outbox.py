"""A store with alerts waiting in the outbox, for delivery tests that need no feed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from monitor.app.delivery import Deliverer
from monitor.core.model import Article, Channel, DeliverySettings, Hit, Match, Source, Watch
from monitor.core.pipeline import Decision
from monitor.core.stories import Placement, article_keys
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer
from monitor.store.repository import Store
from tests.support.store import record_poll

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class ZeroJitter(random.Random):
    """Full jitter at its lower bound: every retry is due as early as the rules allow."""

    def uniform(self, a: float, b: float) -> float:
        return a


def seed(
    store: Store,
    channels: Sequence[str],
    *,
    count: int = 1,
    watches: Sequence[str] = ("w",),
    title: str = "Seoul and Beijing sign trade deal",
    summary: str = "",
    url: str | None = None,
    hits: tuple[Hit, ...] = (),
    lang: str | None = None,
) -> None:
    """`count` articles from source "wire" matching `watches` (with `hits`), each routed to
    `channels`."""
    store.sync_sources(
        [Source(name="wire", url="http://127.0.0.1:1/", interval=timedelta(minutes=5))], T0
    )
    [src] = store.claim_sources("poller", T0, lease=timedelta(hours=1), limit=1)
    found = [
        (
            Article(
                source="wire",
                key=f"guid:{n}",
                url=url or f"http://news.test/{n}",
                title=title if count == 1 else f"{title} ({n})",
                summary=summary,
                published=T0,
                lang=lang,
            ),
            [Match(watch=watch, terms=("trade",), hits=hits) for watch in watches],
        )
        for n in range(count)
    ]
    record_poll(
        store,
        src.id,
        found=found,
        routes=dict.fromkeys(watches, tuple(channels)),
        now=T0,
        next_poll_at=T0,
        etag=None,
        last_modified=None,
        title=None,
    )


def paced(store: Store, clock: Clock, watch: Watch, channel: Channel) -> Deliverer:
    """A deliverer for one watch and one channel with their pacing, in Berlin time."""
    return Deliverer(
        store,
        ChannelSet([channel]),
        DeliverySettings(),
        owner="me",
        clock=clock,
        pacer=Pacer([watch], [channel], timezone="Europe/Berlin"),
    )


class Story:
    """One story carried by outlets o0, o1, … one poll each, matching watch "w"."""

    def __init__(
        self,
        store: Store,
        channels: Sequence[str],
        *,
        outlets: int = 3,
        follow_up_at: int | None = None,
        title: str = "Seoul and Beijing sign trade deal",
    ) -> None:
        self.store, self.channels, self.title = store, tuple(channels), title
        self.followups = {"w": follow_up_at} if follow_up_at else {}
        store.sync_sources(
            [
                Source(name=f"o{n}", url=f"http://127.0.0.1:1/{n}", interval=timedelta(minutes=5))
                for n in range(outlets)
            ],
            T0,
        )
        claimed = store.claim_sources("poller", T0, lease=timedelta(hours=1), limit=outlets)
        self.sources = {c.name: c.id for c in claimed}
        self.story_id: int | None = None

    def report(self, n: int) -> int:
        """Outlet `n` publishes the story; how many alerts that enqueued."""
        article = Article(
            source=f"o{n}",
            key=f"guid:o{n}",
            url=f"https://o{n}.test/deal",
            title=self.title,
            summary="",
            published=T0,
        )
        decision = Decision(
            article=article,
            keys=article_keys(article),
            matches=(Match(watch="w", terms=("trade",)),),
            placement=Placement(story=self.story_id),
        )
        record = record_poll(
            self.store,
            self.sources[f"o{n}"],
            found=[decision],
            routes={"w": self.channels},
            now=T0,
            next_poll_at=T0,
            etag=None,
            last_modified=None,
            title=None,
            followups=self.followups,
        )
        if self.story_id is None:
            self.story_id = record.stored[0].story_id
        return record.alerts
