"""The retention job of the daemon: prune old history every `retention.interval`."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from monitor.store.retention import apply_retention

if TYPE_CHECKING:
    from monitor.app.daemon import Monitor

log = logging.getLogger(__name__)


class RetentionJob:
    """Runs a retention pass when one is due; the settings are read each time, so a reload
    changes them."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self._next = 0.0  # the first pass runs when the daemon starts

    async def tick(self) -> None:
        """Prune if retention is on and a pass is due."""
        settings = self.monitor.settings.retention
        if not (settings.bodies or settings.articles) or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + settings.interval.total_seconds()
        report = await asyncio.to_thread(
            apply_retention, self.monitor.store.engine, settings, now=self.monitor.clock()
        )
        if report.changed:
            log.info(
                "retention: emptied %d article text(s), reduced %d article(s) to their identity, "
                "dropped %d match(es) without alerts; %d free page(s) given back",
                report.bodies,
                report.articles,
                report.matches,
                report.freed_pages,
            )
