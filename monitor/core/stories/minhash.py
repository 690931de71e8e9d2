"""MinHash signatures and a banded LSH index, in numpy, for near-duplicate copies.

Shingles are word trigrams, and character trigrams for Korean, Chinese and Japanese, which have
few or no spaces. Each word is hashed once (CRC-32, stable across processes so signatures can be
stored) and a shingle's hash is a mix of its words' hashes, computed for all shingles at once.
All permutations are then applied at once with multiply-add-shift hashing: for odd 64-bit `a`
and any `b`, the top 32 bits of `a*h + b` (mod 2**64) form a universal family.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt

from monitor.core.text import is_cjk

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
_CJK_CHARS = 150
Signature = npt.NDArray[np.uint32]
Hashes = npt.NDArray[np.uint64]
# Odd multipliers that mix the three hashes of a shingle's units (golden ratio and kin).
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_WORDS, _CHARS = np.uint64(1), np.uint64(2)  # so a word and a character shingle never collide
_LOW = np.uint64(0xFFFFFFFF)
_TRIGRAM = np.array(_MIX, dtype=np.uint64)


def _grams(units: Hashes, salt: np.uint64) -> Hashes:
    """Hashes of the trigrams of a run of unit hashes (one hash for a shorter run)."""
    if units.size == 0:
        return units
    if units.size < 3:
        units = np.concatenate([units, np.zeros(3 - units.size, dtype=np.uint64)])
    # Each row a view of three consecutive units (no copy); one product mixes them.
    windows = np.ndarray((units.size - 2, 3), np.uint64, np.ascontiguousarray(units), 0, (8, 8))
    mixed: Hashes = windows @ _TRIGRAM
    mixed += salt
    high = mixed >> np.uint64(32)
    mixed &= _LOW
    mixed ^= high
    return mixed


def _word_hashes(words: Sequence[str]) -> Hashes:
    # map() keeps the per-word work in C; a generator costs several times more per word.
    return np.fromiter(map(zlib.crc32, map(str.encode, words)), dtype=np.uint64, count=len(words))


def _word_grams(runs: list[Sequence[str]]) -> list[Hashes]:
    """The trigram hashes of several runs of words, hashed and mixed in one pass: the
    trigrams that would span two runs are then dropped."""
    long = [run for run in runs if len(run) >= 3]
    out = [_grams(_word_hashes(run), _WORDS) for run in runs if 0 < len(run) < 3]
    if len(long) == 1:
        out.append(_grams(_word_hashes(long[0]), _WORDS))
    elif long:
        grams = _grams(_word_hashes(list(chain.from_iterable(long))), _WORDS)
        # Each run's own trigrams; the two after its last word span into the next run.
        start = 0
        for run in long:
            out.append(grams[start : start + len(run) - 2])
            start += len(run)
    return out


def shingle_hashes(*parts: Sequence[str]) -> Hashes:
    """The 32-bit shingle hashes of some runs of folded tokens, a hash per occurrence (MinHash
    does not care how often a shingle occurs); no shingle spans two runs."""
    runs: list[Sequence[str]] = []
    out: list[Hashes] = []
    for part in parts:
        if "".join(part).isascii():  # the common case, without a script test per token
            runs.append(part)
            continue
        runs.append([t for t in part if not is_cjk(t[0])])
        cjk = "".join(t for t in part if is_cjk(t[0]))[:_CJK_CHARS]
        chars = np.fromiter(map(ord, cjk), dtype=np.uint64, count=len(cjk))
        out.append(_grams(chars, _CHARS))
    out.extend(_word_grams(runs))
    if len(out) == 1:
        return out[0]
    return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


class MinHasher:
    """Signatures of NUM_PERM permutations; the same seed gives the same signatures anywhere."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 20261201) -> None:
        rng = np.random.default_rng(seed)
        top = np.iinfo(np.uint64).max
        self.num_perm = num_perm
        self._a = rng.integers(1, top, size=num_perm, dtype=np.uint64, endpoint=True) | 1
        self._b = rng.integers(0, top, size=num_perm, dtype=np.uint64, endpoint=True)

    def signature(self, hashes: Hashes) -> Signature:
        """The MinHash signature of a set of shingle hashes (all ones for an empty set)."""
        if hashes.size == 0:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        mixed = np.multiply.outer(hashes, self._a)
        mixed += self._b
        # The top half of the smallest value is the smallest top half: shift 128 values, not
        # all of them.
        sig: Signature = (mixed.min(axis=0) >> np.uint64(32)).astype(np.uint32)
        return sig


def similarity(a: Signature, b: Signature) -> float:
    """The estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / a.size


class LSHIndex:
    """Signatures by id, banded so that a query only compares likely near-duplicates.

    All bands share one table keyed by a 64-bit hash of (band, rows); a bucket is an id, or a
    list of ids once two items share it, which keeps memory near that of the signatures.
    """

    def __init__(self, bands: int = BANDS, rows: int = ROWS) -> None:
        if rows % 2:
            raise ValueError("rows per band must be even")
        self.bands = bands
        self.rows = rows
        self._table: dict[int, int | list[int]] = {}
        self._signatures: dict[int, Signature] = {}
        self._salt = np.arange(1, bands + 1, dtype=np.uint64) * _MIX[2]

    def __len__(self) -> int:
        return len(self._signatures)

    def keys(self, sig: Signature) -> list[int]:
        """The bucket keys of a signature, one per band (pass them on to skip recomputing)."""
        # A band's rows folded to 64 bits by multiply-xor: collisions are as rare as for any
        # 64-bit hash, and a rare one only adds a candidate that the similarity test drops.
        words = sig.view(np.uint64)
        step = self.rows // 2
        mixed = words[0::step] * _MIX[0]
        for col in range(1, step):
            mixed ^= words[col::step]
            mixed *= _MIX[col % 2]
        mixed += self._salt
        keys: list[int] = mixed.tolist()
        return keys

    def add(self, item: int, sig: Signature, keys: list[int] | None = None) -> None:
        """Index a signature under `item` (an id the caller owns)."""
        self._signatures[item] = sig
        table = self._table
        keys = self.keys(sig) if keys is None else keys
        # Most keys are new: setdefault stores the item at once, and only shared buckets are
        # visited one by one.
        buckets = list(map(table.setdefault, keys, repeat(item)))
        if buckets.count(item) == len(buckets):
            return
        for key, bucket in zip(keys, buckets, strict=True):
            if bucket is item:
                continue
            if isinstance(bucket, list):
                bucket.append(item)
            else:
                table[key] = [bucket, item]

    def remove(self, item: int) -> None:
        """Forget an item; unknown ids are ignored."""
        sig = self._signatures.pop(item, None)
        if sig is None:
            return
        table = self._table
        for key in self.keys(sig):
            bucket = table.get(key)
            if bucket == item:
                del table[key]
            elif isinstance(bucket, list) and item in bucket:
                bucket.remove(item)
                if len(bucket) == 1:
                    table[key] = bucket[0]

    def query(
        self, sig: Signature, threshold: float, keys: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """Indexed items whose estimated similarity is at least `threshold`, best first."""
        keys = self.keys(sig) if keys is None else keys
        buckets = [b for b in map(self._table.get, keys) if b is not None]
        if not buckets:  # the usual answer, for an article like no other
            return []
        found: set[int] = set()
        for bucket in buckets:
            if isinstance(bucket, list):
                found.update(bucket)
            else:
                found.add(bucket)
        scored = [(item, similarity(sig, self._signatures[item])) for item in found]
        return sorted(((i, s) for i, s in scored if s >= threshold), key=lambda p: (-p[1], p[0]))
