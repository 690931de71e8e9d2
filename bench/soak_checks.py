"""The soak's measurements and verdicts: /proc samples of the daemon, deliveries, the table.

RSS and open descriptors are read from /proc for each daemon's pid (its parser workers'
RSS added), the WAL size from the database's -wal file. Daemons are killed every few minutes,
so a slope over the whole run would mostly measure restarts: slopes are fitted within each
daemon's life (pooled: each life its own intercept, one slope for all), on samples taken
after the run's warm-up and after the life's own first minute.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.soak_sinks import Accepted

WATCH = re.compile(rb"\[(w\d{4})\]")
ITEM = re.compile(rb"news\.test/\d+/(i\d{6})")


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one daemon."""

    at: float  # monotonic
    pid: int
    rss_mb: float
    fds: int
    wal_mb: float


def _children(pid: int) -> list[int]:
    """The child processes of `pid`, whichever of its threads started them: the daemon starts
    its parser workers from executor threads, never from its main one."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            found += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children, in MiB (0 when it is gone)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total / 1024


def open_fds(pid: int) -> int:
    """Open file descriptors of `pid` (-1 when it is gone)."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


@dataclass
class Sampler:
    """Reads every live daemon every `every` seconds on a thread of its own."""

    pids: Callable[[], list[int]]
    wal: Path | None
    every: float = 5.0
    samples: list[Sample] = field(default_factory=list)
    children_seen: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            wal = self.wal.stat().st_size / 2**20 if self.wal and self.wal.exists() else 0.0
            for pid in self.pids():
                fds, rss = open_fds(pid), rss_mb(pid)
                self.children_seen.update(_children(pid))
                if fds >= 0:
                    self.samples.append(Sample(time.monotonic(), pid, rss, fds, wal))


def pooled_slope(points: dict[int, list[tuple[float, float]]]) -> float | None:
    """The within-group slope of y on x (seconds), per hour, each group its own intercept."""
    num = den = 0.0
    for group in points.values():
        if len(group) < 3:
            continue
        mx = sum(x for x, _ in group) / len(group)
        my = sum(y for _, y in group) / len(group)
        num += sum((x - mx) * (y - my) for x, y in group)
        den += sum((x - mx) ** 2 for x, _ in group)
    return num / den * 3600 if den else None


def per_life(
    samples: list[Sample], births: dict[int, float], warm_from: float, settle: float
) -> tuple[dict[int, list[tuple[float, float]]], dict[int, list[tuple[float, float]]]]:
    """RSS and fd points per pid, after the run's warm-up and each life's first `settle` s."""
    rss: dict[int, list[tuple[float, float]]] = {}
    fds: dict[int, list[tuple[float, float]]] = {}
    for s in samples:
        if s.at >= warm_from and s.at - births.get(s.pid, 0.0) >= settle:
            rss.setdefault(s.pid, []).append((s.at, s.rss_mb))
            fds.setdefault(s.pid, []).append((s.at, float(s.fds)))
    return rss, fds


def deliveries(
    accepted: list[Accepted],
) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], float]]:
    """How many times each (item, watch) was accepted, and when first."""
    count: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], float] = {}
    for post in accepted:
        watches = {w.decode() for w in WATCH.findall(post.body)}
        items = {i.decode() for i in ITEM.findall(post.body)}
        for key in ((i, w) for i in items for w in watches):
            count[key] += 1
            first.setdefault(key, post.at)
    return count, first


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Check:
    """One row of the verdict table."""

    name: str
    measured: str
    limit: str
    ok: bool


def table(checks: list[Check]) -> str:
    """The checks as a fixed-width table."""
    rows = [("check", "measured", "limit", "verdict")] + [
        (c.name, c.measured, c.limit, "PASS" if c.ok else "FAIL") for c in checks
    ]
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


UNHANDLED = re.compile(
    r"Traceback \(most recent call last\)|Task exception was never retrieved|"
    r"Exception in callback|exception was never retrieved"
)


def unhandled(log: str) -> list[str]:
    """Lines of the daemon log that tell of an exception nobody handled."""
    return [line for line in log.splitlines() if UNHANDLED.search(line)]
