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
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Settings
from monitor.notify.channels import check_channel_url

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


class Reconfigurable(Protocol):
    """What a reload works on: the config in force, and a way to swap in a new one."""

    settings: Settings

    async def reconfigure(self, new: Settings) -> None: ...


class Reloader:
    """Watches the config files of a daemon and applies a new config when they change.

    `tick` is run by the scheduler every second: it checks the files' stamps (cheap) and
    reloads when they moved and then held still for a tick, or at once when `request` (the
    SIGHUP handler) asked for it.
    """

    def __init__(self, target: Reconfigurable) -> None:
        self.target = target
        self._requested = False
        self._seen: Fingerprint = fingerprint(target.settings.files)
        self._settling: Fingerprint | None = None
        self._lock = asyncio.Lock()
        self.on_reload: Callable[[bool], None] | None = None  # told each reload's result

    def request(self) -> None:
        """Reload at the next tick whether or not a file changed (what SIGHUP means)."""
        log.info("reload requested")
        self._requested = True

    async def tick(self) -> None:
        """Reload if a config file changed or a reload was requested."""
        if self._lock.locked():
            return
        async with self._lock:
            stamps = await asyncio.to_thread(fingerprint, self.target.settings.files)
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
            ok = await self.reload()
            if self.on_reload is not None:
                self.on_reload(ok)

    async def reload(self) -> bool:
        """Load the config again and apply it; False (and the old config kept) if it is invalid."""
        current = self.target.settings
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
        await self.target.reconfigure(new)
        log.info("config reloaded: %s", describe(current, new))
        return True
