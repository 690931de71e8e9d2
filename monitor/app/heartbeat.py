"""The daemon's heartbeat: it says it lives, and keeps its short poll leases.

A source is leased to the daemon polling it. The lease is short, so that when a daemon dies
(kill -9, a lost machine) the others poll its sources again within POLL_LEASE plus a tick;
a live daemon renews the leases it holds every HEARTBEAT, however long its polls take. The same
beat updates the daemon's row, which `newsmonitor health` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.store.repository import Store

log = logging.getLogger(__name__)
POLL_LEASE = timedelta(seconds=20)
# Three beats may be missed (a busy database, a stalled thread) before the lease runs out.
HEARTBEAT = timedelta(seconds=5)


class Heartbeat:
    """Beats for `owner` every `every` (the first at once) until stopped."""

    def __init__(
        self,
        store: Store,
        owner: str,
        clock: Callable[[], datetime],
        *,
        lease: timedelta = POLL_LEASE,
        every: timedelta = HEARTBEAT,
    ) -> None:
        self.store = store
        self.owner = owner
        self.clock = clock
        self.lease = lease
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin beating (in the running event loop)."""
        self._task = asyncio.create_task(self._beat())

    async def stop(self) -> None:
        """Stop beating and remove the daemon's row; its leases are the caller's to release."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            await asyncio.to_thread(self.store.forget_daemon, self.owner)

    async def _beat(self) -> None:
        host = socket.gethostname()
        while True:
            now = self.clock()
            try:
                await asyncio.to_thread(
                    self.store.beat, self.owner, host, now, lease_until=now + self.lease
                )
            except Exception:  # the next beat tries again; the lease has room for it
                log.warning("heartbeat: could not write to the database", exc_info=True)
            await asyncio.sleep(self.every.total_seconds())
