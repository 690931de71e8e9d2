"""The daemon's heap: freed memory handed back to the system every minute, and its long-lived
objects kept out of the cyclic collector's reach.

A feed read up to its size cap is held for a moment in pieces of 64 KiB; freed between
allocations that live on, those pieces stay resident (monitor.sources.memory). In a 40-minute
soak the daemon's live heap stayed flat (31 MiB beside SQLite's) while its free heap grew from
9 to 17 MiB, a step with each oversized feed, and its RSS with it.
"""

from __future__ import annotations

import gc
import time

from monitor.sources.memory import fix_mmap_threshold, limit_arenas, trim

EVERY_SECONDS = 60.0  # a trim walks every arena under its lock: cheap, but not for every tick
# Two arenas: the event loop's and one shared by the worker threads. With glibc's default (up
# to 16 here) the two-daemon soak's RSS rose 27 MB/h after warm-up; capped at two, 4 MB/h.
ARENAS = 2


class HeapJob:
    """Returns the free pages of the C heap to the system every EVERY_SECONDS; made before the
    daemon starts its threads, it caps their arenas first."""

    def __init__(self) -> None:
        self._next = 0.0
        limit_arenas(ARENAS)
        fix_mmap_threshold()

    async def tick(self) -> None:
        """Trim the heap if a trim is due."""
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + EVERY_SECONDS
        trim()


def settle() -> None:
    """Freeze the objects alive now out of the cyclic collector's reach; run after start-up and
    after each reload, when the matcher is new.

    A full collection scans every tracked object: with 100,000 watches the matcher holds some
    two million, and a pass over them held the event loop 0.85 s. Frozen, they are skipped.
    A frozen object that becomes garbage in a reference cycle stays in memory until it is
    thawed, so each settle first thaws what the last one froze and collects, then freezes: no
    garbage is frozen, and a cycle that was alive in a poll at the last settle is freed by this
    one, not kept for good.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    trim()
