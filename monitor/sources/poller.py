"""Polling one source end to end: fetch, parse, decide, and commit it all in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor import failpoints
from monitor.errors import FetchError
from monitor.model import FetchSettings
from monitor.pipeline import ArticleMatcher, failure_backoff, identify, plan
from monitor.sources.http import Clients, fetch
from monitor.sources.parsing import ParserPool

if TYPE_CHECKING:
    from monitor.store.records import ClaimedSource
    from monitor.store.repository import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PollOutcome:
    """What one poll of one source did."""

    source: str
    ok: bool
    new_articles: int = 0
    alerts: int = 0
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
        parser: ParserPool,
        settings: FetchSettings,
        matcher: ArticleMatcher,
        routes: Mapping[str, Sequence[str]],
        owner: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.clients = clients
        self.parser = parser
        self.settings = settings
        self.matcher = matcher
        self.routes = routes
        self.owner = owner
        self.clock = clock

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
        found = []
        if result.status != 304:
            parsed = await self.parser.parse(result.body, url=result.url, headers=result.headers)
            if parsed.warning:
                log.info("%s: feed has problems but was read: %s", source.name, parsed.warning)
            title = parsed.title or None
            articles = [identify(e, source.name) for e in parsed.entries]
            known = await asyncio.to_thread(
                self.store.known_keys, source.id, [a.key for a in articles]
            )
            now = self.clock()
            found = plan(
                articles,
                known=known,
                baseline=not source.baseline_done,
                now=now,
                max_age=self.settings.max_age,
                matcher=self.matcher,
            )
        now = self.clock()
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
        )
        if record.alerts:
            failpoints.hit("after-enqueue")
        baseline = not source.baseline_done and result.status != 304
        if record.new_articles or record.alerts:
            log.info(
                "%s: %d new article(s), %d alert(s)%s",
                source.name,
                record.new_articles,
                record.alerts,
                " (first poll: baseline, nothing sent)" if baseline else "",
            )
        return PollOutcome(
            source=source.name,
            ok=True,
            new_articles=record.new_articles,
            alerts=record.alerts,
            not_modified=result.status == 304,
            baseline=baseline,
        )

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
