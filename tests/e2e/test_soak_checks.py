"""The soak's readings and memory verdicts: /proc sees the daemon's parser workers, which its
executor threads start, and the verdicts tell a daemon's warm-up from growth that goes on."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from bench import soak_memory as memory
from bench.soak_checks import Sample, _children, lingering, rss_mb

# A parent whose only child is started from a thread other than its main one, as the daemon's
# ParserPool starts its workers (through asyncio.to_thread, whose threads live on); the child
# holds 64 MiB until the parent dies (its stdin closes).
PARENT = """
import subprocess, sys, threading, time
child, up = [], threading.Event()
def start():
    child.append(subprocess.Popen([sys.executable, "-c",
        "import sys; block = bytearray(64 << 20); print('up', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    child[0].stdout.readline()
    up.set()
    time.sleep(60)  # a thread that exits hands its children to the main one
threading.Thread(target=start, daemon=True).start()
up.wait()
print(child[0].pid, flush=True)
time.sleep(60)
"""


def _vmrss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_children_started_by_a_thread_are_read() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            assert _children(parent.pid) == [child]
            assert rss_mb(parent.pid) >= _vmrss_mb(parent.pid) + 60
        finally:
            parent.kill()


def _life(
    pid: int,
    born: float,
    minutes: float,
    rss: Callable[[float], float],
    fds: Callable[[float], int] = lambda _: 30,
    parent: int | None = None,
) -> list[Sample]:
    """Samples every 5 s of a process born at `born`, its RSS and fds functions of its age."""
    ages = range(0, int(minutes * 60), 5)
    return [Sample(born + age, pid, rss(age), fds(age), 0.0, parent) for age in ages]


def _verdicts(samples: list[Sample], births: dict[int, float]) -> dict[str, bool]:
    rows, _ = memory.checks(samples, births, speed=1.0, settle=60.0)
    return {row.name: row.ok for row in rows}


def _warming(age: float) -> float:
    """A daemon's RSS as measured: some MiB gained over its warm-up, then flat."""
    return 150 + 5 * min(age, memory.WARM_UP) / memory.WARM_UP


def test_warm_up_of_short_lives_is_held_to_its_allowance_not_called_a_slope() -> None:
    births = {pid: pid * 300.0 for pid in range(1, 7)}  # killed every five minutes
    samples = [s for pid, b in births.items() for s in _life(pid, b, 5, _warming)]
    verdicts = _verdicts(samples, births)
    assert verdicts["RSS slope after warm-up"] and verdicts["RSS warm-up per life"]
    leaking = [s for pid, b in births.items() for s in _life(pid, b, 5, lambda a: 150 + a / 15)]
    assert not _verdicts(leaking, births)["RSS warm-up per life"]


def test_growth_after_warm_up_fails_and_a_plateau_passes() -> None:
    births = {1: 0.0}
    flat = _life(1, 0.0, 40, _warming)
    assert _verdicts(flat, births)["RSS slope after warm-up"]
    leak = _life(1, 0.0, 40, lambda age: _warming(age) + 10 * age / 3600)  # 10 MB/h
    assert not _verdicts(leak, births)["RSS slope after warm-up"]


def test_a_buffer_held_for_a_moment_is_no_growth() -> None:
    births = {1: 0.0}
    # Held until the heap job's next trim, near the end of what the slope reads.
    spike = _life(1, 0.0, 20, lambda age: _warming(age) + (6 if 1080 <= age < 1140 else 0))
    assert _verdicts(spike, births)["RSS slope after warm-up"]
    step = _life(1, 0.0, 20, lambda age: _warming(age) + (6 if age >= 1080 else 0))
    assert not _verdicts(step, births)["RSS slope after warm-up"]


def test_a_replaced_worker_is_no_step_in_the_slope() -> None:
    births = {1: 0.0}
    daemon = _life(1, 0.0, 40, _warming)
    first = _life(2, 10.0, 20, lambda _: 54.0, parent=1)
    second = _life(3, 1300.0, 19, lambda _: 53.0, parent=1)  # after a parse timeout, a gap
    assert _verdicts(daemon + first + second, births)["RSS slope after warm-up"]


def test_descriptors_that_pile_up_fail() -> None:
    births = {pid: pid * 300.0 for pid in range(1, 4)}
    flat = [s for pid, b in births.items() for s in _life(pid, b, 5, _warming)]
    assert _verdicts(flat, births)["open fds per life"]
    piling = [
        s
        for pid, b in births.items()
        for s in _life(pid, b, 5, _warming, fds=lambda age: 30 + int(age // 10))
    ]
    assert not _verdicts(piling, births)["open fds per life"]


def test_sockets_coming_and_going_are_no_descriptor_slope() -> None:
    """Connections open in bursts late in a life; a leak raises the count at its floor."""
    births = {1: 0.0}

    def bursts(age: float) -> int:  # 20 held, 25 more for a minute and a half in every five
        return 20 + (25 if age % 300 < 90 and age > 1200 else 0)

    assert _verdicts(_life(1, 0.0, 35, _warming, fds=bursts), births)[
        "open fds slope after warm-up"
    ]
    leaking = _life(1, 0.0, 35, _warming, fds=lambda age: bursts(age) + int(age // 300))
    assert not _verdicts(leaking, births)["open fds slope after warm-up"]


def test_a_child_on_its_way_out_is_no_orphan() -> None:
    """A resource tracker or worker still exiting just after its daemon is given a moment."""
    with (
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"]) as leaving,
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as staying,
    ):
        reaper = threading.Thread(target=leaving.wait)  # its parent reaps it, as init would
        reaper.start()
        try:
            assert lingering({leaving.pid, staying.pid}, grace=5) == [staying.pid]
        finally:
            staying.kill()
            reaper.join()
