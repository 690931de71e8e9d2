"""Handing freed C heap back to the system, where glibc allows it.

glibc keeps what a process frees for its later allocations and returns to the system only free
space at the top of a heap, so the peak of a large transient buffer stays resident. Its
malloc_trim releases the free pages of every arena; with another C library (musl, macOS)
`trim` does nothing. Used after each request by the parser workers and every minute by the
daemon (monitor.app.heap).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        found: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return found


_TRIM = _malloc_trim()


def trim() -> None:
    """Return the free pages of the C heap to the system."""
    if _TRIM is not None:
        _TRIM(0)
