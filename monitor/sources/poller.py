"""Polling one source end to end: fetch, parse, decide, and commit it all in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor import failpoints
from monitor.errors import FetchError
from monitor.model import FetchSettings, StorySettings
from monitor.pipeline import ArticleMatcher, Decision, failure_backoff, plan
from monitor.sources.feeds import parse_feed
from monitor.sources.http import Clients, fetch
from monitor.stories import StoryIndex, article_keys, identify

if TYPE_CHECKING:
    from monitor.store.records import ClaimedSource
    from monitor.store.repository import Store

log = logging.getLogger(__name__)
_EVICT_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class PollOutcome:
    """What one poll of one source did."""

    source: str
    ok: bool
    new_articles: int = 0
    alerts: int = 0
    updated: int = 0
    backfill: int = 0
    not_modified: bool = False
    baseline: bool = False
    error: str | None = None


class Poller:
    """Polls claimed sources; the HTTP client, store, matcher and clock are handed in."""

    def __init__(
        self,
        *,
        store: Store,
        clients: Clients,
        settings: FetchSettings,
        matcher: ArticleMatcher,
        routes: Mapping[str, Sequence[str]],
        owner: str,
        clock: Callable[[], datetime],
        stories: StorySettings | None = None,
        followups: Mapping[str, int] | None = None,
    ) -> None:
        self.store = store
        self.clients = clients
        self.settings = settings
        self.matcher = matcher
        self.routes = routes
        self.owner = owner
        self.clock = clock
        self.stories = StoryIndex(stories or StorySettings())
        self.followups = dict(followups or {})
        # Placing articles in stories and committing them is one step per poll, so that
        # concurrent polls of two outlets carrying one story see each other's articles.
        self._placing = asyncio.Lock()
        self._evicted_at: datetime | None = None

    async def poll(self, source: ClaimedSource) -> PollOutcome:
        """Poll one source and record the outcome; never raises for a bad source."""
        try:
            return await self._poll(source)
        except FetchError as exc:
            return await self._failed(source, exc.kind, exc.message)
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("unexpected error polling %s", source.name)
            return await self._failed(source, "internal", f"{type(exc).__name__}: {exc}")

    async def _poll(self, source: ClaimedSource) -> PollOutcome:
        result = await fetch(
            self.clients.for_source(source.name),
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            max_bytes=self.settings.max_bytes,
            timeout=self.settings.timeout.total_seconds(),
            max_redirects=self.settings.max_redirects,
        )
        title: str | None = None
        found: list[Decision] = []
        backfill = 0
        if result.status != 304:
            parsed = await asyncio.to_thread(
                parse_feed, result.body, url=result.url, headers=result.headers
            )
            if parsed.warning:
                log.info("%s: feed has problems but was read: %s", source.name, parsed.warning)
            title = parsed.title or None
            articles = [identify(e, source.name) for e in parsed.entries]
            known = await asyncio.to_thread(
                self.store.known_articles, source.id, [article_keys(a) for a in articles]
            )
            planned = plan(
                articles,
                known=known,
                baseline=not source.baseline_done,
                now=self.clock(),
                max_age=self.settings.max_age,
                matcher=self.matcher,
                last_success=source.last_success_at,
            )
            found, backfill = planned.decisions, planned.backfill
        if backfill:
            log.warning(
                "%s: %d entries dated before the last poll appeared at once (an archive "
                "re-announced, or every guid rewritten): stored without alerts",
                source.name,
                backfill,
            )
        async with self._placing:
            now = self.clock()
            found = await asyncio.to_thread(self._place, found, now)
            record = await asyncio.to_thread(
                self.store.record_poll,
                source.id,
                owner=self.owner,
                found=found,
                routes=self.routes,
                now=now,
                next_poll_at=now + source.interval,
                etag=result.etag,
                last_modified=result.last_modified,
                title=title,
                followups=self.followups,
                backfill=backfill,
            )
            self.stories.load(record.stored)
        if record.alerts:
            failpoints.hit("after-enqueue")
        baseline = not source.baseline_done and result.status != 304
        if record.new_articles or record.alerts or record.updated:
            log.info(
                "%s: %d new article(s), %d edited, %d alert(s)%s",
                source.name,
                record.new_articles,
                record.updated,
                record.alerts,
                " (first poll: baseline, nothing sent)" if baseline else "",
            )
        return PollOutcome(
            source=source.name,
            ok=True,
            new_articles=record.new_articles,
            alerts=record.alerts,
            updated=record.updated,
            backfill=backfill,
            not_modified=result.status == 304,
            baseline=baseline,
        )

    def _place(self, found: list[Decision], now: datetime) -> list[Decision]:
        """The decisions with new articles placed in stories, the index first brought up to
        date with what this and other processes stored since."""
        index = self.stories
        if index.mode == "off" or not found:
            return found
        index.load(self.store.story_items(after_id=index.last_id, since=now - index.window))
        if self._evicted_at is None or now - self._evicted_at > _EVICT_EVERY:
            index.evict(now - index.window)
            self._evicted_at = now
        fresh = [i for i, d in enumerate(found) if d.updates is None]
        batch = [(found[i].article, found[i].article.published or now) for i in fresh]
        placed = list(found)
        # A placement's `joins` counts among the new articles, as the store does.
        for i, placement in zip(fresh, index.place(batch), strict=True):
            placed[i] = replace(found[i], placement=placement)
        return placed

    async def _failed(self, source: ClaimedSource, kind: str, message: str) -> PollOutcome:
        now = self.clock()
        failures = source.consecutive_failures + 1
        wait = failure_backoff(source.interval, failures)
        log.warning(
            "%s: %s: %s (failure %d, next try in %ds)",
            source.name,
            kind,
            message,
            failures,
            int(wait.total_seconds()),
        )
        await asyncio.to_thread(
            self.store.record_failure,
            source.id,
            kind=kind,
            message=message,
            now=now,
            next_poll_at=now + wait,
        )
        return PollOutcome(source=source.name, ok=False, error=f"{kind}: {message}")
