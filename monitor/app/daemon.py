"""The running service: wiring config to store, poller and deliverer, on an APScheduler loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app import hangup
from monitor.app.delivery import Deliverer, DeliveryReport
from monitor.app.heap import HeapJob, settle
from monitor.app.heartbeat import POLL_LEASE, Heartbeat
from monitor.app.indexer import IndexJob
from monitor.app.logs import hide
from monitor.app.metrics import Metrics
from monitor.app.poll.poller import Poller, PollOutcome
from monitor.app.reload import Reloader
from monitor.app.retention import RetentionJob
from monitor.app.wiring import Parts, build, unrouted
from monitor.core.model import Settings
from monitor.core.records import ClaimedSource
from monitor.core.secrets import channel_secrets
from monitor.sources.http import Clients
from monitor.sources.parsing import ParserPool
from monitor.store.database import DaemonLock, sqlite_path
from monitor.store.repository import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
TICK_SECONDS = 1.0
SHUTDOWN_GRACE = 8.0


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


class Monitor:
    """One daemon's worth of work: poll sources, store what is new, deliver alerts.

    Use as an async context manager; `run_once` and `run_forever` are the two ways to drive it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        lock: bool = True,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        db_file = sqlite_path(settings.database)
        self._lock = DaemonLock(db_file) if lock and db_file is not None else None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._delivering: dict[str, asyncio.Task[DeliveryReport]] = {}
        self._deliver_again: set[str] = set()  # channels with alerts newer than their pass
        self._draining = False
        # Claims run one at a time, so that two never count the same free poll slot; after a
        # claim that filled every slot, sources may still be due, and a poll that ends claims
        # again instead of leaving its slot idle until the next tick.
        self._claiming = asyncio.Lock()
        self._more_due = False
        self._retired: list[tuple[float, Clients]] = []  # replaced by a reload, closed later
        self.reloader = Reloader(self)
        self.metrics = Metrics()
        self.reloader.on_reload = self.metrics.reloaded

    async def __aenter__(self) -> Monitor:
        self.heap = HeapJob()  # first: it caps the C heap arenas of the threads started below
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.store = await asyncio.to_thread(Store.open, self.settings.database)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        if self._lock is not None:
            # We are the only process on this file: leases left by a killed one are stale.
            await asyncio.to_thread(self.store.release_leases)
        await asyncio.to_thread(self.store.sync_sources, self.settings.sources, self.clock())
        fetch = self.settings.fetch
        self.parser = ParserPool(
            workers=fetch.parse_workers,
            timeout=fetch.parse_timeout.total_seconds(),
            max_entries=fetch.max_entries,
        )
        self.parts = build(self.settings)
        self.poller = Poller(
            store=self.store,
            parser=self.parser,
            parts=self.parts,
            owner=self.owner,
            clock=self.clock,
        )
        self.poller.metrics = self.metrics
        self.deliverer = Deliverer(
            self.store,
            self.parts.channels,
            self.settings.delivery,
            owner=self.owner,
            clock=self.clock,
        )
        self._use(self.parts)
        self.retention = RetentionJob(
            self.store.engine, lambda: self.settings.retention, self.clock
        )
        self.indexer = IndexJob(self.store.engine)
        await self.deliverer.bury_strays()
        self.heartbeat = Heartbeat(self.store, self.owner, self.clock)
        self.heartbeat.start()
        settle()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._drain()
        await self.poller.aclose()
        await self.parts.clients.aclose()
        await self.parser.aclose()
        await self._close_retired(everything=True)
        await self.heartbeat.stop()
        await asyncio.to_thread(self.store.release_leases, self.owner)
        self.store.close()
        if self._lock is not None:
            self._lock.release()

    async def reconfigure(self, new: Settings) -> None:
        """Swap in the parts of a new config; work in flight finishes on the ones it had."""
        hide(s for channel in new.channels for s in channel_secrets(channel.url, channel.secret))
        await asyncio.to_thread(self.store.sync_sources, new.sources, self.clock())
        self._use(build(new, self.parts))
        for warning in unrouted(self.parts):
            log.warning("%s", warning)
        settle()

    def _use(self, parts: Parts) -> None:
        if parts.clients is not self.parts.clients:
            # Polls in flight keep the old clients until their fetch deadline has passed.
            grace = parts.settings.fetch.timeout.total_seconds() * 2 + 60
            self._retired.append((time.monotonic() + grace, self.parts.clients))
        self.parts = parts
        self.settings = parts.settings
        self.poller.use(parts)
        self.deliverer.use(parts.delivery, parts.channels)

    async def _close_retired(self, *, everything: bool = False) -> None:
        now = time.monotonic()
        keep = []
        for expires, clients in self._retired:
            if everything or expires <= now:
                await clients.aclose()
            else:
                keep.append((expires, clients))
        self._retired = keep

    async def _reload_tick(self) -> None:
        await self._close_retired()
        await self.reloader.tick()

    def _lease(self) -> timedelta:
        # Short, and kept by the heartbeat while the poll runs (see app/heartbeat).
        return POLL_LEASE

    async def poll_all(self) -> list[PollOutcome]:
        """Poll every active source once, due or not, `fetch.concurrency` at a time."""
        claimed = await asyncio.to_thread(
            self.store.claim_sources,
            self.owner,
            self.clock(),
            lease=self._lease(),
            limit=max(1, len(self.settings.sources)),
            due_only=False,
        )
        limit = asyncio.Semaphore(self.settings.fetch.concurrency)

        async def bounded(src: ClaimedSource) -> PollOutcome:
            async with limit:
                return await self.poller.poll(src)

        return list(await asyncio.gather(*(bounded(s) for s in claimed)))

    async def run_once(self) -> tuple[list[PollOutcome], DeliveryReport]:
        """Poll every source once, then deliver everything that is due."""
        outcomes = await self.poll_all()
        await self.poller.pages.settle()  # entries waiting for their page match first
        report = await self.deliverer.deliver_due()
        return outcomes, report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll due sources and deliver due alerts every tick until `stop` is set."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs = (
            ("poll", self._poll_tick),
            ("deliver", self._deliver_tick),
            ("reload", self._reload_tick),
            ("retention", self.retention.tick),
            ("index", self.indexer.tick),
            ("pages", self.poller.pages.tick),
            ("heap", self.heap.tick),
        )
        for job_id, job in jobs:
            scheduler.add_job(
                job,
                "interval",
                seconds=TICK_SECONDS,
                # Sources fall due on fixed phases, and a poll tick claims what fell due since
                # any daemon's last claim. With ticks a fixed second apart, a daemon whose tick
                # came just after another's took a sliver of the sources for good; a tick that
                # lands at a new point each time evens out the shares of daemons on one database.
                jitter=TICK_SECONDS / 2 if job_id == "poll" else None,
                id=job_id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=self.clock(),
            )
        scheduler.start()
        log.info(
            "newsmonitor running: %d source(s), %d watch(es), channels on: %s",
            len(self.settings.sources),
            len(self.settings.watches),
            ", ".join(self.parts.channels.names()) or "none",
        )
        for warning in [*self.parts.channels.warnings, *unrouted(self.parts)]:
            log.warning("%s", warning)
        try:
            await stop.wait()
        finally:
            # The jobs only start tasks, so cancelling them loses nothing; the tasks are ours
            # to finish in __aexit__.
            scheduler.shutdown(wait=False)

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A database error here is retried on the next tick; say what happened.
            log.error("background work failed", exc_info=task.exception())

    async def _poll_tick(self) -> None:
        self.metrics.tick()
        async with self._claiming:
            delivering = set(self._delivering.values())
            me = asyncio.current_task()  # a poll that claims again as it ends is not busy
            busy = sum(1 for t in self._tasks if t not in delivering and t is not me)
            free = self.settings.fetch.concurrency - busy
            if free <= 0 or self._draining:
                return
            claimed = await asyncio.to_thread(
                self.store.claim_sources, self.owner, self.clock(), lease=self._lease(), limit=free
            )
            self._more_due = len(claimed) == free
            for source in claimed:
                self._spawn(self._poll_and_deliver(source))

    async def _poll_and_deliver(self, source: ClaimedSource) -> None:
        started = time.monotonic()
        outcome = await self.poller.poll(source)
        self.metrics.poll(
            outcome=_outcome(outcome),
            seconds=time.monotonic() - started,
            new_articles=outcome.new_articles,
        )
        if outcome.alerts:
            await self._deliver_tick(fresh=True)  # don't wait for the next tick to send them
        if self._more_due:
            await self._poll_tick()

    async def _deliver_tick(self, *, fresh: bool = False) -> None:
        # One pass per channel at a time; a hung channel's pass never holds up the others.
        for name in self.parts.channels.names():
            running = self._delivering.get(name)
            if running is None or running.done():
                self._delivering[name] = self._spawn(self._deliver_channel(name))
            elif fresh and not self._draining:
                # A pass claims only rows due by its start: fresh alerts get the next pass at
                # once, rather than waiting for the tick after this one ends.
                self._deliver_again.add(name)

    async def _deliver_channel(self, name: str) -> DeliveryReport:
        total = DeliveryReport()
        while True:
            self._deliver_again.discard(name)
            report = await self.deliverer.deliver_channel(name)
            self.metrics.sent(name, sent=report.sent, retried=report.retried, dead=report.dead)
            total += report
            if name not in self._deliver_again or self._draining:
                return total

    async def _drain(self) -> None:
        self._draining = True
        self.deliverer.stop()
        if not self._tasks:
            return
        _, late = await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in late:
            task.cancel()
        if late:
            log.warning("stopped %d unfinished task(s); their leases will expire", len(late))
            await asyncio.wait(late, timeout=2)


def _outcome(outcome: PollOutcome) -> str:
    if not outcome.ok:
        return "error"
    if outcome.not_modified:
        return "not_modified"
    return "baseline" if outcome.baseline else "ok"


# Something run beside the scheduler for as long as the daemon runs (the web console): entered
# once the daemon has opened its store, left before the daemon closes it.
Beside = Callable[[Monitor], contextlib.AbstractAsyncContextManager[object]]


async def serve(
    settings: Settings, *, once: bool = False, beside: Beside | None = None
) -> tuple[list[PollOutcome], DeliveryReport] | None:
    """Run the daemon until SIGTERM or SIGINT (or one pass with `once`), with `beside`."""
    if once:
        async with Monitor(settings) as monitor:
            return await monitor.run_once()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            # A second signal means "now": leases and the outbox cover what is unfinished.
            log.warning("second signal: exiting without waiting for work in flight")
            os._exit(1)
        log.info("stopping: finishing work in flight (a second signal exits at once)")
        stop.set()

    monitor = Monitor(settings)
    # Installed before start and kept through the drain, so a signal at any point is ours.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    loop.add_signal_handler(signal.SIGHUP, monitor.reloader.request)
    if hangup.pending():
        monitor.reloader.request()
    try:
        async with monitor, contextlib.AsyncExitStack() as stack:
            if beside is not None:
                await stack.enter_async_context(beside(monitor))
            await monitor.run_forever(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    return None
