"""The soak's /proc readings see the daemon's parser workers, which its executor threads start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.soak_checks import _children, rss_mb

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
