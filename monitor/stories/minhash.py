"""MinHash signatures and a banded LSH index, in numpy, for near-duplicate copies.

Shingles are word trigrams, and character trigrams for Korean, Chinese and Japanese, which have
few or no spaces. Each shingle is hashed once (CRC-32, stable across processes so signatures can
be stored), then all permutations are applied at once with multiply-add-shift hashing: for odd
64-bit `a` and any `b`, the top 32 bits of `a*h + b` (mod 2**64) form a universal family.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from monitor.text import is_cjk

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
_CJK_CHARS = 150
Signature = npt.NDArray[np.uint32]


def _grams(units: Sequence[str], n: int, sep: str) -> list[str]:
    if len(units) < n:
        return [sep.join(units)] if units else []
    return [sep.join(units[i : i + n]) for i in range(len(units) - n + 1)]


def shingles(*parts: Sequence[str]) -> set[str]:
    """The shingles of some runs of folded tokens; no shingle spans two runs."""
    out: set[str] = set()
    for part in parts:
        words = [t for t in part if not is_cjk(t[0])]
        cjk = "".join(t for t in part if is_cjk(t[0]))[:_CJK_CHARS]
        out.update(_grams(words, 3, " "))
        out.update("\x00" + g for g in _grams(list(cjk), 3, ""))
    return out


class MinHasher:
    """Signatures of NUM_PERM permutations; the same seed gives the same signatures anywhere."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 20261201) -> None:
        rng = np.random.default_rng(seed)
        top = np.iinfo(np.uint64).max
        self.num_perm = num_perm
        self._a = rng.integers(1, top, size=num_perm, dtype=np.uint64, endpoint=True) | 1
        self._b = rng.integers(0, top, size=num_perm, dtype=np.uint64, endpoint=True)

    def signature(self, grams: Iterable[str]) -> Signature:
        """The MinHash signature of a set of shingles (all ones for an empty set)."""
        hashes = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64)
        if hashes.size == 0:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        mixed = hashes[:, None] * self._a[None, :] + self._b[None, :]
        sig: Signature = (mixed >> np.uint64(32)).astype(np.uint32).min(axis=0)
        return sig


def similarity(a: Signature, b: Signature) -> float:
    """The estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / a.size


class LSHIndex:
    """Signatures by id, banded so that a query only compares likely near-duplicates."""

    def __init__(self, bands: int = BANDS, rows: int = ROWS) -> None:
        self.bands = bands
        self.rows = rows
        self._tables: list[dict[bytes, set[int]]] = [{} for _ in range(bands)]
        self._signatures: dict[int, Signature] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def _keys(self, sig: Signature) -> list[bytes]:
        return [sig[i * self.rows : (i + 1) * self.rows].tobytes() for i in range(self.bands)]

    def add(self, item: int, sig: Signature) -> None:
        """Index a signature under `item` (an id the caller owns)."""
        self._signatures[item] = sig
        for table, key in zip(self._tables, self._keys(sig), strict=True):
            table.setdefault(key, set()).add(item)

    def remove(self, item: int) -> None:
        """Forget an item; unknown ids are ignored."""
        sig = self._signatures.pop(item, None)
        if sig is None:
            return
        for table, key in zip(self._tables, self._keys(sig), strict=True):
            bucket = table.get(key)
            if bucket is not None:
                bucket.discard(item)
                if not bucket:
                    del table[key]

    def query(self, sig: Signature, threshold: float) -> list[tuple[int, float]]:
        """Indexed items whose estimated similarity is at least `threshold`, best first."""
        found: set[int] = set()
        for table, key in zip(self._tables, self._keys(sig), strict=True):
            bucket = table.get(key)
            if bucket:
                found |= bucket
        scored = [(item, similarity(sig, self._signatures[item])) for item in found]
        return sorted(((i, s) for i, s in scored if s >= threshold), key=lambda p: (-p[1], p[0]))
