"""Handing freed C heap back to the system, where glibc allows it.

glibc keeps what a process frees for its later allocations and returns to the system only free
space at the top of a heap, so the peak of a large transient buffer stays resident. Its
malloc_trim releases the free pages of every arena; with another C library (musl, macOS)
`trim` does nothing. Used after each request by the parser workers and every minute by the
daemon (monitor.app.heap).

glibc also raises its mmap threshold to the size of each mapped block freed, up to 32 MiB: after
one oversized feed, every body below that size came from the heap, where a small allocation
that lives on above it keeps its pages resident; `fix_mmap_threshold` keeps the threshold put.

glibc also gives each new thread an arena of its own, up to eight per core, and what one arena
frees only that arena reuses. The daemon's threads (the commit and lookup threads, the database
drivers', the console's) each held their own free pieces, and its RSS kept rising where the
live heap did not: `limit_arenas` caps them.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _libc(name: str) -> Callable[..., int] | None:
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    return found


_TRIM = _libc("malloc_trim")
_MALLOPT = _libc("mallopt")
_M_ARENA_MAX = -8  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value


def trim() -> None:
    """Return the free pages of the C heap to the system."""
    if _TRIM is not None:
        _TRIM(0)


def limit_arenas(count: int) -> bool:
    """Let threads created from now on share at most `count` C heap arenas; False where the C
    library has no such setting."""
    return _MALLOPT is not None and _MALLOPT(_M_ARENA_MAX, count) == 1


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Map each block of `size` bytes or more on its own, handed back the moment it is freed,
    whatever was freed before; False where the C library has no such setting."""
    return _MALLOPT is not None and _MALLOPT(_M_MMAP_THRESHOLD, size) == 1
