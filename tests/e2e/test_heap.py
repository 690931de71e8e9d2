"""The processes' memory: the heap job gives back what an oversized feed leaves in the C heap,
and a parser worker has loaded all it uses before it takes a feed."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from tests.support.process import ROOT

# In a fresh interpreter: read a body past its cap through the fetcher's own reader, while
# other work keeps small buffers alive between its 64 KiB pieces, as the daemon's other tasks
# do; then run the heap job. Prints the RSS gained by the reads and what is left after the job.
SCRIPT = """
import asyncio, httpx
from monitor.app.heap import HeapJob
from monitor.core.errors import FetchError
from monitor.sources.http import _read_capped

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

others = []

async def body():
    for _ in range(40):
        others.append(bytes(600))  # longer-lived work beside the read
        yield bytes(64 * 1024)

async def main():
    before = rss()
    for _ in range(4):
        response = httpx.Response(200, content=body())
        try:
            await _read_capped(response, httpx.URL("http://127.0.0.1/feed"), 2 * 1024 * 1024)
        except FetchError:
            pass
    kept = rss() - before
    await HeapJob().tick()
    print(kept, rss() - before)

asyncio.run(main())
"""


def test_the_heap_job_returns_what_an_oversized_feed_left() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, check=True
    )
    kept, left = map(float, run.stdout.split())
    assert kept >= 1.5, run.stdout  # the pieces stayed resident: the case the job is for
    assert left <= kept - 1.5, run.stdout


# The start of the scripts below, run in a fresh interpreter: the daemon's heap settings when
# its argument is "daemon" (glibc's defaults otherwise), and glibc's malloc and free.
LIBC = """
import ctypes, sys
from monitor.app.heap import HeapJob

if sys.argv[1] == "daemon":
    HeapJob()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
"""

# Eight threads allocate from the C heap at once, then glibc's malloc_stats prints one
# "Arena N:" block per arena to stderr.
ARENAS_SCRIPT = (
    LIBC
    + """
import threading
start = threading.Barrier(8)

def work():
    start.wait()
    for _ in range(2000):
        libc.free(libc.malloc(4096))

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc.malloc_stats()
"""
)


def _run(script: str, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, mode], capture_output=True, text=True, cwd=ROOT, check=True
    )


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="arenas are glibc's")
def test_the_daemon_threads_share_two_heap_arenas() -> None:
    """Each thread's own arena kept its own free pieces; the daemon caps them at two."""
    assert _run(ARENAS_SCRIPT, "default").stderr.count("Arena ") > 2  # what the cap is for
    assert _run(ARENAS_SCRIPT, "daemon").stderr.count("Arena ") <= 2


# One 8 MiB body freed, then thirty bodies of 1 MiB, each followed by an allocation of 64 KiB
# that lives on (above it in the heap), all freed but those. Prints the RSS they leave, with no
# trim run.
BODIES = (
    LIBC
    + """
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

libc.free(libc.malloc(8 << 20))  # an oversized feed, mapped on its own and freed
before = rss()
bodies, kept = [], []
for _ in range(30):
    body = libc.malloc(1 << 20)
    ctypes.memset(body, 1, 1 << 20)
    bodies.append(body)
    kept.append(libc.malloc(64 << 10))
for body in bodies:
    libc.free(body)
print(rss() - before)
"""
)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the mmap threshold is glibc's")
def test_bodies_freed_after_an_oversized_one_go_back_at_once() -> None:
    """glibc raises its mmap threshold to each mapped block freed, so after one oversized feed
    the bodies below its size came from the heap and stayed resident between trims, held there
    by what lived on above them; the daemon and its workers keep the threshold put."""
    assert float(_run(BODIES, "default").stdout) >= 25  # the case the setting is for
    assert float(_run(BODIES, "daemon").stdout) < 5


# In a fresh interpreter: what a parser worker loads before it says it is ready, then feeds of
# every kind a worker meets. Prints the modules those feeds loaded after all.
LOADS = """
import json, random, sys
from monitor.sources import parsing

parsing.load()
before = set(sys.modules)
noise = bytes(random.Random(1).randrange(256) for _ in range(5000))
korean = '<rss><channel><item><title>북한 미사일</title></item></channel></rss>'.encode("euc-kr")
atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title></entry></feed>'
for body in (noise, korean, atom, b"<html><p>not a feed</p></html>", b""):
    parsing._answer(body, "http://127.0.0.1/feed", {}, 50)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_a_parser_worker_loads_everything_before_it_is_ready() -> None:
    """A module loaded by the first odd feed would count against that feed's time limit, and
    raise the worker's memory in the middle of its life (a soak saw 2 MiB at minute three)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADS], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
