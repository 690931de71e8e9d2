"""The daemon's heap job: hand the memory it has freed back to the system, where glibc allows.

glibc keeps what a process frees for its later allocations and returns to the system only free
space at the top of a heap. A feed read up to its size cap is held for a moment in pieces of
64 KiB; freed between allocations that live on, those pieces stay resident. In a 40-minute soak
the daemon's live heap stayed flat (31 MiB beside SQLite's) while its free heap grew from 9 to
17 MiB, a step with each oversized feed, and its RSS with it. malloc_trim releases the free
pages of every arena; with another C library (musl, macOS) the job does nothing.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

EVERY_SECONDS = 60.0  # a trim walks every arena under its lock: cheap, but not for every tick


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


class HeapJob:
    """Returns the free pages of the C heap to the system every EVERY_SECONDS."""

    def __init__(self) -> None:
        self._trim = _malloc_trim()
        self._next = 0.0

    async def tick(self) -> None:
        """Trim the heap if a trim is due."""
        if self._trim is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + EVERY_SECONDS
        self._trim(0)
