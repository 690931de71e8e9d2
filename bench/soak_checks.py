"""The soak's measurements and verdicts: /proc samples of the daemon, deliveries, the table.

RSS and open descriptors are read from /proc for each daemon and each of its children (the
parser workers) apart, the WAL size from the database's -wal file; bench/soak_memory.py judges
the memory per process life.
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
    rss_mb: float  # of this process alone
    fds: int
    wal_mb: float
    parent: int | None = None  # the daemon, for its children
    anon_mb: float = 0.0  # of rss_mb, the heap and stacks; the rest is mapped files and shm


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


def _status_mb(pid: int, *fields: str) -> tuple[float, ...]:
    """Fields of /proc/pid/status in MiB (0 each when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return (0.0,) * len(fields)
    found = (re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE) for name in fields)
    return tuple(int(f.group(1)) / 1024 if f else 0.0 for f in found)


def own_rss_mb(pid: int) -> float:
    """Resident memory of `pid` alone, in MiB (0 when it is gone)."""
    return _status_mb(pid, "VmRSS")[0]


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children, in MiB (0 when it is gone)."""
    return sum(own_rss_mb(p) for p in [pid, *_children(pid)])


def lingering(pids: set[int], grace: float = 10.0) -> list[int]:
    """The processes among `pids` still alive `grace` s from now, or as soon as all are gone:
    a daemon's resource tracker and workers see its end only once it has exited, and need a
    moment to go themselves."""
    deadline = time.monotonic() + grace
    while True:
        alive = sorted(p for p in pids if _alive(p))
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


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
                children = _children(pid)
                self.children_seen.update(children)
                now = time.monotonic()
                for p, parent in [(pid, None), *((c, pid) for c in children)]:
                    fds = open_fds(p)
                    # A rise in mapped pages (library code first run, the shared WAL index)
                    # is bounded by the files; a rise in anonymous pages is the heap.
                    rss, anon = _status_mb(p, "VmRSS", "RssAnon")
                    if fds >= 0 and rss > 0:
                        self.samples.append(Sample(now, p, rss, fds, wal, parent, anon))


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
