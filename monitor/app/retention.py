"""The retention job of the daemon: prune old history every `retention.interval`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.core.model import RetentionSettings
from monitor.store.retention import apply_retention

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


class RetentionJob:
    """Runs a retention pass when one is due; `settings` is asked each time, so a reload
    changes them."""

    def __init__(
        self,
        engine: Engine,
        settings: Callable[[], RetentionSettings],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._next = 0.0  # the first pass runs when the daemon starts

    async def tick(self) -> None:
        """Prune if retention is on and a pass is due."""
        settings = self.settings()
        if not (settings.bodies or settings.articles) or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + settings.interval.total_seconds()
        report = await asyncio.to_thread(apply_retention, self.engine, settings, now=self.clock())
        if report.changed:
            log.info(
                "retention: emptied %d article text(s), reduced %d article(s) to their identity, "
                "dropped %d match(es) without alerts; %d free page(s) given back",
                report.bodies,
                report.articles,
                report.matches,
                report.freed_pages,
            )
