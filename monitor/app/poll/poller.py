"""Polling one source end to end: fetch, parse, decide, and commit it all in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.app import failpoints
from monitor.app.poll.commits import CommitQueue
from monitor.app.poll.identities import identities
from monitor.app.poll.kinds import SourceReader
from monitor.app.poll.pages import PageWork
from monitor.core import health, phrases
from monitor.core.errors import FetchError
from monitor.core.model import Notice
from monitor.core.pipeline import Decision, plan
from monitor.core.records import SuccessfulPoll
from monitor.core.schedule import (
    INTERVAL_FLOOR,
    cache_lifetime,
    failure_wait,
    next_interval,
    on_phase,
    publishing_gap,
)
from monitor.core.stories import identify
from monitor.sources.feeds import ParsedFeed
from monitor.sources.http import FetchResult, HTTPStatusError, fetch
from monitor.sources.parsing import ParserPool

if TYPE_CHECKING:
    from monitor.app.metrics import Metrics
    from monitor.app.wiring import Parts
    from monitor.core.records import ClaimedSource, PollRecord
    from monitor.core.stories.index import Prepared
    from monitor.store.pages import Wait
    from monitor.store.polls import PollBatch
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
    # No entry of the response had been seen before: items may have been missed.
    rolled_over: bool = False
    # Entries in the response, and those new or edited, which alone were read in full.
    entries: int = 0
    normalized: int = 0


class Poller:
    """Polls claimed sources; the HTTP client, store, matcher and clock are handed in."""

    def __init__(
        self,
        *,
        store: Store,
        parser: ParserPool,
        parts: Parts,
        owner: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.parser = parser
        self.owner = owner
        self.clock = clock
        self.pages = PageWork(store=store, parser=parser, host_slot=self._host_slot, clock=clock)
        self.use(parts)
        self._gaps: dict[str, timedelta | None] = {}
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._rolled: set[str] = set()
        # Polls commit in shared transactions, one batch at a time; each poll places its new
        # articles in stories inside the batch, so two outlets carrying one story in one batch
        # see each other's articles.
        self.commits = CommitQueue(store, begin=self._begin_batch)
        self._evicted_at: datetime | None = None
        self.reader = SourceReader(parser)
        self.metrics: Metrics | None = None  # the daemon's counters, when it keeps them

    def use(self, parts: Parts) -> None:
        """Poll with these parts from now on; polls in flight finish with the ones they had."""
        self.config = parts.poll
        self.clients = parts.clients
        self.stories = parts.stories
        self.pages.use(parts)

    async def poll(self, source: ClaimedSource) -> PollOutcome:
        """Poll one source and record the outcome; never raises for a bad source."""
        try:
            async with self._host_slot(source.url):
                return await self._poll(source)
        except FetchError as exc:
            retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
            if isinstance(exc, HTTPStatusError) and exc.status not in (429, 503):
                retry_after = None
            return await self._failed(source, exc.kind, exc.message, retry_after=retry_after)
        except Exception as exc:  # a bug must not stop the other sources
            log.exception("unexpected error polling %s", source.name)
            return await self._failed(source, "internal", f"{type(exc).__name__}: {exc}")

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        # One publisher's host gets at most `per_host` fetches at once, however many feeds it has.
        host = (urlsplit(url).hostname or "").lower()
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = asyncio.Semaphore(self.config.fetch.per_host)
        return slot

    def _next_wait(
        self, source: ClaimedSource, result: FetchResult, parsed: ParsedFeed | None, now: datetime
    ) -> timedelta:
        adaptive = source.name in self.config.adaptive
        if parsed is not None and adaptive:
            self._gaps[source.name] = publishing_gap((e.published for e in parsed.entries), now)
        hints = [cache_lifetime(result.headers, now), parsed.ttl if parsed else None]
        known = [h for h in hints if h is not None]
        hint = max(known) if known else None
        wait = next_interval(
            interval=source.interval,
            adaptive=adaptive,
            min_interval=self.config.fetch.min_interval,
            max_interval=self.config.fetch.max_interval,
            gap=self._gaps.get(source.name),
            hint=hint,
        )
        if hint is not None and hint >= wait:  # the publisher's "not sooner" stands as it is
            return wait
        shortest = self.config.fetch.min_interval if adaptive else INTERVAL_FLOOR
        return on_phase(source.name, now, wait, shortest)

    async def _poll(self, source: ClaimedSource) -> PollOutcome:
        client = self.clients.for_source(source.name)
        spec = self.config.kinds.get(source.name)
        # An unchanged sitemap index says nothing of its children: it is always read.
        conditional = spec is None or spec.kind != "sitemap"
        result = await fetch(
            client,
            source.resolved_url or source.url,
            etag=source.etag if conditional else None,
            last_modified=source.last_modified if conditional else None,
            max_bytes=self.config.fetch.max_bytes,
            timeout=self.config.fetch.timeout.total_seconds(),
            max_redirects=self.config.fetch.max_redirects,
        )
        title: str | None = None
        found: list[Decision] = []
        backfill = normalized = 0
        parsed: ParsedFeed | None = None
        rolled = False
        resolved = source.resolved_url
        waits: list[tuple[str, str, Sequence[str]]] = []
        prepared: list[Prepared] = []
        if result.status != 304:
            read = await self.reader.read(source, spec, result, client, self.config.fetch)
            parsed, result, resolved = read.parsed, read.result, read.resolved_url
            if parsed.warning:
                log.info("%s: feed has problems but was read: %s", source.name, parsed.warning)
            title = parsed.title or None
            articles = [identify(e, source.name) for e in parsed.entries]
            keys, known, normalized = await asyncio.to_thread(
                identities, self.store, source.id, articles
            )
            rolled = source.baseline_done and len(articles) >= 2 and not known
            planned = plan(
                articles,
                item_keys=keys,
                known=known,
                baseline=not source.baseline_done,
                now=self.clock(),
                max_age=self.config.fetch.max_age,
                matcher=self.config.matcher,
                last_success=source.last_success_at,
            )
            found, backfill = planned.decisions, planned.backfill
            found = await self.reader.with_origins(found, client, self.config.fetch)
            found, waits = self.pages.hold(source.name, found)
            prepared = await self._prepare(found)
        if resolved != source.resolved_url:
            await asyncio.to_thread(self.store.set_resolved_url, source.id, resolved)
        now = self.clock()
        next_poll_at = now + self._faster(self._next_wait(source, result, parsed, now), rolled)
        silent_after = self._silent_after(source, parsed)

        placed: list[Decision] = []

        def write(tx: PollBatch) -> PollRecord:
            placed[:] = self._place(found, prepared, now, tx)
            poll = SuccessfulPoll(
                source_id=source.id,
                found=placed,
                routes=self.config.routes,
                now=now,
                next_poll_at=next_poll_at,
                etag=result.etag,
                last_modified=result.last_modified,
                title=title,
                followups=self.config.followups,
                backfill=backfill,
                notify=self.config.operator_channels,
                recovered=health.recovered(source.name),
                silent_after=silent_after,
                silence=health.silent(source.name) if self.config.source_silence > 0 else None,
                story_modes=self.config.story_modes,
            )
            record = tx.record_poll(poll)
            self.stories.load(record.stored)
            held[:] = self.pages.record(tx, source.id, waits)  # a retried batch runs it again
            return record

        held: list[Wait] = []
        record = await self.commits.commit(write, weight=1 + len(found))
        self.pages.start(held)
        if self.metrics is not None:
            self.metrics.decisions(placed, baseline=not source.baseline_done)
        if record.alerts:
            failpoints.hit("after-enqueue")
        await self._note_rollover(source, rolled, len(found), now)
        if backfill:
            await self._note_backfill(source, backfill, now)
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
            rolled_over=rolled,
            entries=len(parsed.entries) if parsed else 0,
            normalized=normalized,
        )

    def _begin_batch(self) -> Callable[[], None]:
        last_id = self.stories.last_id
        return lambda: self.stories.rewind(last_id)

    async def _prepare(self, found: list[Decision]) -> list[Prepared]:
        """The story features of the new articles, computed by a parser worker: the process
        that places them one poll at a time does only what needs its index."""
        new = [d.article for d in found if d.updates is None]
        if not new or self.stories.mode == "off":
            return []
        try:
            return await self.parser.prepare(new, mode=self.stories.mode)
        except FetchError as exc:  # placed all the same, the features computed here
            log.warning("story features of %d new article(s): %s", len(new), exc.message)
            return []

    def _place(
        self, found: list[Decision], prepared: list[Prepared], now: datetime, tx: PollBatch
    ) -> list[Decision]:
        """The decisions with new articles placed in stories, the index first brought up to
        date with what this and other processes stored since; `prepared` holds the new
        articles' features when a worker computed them."""
        index = self.stories
        if index.mode == "off" or not any(d.updates is None for d in found):
            return found
        index.load(tx.story_items(after_id=index.last_id, since=now - index.window))
        if self._evicted_at is None or now - self._evicted_at > _EVICT_EVERY:
            index.evict(now - index.window)
            self._evicted_at = now
        fresh = [i for i, d in enumerate(found) if d.updates is None]
        batch = [(found[i].article, found[i].article.published or now) for i in fresh]
        placed = list(found)
        # A placement's `joins` counts among the new articles, as the store does.
        for i, placement in zip(fresh, index.place(batch, prepared), strict=True):
            placed[i] = replace(found[i], placement=placement)
        return placed

    def _silent_after(self, source: ClaimedSource, parsed: ParsedFeed | None) -> datetime | None:
        if parsed is None:  # 304: nothing new, so the deadline stands
            return source.silent_after
        return health.silent_after(
            (e.published for e in parsed.entries),
            factor=self.config.source_silence,
            interval=source.interval,
        )

    def _faster(self, wait: timedelta, rolled: bool) -> timedelta:
        # Entries may have scrolled out of the window unseen: come back sooner until the next
        # response overlaps what we know again.
        if not rolled:
            return wait
        return max(wait / 2, min(self.config.fetch.min_interval, wait))

    async def _note_backfill(self, source: ClaimedSource, count: int, now: datetime) -> None:
        log.warning(
            "%s: %d entries dated a day or more before the last poll appeared at once (an "
            "archive re-announced?): stored without alerts",
            source.name,
            count,
        )
        await self._tell_operator(
            Notice(
                kind="source-backfill",
                about=source.name,
                title=phrases.SOURCE_BACKFILL.format(source=source.name, count=count),
                body=phrases.SOURCE_BACKFILL_BODY.format(count=count),
            ),
            now,
        )

    async def _note_rollover(
        self, source: ClaimedSource, rolled: bool, count: int, now: datetime
    ) -> None:
        was = source.name in self._rolled
        if not rolled:
            self._rolled.discard(source.name)
            return
        self._rolled.add(source.name)
        log.warning(
            "%s: none of the %d entries was seen before: items published between polls may "
            "have been missed; polling it more often",
            source.name,
            count,
        )
        if was:
            return
        await self._tell_operator(
            Notice(
                kind="source-rolled-over",
                about=source.name,
                title=phrases.SOURCE_ROLLED.format(source=source.name),
                body=phrases.SOURCE_ROLLED_BODY.format(count=count),
            ),
            now,
        )

    async def aclose(self) -> None:
        """Wait for the polls' writes handed over so far to commit."""
        await self.commits.aclose()
        await self.pages.aclose()

    async def _tell_operator(self, notice: Notice, now: datetime) -> None:
        if self.config.operator_channels:
            await asyncio.to_thread(
                self.store.notices.enqueue, notice, channels=self.config.operator_channels, now=now
            )

    async def _failed(
        self, source: ClaimedSource, kind: str, message: str, *, retry_after: float | None = None
    ) -> PollOutcome:
        now = self.clock()
        failures = source.consecutive_failures + 1
        asked = timedelta(seconds=retry_after) if retry_after is not None else None
        wait = failure_wait(source.interval, failures, retry_after=asked)
        log.warning(
            "%s: %s: %s (failure %d, next try in %ds)",
            source.name,
            kind,
            message,
            failures,
            int(wait.total_seconds()),
        )
        failing = health.failing(source.name, failures, f"{kind}: {message}")
        told = await self.commits.commit(
            lambda tx: tx.record_failure(
                source.id,
                kind=kind,
                message=message,
                now=now,
                next_poll_at=now + wait,
                threshold=self.config.source_failures,
                notify=self.config.operator_channels,
                failing=failing,
            )
        )
        if told:
            log.warning("%s: reported to the operator as failing", source.name)
        return PollOutcome(source=source.name, ok=False, error=f"{kind}: {message}")
