"""Live reload: a changed config file or SIGHUP swaps in the new config without a restart.

The daemon keeps its store, scheduler and work in flight; what the config decides (sources,
channels, watches, terms, fetch, delivery, pacing, story, retention and operator settings) is
rebuilt and swapped in between polls.
A config that does not load is logged as `file:line: ...` and the last good one stays in force.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from monitor.app.logs import hide
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Settings
from monitor.core.pipeline import ArticleMatcher, followups, routes
from monitor.core.secrets import url_secrets
from monitor.core.stories.index import StoryIndex
from monitor.notify.channels import ChannelSet, check_channel_url
from monitor.notify.pacing import Pacer
from monitor.sources.http import Clients

if TYPE_CHECKING:
    from monitor.app.daemon import Monitor

log = logging.getLogger(__name__)
Fingerprint = tuple[tuple[str, int, int, int] | None, ...]


def fingerprint(files: Iterable[str]) -> Fingerprint:
    """Modification stamps of the config files and of their directories.

    A directory's stamp changes when a file is added to or removed from it, so a new file that
    an `include:` glob would pick up is noticed without reading the main file again.
    """
    paths: dict[str, None] = {}
    for name in files:
        paths[name] = None
        paths[os.path.dirname(os.path.abspath(name))] = None
    stamps: list[tuple[str, int, int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            stamps.append(None)
        else:
            stamps.append((path, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


def _named_changes(label: str, old: Sequence[Any], new: Sequence[Any]) -> str | None:
    before = {item.name: item for item in old}
    after = {item.name: item for item in new}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(n for n in before.keys() & after.keys() if before[n] != after[n])
    parts = [f"+{n}" for n in added] + [f"-{n}" for n in removed] + [f"~{n}" for n in changed]
    return f"{label} {' '.join(parts)}" if parts else None


def describe(old: Settings, new: Settings) -> str:
    """What a reload changes, e.g. "sources +wire -old; watches ~korea; terms ~china"."""
    items = [
        _named_changes("sources", old.sources, new.sources),
        _named_changes("channels", old.channels, new.channels),
        _named_changes("watches", old.watches, new.watches),
    ]
    terms = sorted(
        name
        for name in old.terms.keys() | new.terms.keys()
        if old.terms.get(name) != new.terms.get(name)
    )
    if terms:
        items.append("terms " + " ".join(f"~{t}" for t in terms))
    for block in ("fetch", "delivery", "stories", "retention", "operator"):
        if getattr(old, block) != getattr(new, block):
            items.append(f"{block} settings")
    return "; ".join(item for item in items if item) or "nothing that takes effect"


def _parser_settings(settings: Settings) -> tuple[object, ...]:
    fetch = settings.fetch
    return (fetch.parse_workers, fetch.parse_timeout, fetch.max_entries)


class Reloader:
    """Watches the config files of one Monitor and applies a new config when they change.

    `tick` is run by the scheduler every second: it checks the files' stamps (cheap) and
    reloads when they moved and then held still for a tick, or at once when `request` (the
    SIGHUP handler) asked for it.
    """

    def __init__(
        self, monitor: Monitor, build_matcher: Callable[[Settings], ArticleMatcher]
    ) -> None:
        self.monitor = monitor
        self.build_matcher = build_matcher
        self._requested = False
        self._seen: Fingerprint = fingerprint(monitor.settings.files)
        self._settling: Fingerprint | None = None
        self._lock = asyncio.Lock()
        self._retired: list[tuple[float, Clients]] = []

    def request(self) -> None:
        """Reload at the next tick whether or not a file changed (what SIGHUP means)."""
        log.info("reload requested")
        self._requested = True

    async def tick(self) -> None:
        """Reload if a config file changed or a reload was requested."""
        if self._lock.locked():
            return
        async with self._lock:
            await self._close_retired()
            stamps = await asyncio.to_thread(fingerprint, self.monitor.settings.files)
            if not self._requested:
                if stamps == self._seen:
                    return
                if stamps != self._settling:
                    # Wait one tick for stamps to hold still, so a file half written by an
                    # editor is not read.
                    self._settling = stamps
                    return
            self._requested = False
            self._settling = None
            self._seen = stamps
            await self.reload()

    async def reload(self) -> bool:
        """Load the config again and apply it; False (and the old config kept) if it is invalid."""
        current = self.monitor.settings
        try:
            new = await asyncio.to_thread(
                load_settings, current.files[0], check_channel_url=check_channel_url
            )
        except ConfigError as exc:
            log.error(
                "config not reloaded, still running on the last good one: %d problem(s)",
                len(exc.problems),
            )
            for problem in exc.problems:
                log.error("%s", problem)
            return False
        # The files the new config reads may differ (an include added or dropped).
        self._seen = await asyncio.to_thread(fingerprint, new.files)
        if new.database != current.database:
            log.warning("the database setting changed: it takes effect at the next restart")
            new = dataclasses.replace(new, database=current.database)
        if _parser_settings(new) != _parser_settings(current):
            log.warning(
                "fetch.parse_workers, parse_timeout and max_entries take effect at the next restart"
            )
        if new == current:
            log.info("config reloaded: nothing changed")
            return True
        await self._apply(current, new)
        log.info("config reloaded: %s", describe(current, new))
        return True

    async def _apply(self, old: Settings, new: Settings) -> None:
        monitor = self.monitor
        hide(secret for channel in new.channels for secret in url_secrets(channel.url))
        await asyncio.to_thread(monitor.store.sync_sources, new.sources, monitor.clock())
        if new.channels != old.channels or new.delivery.timeout != old.delivery.timeout:
            # Sends in flight finish on the old set; the next delivery pass uses the new one.
            monitor.channels = ChannelSet(
                new.channels, send_timeout=new.delivery.timeout.total_seconds()
            )
            monitor.deliverer.channels = monitor.channels
        if new.fetch != old.fetch or new.sources != old.sources:
            # Polls in flight keep the old clients until their fetch deadline has passed.
            grace = new.fetch.timeout.total_seconds() * 2 + 60
            self._retired.append((time.monotonic() + grace, monitor.clients))
            monitor.clients = Clients(new.fetch, new.sources)
            monitor.poller.clients = monitor.clients
            monitor.poller.settings = new.fetch
        monitor.deliverer.settings = new.delivery
        monitor.deliverer.operator = new.operator
        monitor.deliverer.templates = {w.name: w.template for w in new.watches if w.template}
        monitor.deliverer.pacer = Pacer.of(new)
        if new.stories != old.stories:
            # An empty index fills itself from the stored articles of the new window when it
            # next places an article, so the new mode and window hold for all it knows.
            monitor.poller.stories = StoryIndex(new.stories)
        monitor.poller.adaptive = frozenset(s.name for s in new.sources if s.adaptive)
        monitor.poller.operator_channels = new.operator.channels
        monitor.poller.source_failures = new.operator.source_failures
        monitor.poller.source_silence = new.operator.source_silence
        monitor.poller.matcher = self.build_matcher(new)
        monitor.poller.routes = routes(new.watches, new.channels)
        monitor.poller.followups = followups(new.watches)
        monitor.settings = new
        for watch, channels in monitor.poller.routes.items():
            if not channels:
                log.warning(
                    "watch %s notifies no channel that is on: matches are kept, not sent", watch
                )

    async def _close_retired(self, *, everything: bool = False) -> None:
        now = time.monotonic()
        keep = []
        for expires, clients in self._retired:
            if everything or expires <= now:
                await clients.aclose()
            else:
                keep.append((expires, clients))
        self._retired = keep

    async def aclose(self) -> None:
        """Close the HTTP clients that reloads replaced."""
        await self._close_retired(everything=True)
