"""Article pages: entries whose feed text is short are matched again on their linked page.

A new or edited entry that needs its page (`fetch.full_text`, per source too) is matched on its
feed text as before, and what that finds alerts at once; it is also stored with a wait, in the
poll's own transaction. Its page is then fetched like a feed (same egress guard, redirects,
deadline and `per_host` slots, `page_max_bytes`), robots.txt allowing, and read by trafilatura
in a parser worker. When the text comes within `fetch.full_text_wait`, the entry is matched on
it and the watches only the text matches alert; a page that fails (error, robots, paywall) or
comes too late ends the wait with the feed's matches alone. The waits live in the database, so
a restart picks them up: those past due end at once, the others are fetched again. Pages are
shared by their link's identity form and their canonical URL, so sources that link one article
fetch it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from monitor.core.errors import FetchError
from monitor.core.fulltext import NEVER, wants_page
from monitor.core.model import Match
from monitor.core.pipeline import Decision
from monitor.core.stories.identity import CONTENT_CHARS, clip
from monitor.core.stories.urls import identity_url
from monitor.sources.articles import Page
from monitor.sources.guard import display_url
from monitor.sources.http import FetchResult, fetch, make_client
from monitor.sources.robots import ROBOTS_MAX_BYTES, Robots
from monitor.store.pages import Wait, hold

if TYPE_CHECKING:
    import httpx

    from monitor.app.wiring import Parts
    from monitor.core.model import FetchSettings
    from monitor.sources.parsing import ParserPool
    from monitor.store.polls import PollBatch
    from monitor.store.repository import Store

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(seconds=5)
# A page read lately serves the other sources that link it; kept briefly, as it may be edited.
KEEP_PAGES = timedelta(minutes=10)
MAX_KEPT = 500  # pages of some 10 KB of text each
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageResult:
    """A page's text, or why there is none (`kind`, as FetchError kinds, and a message)."""

    page: Page | None = None
    kind: str = "fetched"
    message: str | None = None


class PageWork:
    """Holds entries for their pages, fetches and reads the pages, and matches the entries."""

    def __init__(
        self,
        *,
        store: Store,
        parser: ParserPool,
        host_slot: Callable[[str], asyncio.Semaphore],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.parser = parser
        self.host_slot = host_slot
        self.clock = clock
        self.fetches = 0
        self._client: httpx.AsyncClient | None = None
        self._settings: FetchSettings | None = None
        self._retired: list[httpx.AsyncClient] = []
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._inflight: dict[str, asyncio.Task[PageResult]] = {}
        self._kept: dict[str, tuple[datetime, PageResult]] = {}
        self._swept_at: datetime | None = None
        self._started_at = clock()
        self._fetching: asyncio.Semaphore | None = None
        self.robots: Robots | None = None

    def use(self, parts: Parts) -> None:
        """Work with these parts from now on."""
        self.config = parts.poll
        self.stories = parts.stories
        fetch_settings = parts.settings.fetch
        self.modes = {
            s.name: s.full_text or fetch_settings.full_text for s in parts.settings.sources
        }
        if fetch_settings != self._settings:
            if self._client is not None:
                self._retired.append(self._client)
            self._settings = fetch_settings
            # Page links come from feed content: never onto private networks (threat T2),
            # whatever a source is allowed; `allow_addresses` still holds.
            self._client = make_client(fetch_settings, allow_private=False)
            # Pages wait here, not in the client's pool, where their fetch deadline would run.
            self._fetching = asyncio.Semaphore(fetch_settings.concurrency)
            self.robots = Robots(
                self._robots_txt, agent=fetch_settings.user_agent, clock=self.clock
            )

    @property
    def fetch_settings(self) -> FetchSettings:
        assert self._settings is not None  # set by use()
        return self._settings

    def hold(
        self, source: str, decisions: Sequence[Decision]
    ) -> tuple[list[Decision], list[tuple[str, str, Sequence[str]]]]:
        """The decisions, and the waits to record: (article key, page URL, watches kept quiet,
        those the feed's text matched among them)."""
        mode = self.modes.get(source, self.fetch_settings.full_text)
        if mode == NEVER:
            return list(decisions), []
        out: list[Decision] = []
        waits: list[tuple[str, str, Sequence[str]]] = []
        for d in decisions:
            url = d.article.origin or d.article.url  # the publisher's page, not a redirect
            if d.quiet or url is None or not wants_page(d.article, mode, self.min_words):
                out.append(d)
                continue
            out.append(d)
            waits.append((d.article.key, url, sorted(d.held | {m.watch for m in d.matches})))
        return out, waits

    @property
    def min_words(self) -> int:
        return self.fetch_settings.full_text_min_words

    def record(
        self, tx: PollBatch, source_id: int, waits: Sequence[tuple[str, str, Sequence[str]]]
    ) -> list[Wait]:
        """Write the waits in the poll's transaction."""
        now = self.clock()
        due = now + self.fetch_settings.full_text_wait
        return hold(tx.conn, source_id, waits, due_at=due, now=now)

    def start(self, waits: Sequence[Wait]) -> None:
        """Fetch the pages of these committed waits."""
        for wait in waits:
            if wait.article_id not in self._tasks:
                task = asyncio.create_task(self._resolve(wait))
                self._tasks[wait.article_id] = task
                task.add_done_callback(partial(self._resolved, wait.article_id))

    def _resolved(self, article_id: int, _: asyncio.Task[None]) -> None:
        self._tasks.pop(article_id, None)

    async def tick(self, *, force: bool = False) -> None:
        """Take up the waits no task of this process holds: those made before it started (a
        restart), and any past due (another daemon sharing the database stopped)."""
        now = self.clock()
        if not force and self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        # Waits made since this process started are another live daemon's until they are due.
        made_before = self._started_at + self.fetch_settings.full_text_wait
        waiting = await asyncio.to_thread(self.store.pages.waiting)
        self.start(
            [
                w
                for w in waiting
                if w.article_id not in self._tasks and (w.due_at <= made_before or w.due_at <= now)
            ]
        )

    async def settle(self) -> None:
        """Wait until every wait is finished (each within its deadline)."""
        await self.tick(force=True)
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def aclose(self, grace: float = 5.0) -> None:
        """Stop: waits not finished within `grace` seconds stay stored for the next start."""
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks.values()), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for reading in list(self._inflight.values()):
            reading.cancel()
        for client in [*self._retired, *([self._client] if self._client else [])]:
            await client.aclose()

    async def _resolve(self, wait: Wait) -> None:
        left = (wait.due_at - self.clock()).total_seconds()
        result = PageResult(kind="wait", message="the page did not come in time")
        if left > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    result = await asyncio.shield(self.read(wait.url))
        await self._finish(wait, result)

    async def _finish(self, wait: Wait, result: PageResult) -> None:
        article = await asyncio.to_thread(self.store.pages.article, wait.article_id)
        if article is None:
            return
        page = result.page
        text = clip(page.text, CONTENT_CHARS) if page is not None else None
        matches: list[Match] = []
        if page is not None and text is not None:
            # Without the page, the feed's text was matched when it was polled: nothing to add.
            article = replace(article, content=text, lang=page.lang or article.lang)
            # An aggregator's link hides the publisher; the page names it for later reports.
            self.stories.alias(wait.article_id, page.url)
            matches = [m for m in self.config.matcher.match(article) if m.watch not in wait.quiet]
        alerts = await asyncio.to_thread(
            self.store.pages.finish,
            wait,
            text=text,
            lang=page.lang if page is not None else None,
            matches=matches,
            routes=self.config.routes,
            outcome=result.kind,
            message=result.message,
            now=self.clock(),
        )
        if page is None:
            log.info(
                "%s: page %s: %s: %s; matched on the feed's text",
                wait.source,
                display_url(wait.url),
                result.kind,
                result.message,
            )
        if alerts:
            log.info("%s: %d alert(s) after reading %s", wait.source, alerts, display_url(wait.url))

    async def read(self, url: str) -> PageResult:
        """The text of the page at `url`, read once however many ask at a time."""
        key = identity_url(url)
        kept = self._kept.get(key)
        if kept is not None and kept[0] > self.clock():
            return kept[1]
        task = self._inflight.get(key)
        if task is None:
            task = self._inflight[key] = asyncio.create_task(self._read(url))
            task.add_done_callback(partial(self._done, key))
        return await task

    def _done(self, key: str, task: asyncio.Task[PageResult]) -> None:
        self._inflight.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        result = task.result()
        until = self.clock() + KEEP_PAGES
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
        self._kept[key] = (until, result)
        if result.page is not None:
            self._kept[identity_url(result.page.url)] = (until, result)

    async def _read(self, url: str) -> PageResult:
        settings = self.fetch_settings
        assert self._fetching is not None  # set by use()
        # At most `fetch.concurrency` pages from the fetch through the extraction, so bodies
        # waiting for a parser worker stay few; the host's slot is held for the fetch only.
        try:
            async with self._fetching:
                async with self.host_slot(url):
                    if settings.obey_robots and not await self._allowed(url):
                        return PageResult(kind="robots", message="robots.txt disallows this page")
                    assert self._client is not None  # set by use()
                    self.fetches += 1
                    result = await fetch(
                        self._client,
                        url,
                        max_bytes=settings.page_max_bytes,
                        timeout=settings.timeout.total_seconds(),
                        max_redirects=settings.max_redirects,
                    )
                content_type = result.headers.get("content-type", "")
                if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
                    return PageResult(kind="not_html", message=f"the page is {content_type}")
                page = await self.parser.extract(
                    result.body, url=result.url, content_type=content_type
                )
        except FetchError as exc:
            return PageResult(kind=exc.kind, message=exc.message)
        return PageResult(page=page)

    async def _allowed(self, url: str) -> bool:
        assert self.robots is not None  # set by use()
        return await self.robots.allowed(url)

    async def _robots_txt(self, url: str) -> FetchResult:
        assert self._client is not None  # set by use()
        return await fetch(
            self._client,
            url,
            max_bytes=ROBOTS_MAX_BYTES,
            timeout=self.fetch_settings.timeout.total_seconds(),
            max_redirects=self.fetch_settings.max_redirects,
        )
