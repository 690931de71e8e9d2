"""Polling benchmark (run by hand): the fetch and parse path at scale, against feedparser alone.

    .venv/bin/python bench/polling.py [--feeds 1000] [--entries 50] [--sources 10000]

A feed server in its own process (bench/feedhost.py) serves N feeds of M entries on 127.0.0.1
(with ETags). After a baseline poll, every feed gets 5 new entries, and one run measures:
  cold      a poll of the N changed feeds by the daemon's poller (fetch, parse in the worker
            pool, identify, match, store): feeds/s, CPU per feed (this process and the parser
            workers, not the server), and the ratio of its wall time to the time
            `feedparser.parse` alone needs for the same bytes on one core;
  latency   fetch + parse of each feed on its own (the same client and pool): p50 and p99;
  304       polls of the N unchanged feeds (conditional GET, 304): feeds/s, median of 3;
  memory    peak RSS of a daemon process that opens a store with S configured sources.
All sources sit on one host here, so fetch.per_host is raised to fetch.concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

from bench.feedhost import FeedHost  # noqa: E402
from bench.poll import TITLES  # noqa: E402
from monitor.app.daemon import Monitor  # noqa: E402
from monitor.core.model import Channel, FetchSettings, Settings, Source, Watch  # noqa: E402
from monitor.sources.http import fetch, make_client  # noqa: E402
from tests.support.feed_server import rss  # noqa: E402

SYLLABLES = (
    "ka",
    "ro",
    "mi",
    "tan",
    "sel",
    "vo",
    "ri",
    "den",
    "lu",
    "pas",
    "ne",
    "gor",
    "ti",
    "bam",
)
WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:8]]


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def items(feed: int, start: int, count: int) -> list[dict[str, object]]:
    """Distinct articles, as real feeds carry (every tenth one about tariffs on chips, which
    the benchmark's watch matches): identical texts everywhere would measure the story index's
    worst case, every article a copy of a third of all others, instead of polling."""
    now = datetime.now(UTC).replace(microsecond=0)
    out = []
    for i in range(start + count - 1, start - 1, -1):
        rng = random.Random(feed * 1_000_003 + i)
        topic = TITLES[0] if i % 10 == 0 else text(rng, 7)
        lead = text(rng, 30)
        out.append(
            {
                "guid": f"f{feed}-e{i}",
                "title": f"{topic} ({feed}-{i})",
                "description": f"<p>{lead} in <b>Seoul</b> and Beijing.</p><p>{text(rng, 30)}</p>",
                "link": f"https://news.test/{feed}/{i}",
                "published": now - timedelta(minutes=i),
            }
        )
    return out


def document(feed: int, version: int, entries: int) -> bytes:
    """The feed at `version`: the newest `entries` items, 5 more per version."""
    return rss(items(feed, version * 5, entries), title=f"Feed {feed}")


def serve(conn: Connection, feeds: int, entries: int) -> None:
    """The feed server process: serves version 0, moves to the version it is sent, until None."""

    async def run() -> None:
        host = FeedHost()
        for i in range(feeds):
            host.set(f"/feed{i}.xml", document(i, 0, entries))
        conn.send(await host.start())
        loop = asyncio.get_running_loop()
        while (version := await loop.run_in_executor(None, conn.recv)) is not None:
            for i in range(feeds):
                host.set(f"/feed{i}.xml", document(i, version, entries))
            conn.send("ok")
        await host.stop()

    asyncio.run(run())


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the given processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass(frozen=True, slots=True)
class Round:
    wall: float
    main_cpu: float  # this process: fetching, identifying, matching, storing
    parse_cpu: float  # the parser workers
    not_modified: int
    entries: int
    normalized: int


async def timed_poll(monitor: Monitor) -> Round:
    def workers() -> list[int]:
        return [w.process.pid for w in monitor.parser._all if w.process.pid]

    before = workers()
    main, parse = time.process_time(), cpu_seconds(before)
    started = time.perf_counter()
    outcomes = await monitor.poll_all()
    wall = time.perf_counter() - started
    main = time.process_time() - main
    # A worker started during the round counts from zero.
    parse = cpu_seconds(workers()) - parse if workers() == before else cpu_seconds(workers())
    failed = [o.error for o in outcomes if not o.ok]
    assert not failed, failed[:3]
    return Round(
        wall=wall,
        main_cpu=main,
        parse_cpu=parse,
        not_modified=sum(o.not_modified for o in outcomes),
        entries=sum(getattr(o, "entries", 0) for o in outcomes),
        normalized=sum(getattr(o, "normalized", 0) for o in outcomes),
    )


async def latencies(
    monitor: Monitor, urls: list[str], fetch_settings: FetchSettings
) -> list[float]:
    limit = asyncio.Semaphore(fetch_settings.concurrency)
    found: list[float] = []
    async with make_client(fetch_settings) as client:

        async def one(url: str) -> None:
            async with limit:
                started = time.perf_counter()
                result = await fetch(client, url, max_bytes=10**7, timeout=30.0)
                await monitor.parser.parse(result.body, url=result.url, headers=result.headers)
                found.append(time.perf_counter() - started)

        await asyncio.gather(*(one(u) for u in urls))
    return found


def feedparser_alone(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        feedparser.parse(io.BytesIO(body))
    return time.perf_counter() - started


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child started by this large
# process would report this process's peak instead of its own.
MEMORY_PROBE = """
import asyncio, sys
from datetime import timedelta
sys.path.insert(0, {root!r})
from monitor.app.daemon import Monitor
from monitor.core.model import Settings, Source
sources = tuple(Source(name=f"s{{i}}", url=f"https://news{{i % 500}}.test/feed{{i}}.xml",
                       interval=timedelta(minutes=10)) for i in range({sources}))
async def main():
    async with Monitor(Settings(database={database!r}, sources=sources)) as monitor:
        count = len(monitor.store.list_sources())
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(count, status.split()[0])
asyncio.run(main())
"""


def daemon_rss(sources: int, tmp: str) -> tuple[int, float]:
    code = MEMORY_PROBE.format(
        root=str(ROOT), sources=sources, database=f"sqlite:///{Path(tmp) / 'memory.db'}"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, kib = out.stdout.split()
    return int(count), int(kib) / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--sources", type=int, default=10_000)
    args = parser.parse_args()
    here, there = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(there, args.feeds, args.entries), daemon=True
    )
    server.start()
    base = here.recv()
    urls = [f"{base}/feed{i}.xml" for i in range(args.feeds)]
    # The feed path alone: the entries link pages at news.test, which is not served.
    fetch_settings = FetchSettings(
        allow_addresses=("127.0.0.1/32",), per_host=16, full_text="never"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database=f"sqlite:///{Path(tmp) / 'bench.db'}",
            fetch=fetch_settings,
            sources=tuple(
                Source(name=f"feed{i}", url=u, interval=timedelta(minutes=5))
                for i, u in enumerate(urls)
            ),
            channels=(Channel(name="console", url="console://", enabled=False),),
            watches=(Watch(name="trade", query="tariff* AND chips", notify=("console",)),),
        )
        async with Monitor(settings) as monitor:
            await timed_poll(monitor)  # baseline: stores what the feeds hold now; none fails
            here.send(1)
            here.recv()
            cold = await timed_poll(monitor)
            # A round of 304s lasts about a second, so one busy moment moves it: median of 3.
            rounds = [await timed_poll(monitor) for _ in range(3)]
            unchanged = sorted(rounds, key=lambda r: r.wall)[1]
            lat = sorted(await latencies(monitor, urls, fetch_settings))
        bodies = [document(i, 1, args.entries) for i in range(args.feeds)]
        alone = feedparser_alone(bodies)
        count, rss_mib = daemon_rss(args.sources, tmp)
    here.send(None)
    server.join(timeout=10)
    n = args.feeds
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{n} feeds x {args.entries} entries, 5 new per feed; concurrency 16, 2 parser workers")
    print(
        f"  cold poll of changed feeds   {cold.wall:6.2f} s  {n / cold.wall:7.0f} feeds/s  "
        f"(target >= 200 feeds/s)"
    )
    print(
        f"    CPU per feed               {1000 * (cold.main_cpu + cold.parse_cpu) / n:5.2f} ms  "
        f"(daemon {1000 * cold.main_cpu / n:5.2f} ms, target <= 4; parser workers "
        f"{1000 * cold.parse_cpu / n:5.2f} ms); entries read in full: {cold.normalized} "
        f"of {cold.entries}"
    )
    print(
        f"  feedparser.parse alone       {alone:6.2f} s  {n / alone:7.0f} feeds/s  "
        f"cold poll / feedparser alone = {cold.wall / alone:.2f}"
    )
    print(
        f"  fetch+parse latency          p50 {1000 * statistics.median(lat):6.1f} ms  "
        f"p99 {1000 * lat[int(0.99 * (len(lat) - 1))]:6.1f} ms"
    )
    print(
        f"  unchanged feeds (304)        {unchanged.wall:6.2f} s  {n / unchanged.wall:7.0f} "
        f"feeds/s  CPU {1000 * unchanged.main_cpu / n:5.2f} ms/feed  "
        f"({unchanged.not_modified} answered 304, median of 3 rounds; target >= 1000 feeds/s)"
    )
    print(f"  daemon RSS, {count} sources  {rss_mib:6.0f} MiB peak  (target <= 200 MB)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  this process peak RSS        {peak:6.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
