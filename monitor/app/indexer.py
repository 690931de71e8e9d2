"""The search-index job of the daemon: index new articles a minute or so after they arrive, so
`search` and `replay` rarely have a backlog to index first."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from monitor.store.search import catch_up, has_index

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0
# A pass is short, so a stop never waits long for it; a backlog is worked off a pass a second.
PASS_ROWS = 10_000


class IndexJob:
    """Brings the full-text index up to date every EVERY_SECONDS (SQLite only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._next = 0.0

    async def tick(self) -> None:
        """Index the articles stored since the last pass, if a pass is due."""
        engine = self.engine
        if not has_index(engine) or time.monotonic() < self._next:
            return
        added = await asyncio.to_thread(catch_up, engine, at_most=PASS_ROWS)
        self._next = time.monotonic() + (0 if added >= PASS_ROWS else EVERY_SECONDS)
        if added:
            log.debug("search index: %d new article(s)", added)
