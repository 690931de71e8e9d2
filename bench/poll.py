"""Poll-path benchmark (run by hand): how much the daemon adds on top of fetching and parsing.

    .venv/bin/python bench/poll.py [--feeds 200] [--entries 50]

Serves N feeds of M entries on 127.0.0.1, then times, in one run:
  baseline  fetch + parse every feed (the same httpx client, concurrency and parser the daemon uses)
  first     `run --once` work on a fresh database: fetch, parse, identify, store (baseline poll)
  next      every feed with M new entries, a third of them matching a seed watch: the full path
            with matching and outbox rows, one transaction per feed
and prints articles per second and each ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.app.daemon import Monitor  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.core.model import Channel, Source  # noqa: E402
from monitor.sources.feeds import parse_feed  # noqa: E402
from monitor.sources.http import fetch, make_client  # noqa: E402
from tests.support.feed_server import FeedServer, rss  # noqa: E402

TITLES = [
    "South Korea and China agree to cut tariffs on chips",
    "Markets steady as investors await rate decision",
    "City council approves new budget for public transport",
]


def items(feed: int, start: int, count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {
            "guid": f"f{feed}-e{i}",
            "title": f"{TITLES[i % len(TITLES)]} ({feed}-{i})",
            "description": "Officials in Seoul and Beijing said the measures take effect in 2027. "
            * 3,
            "link": f"http://news.test/{feed}/{i}",
            "published": now - timedelta(minutes=count - i),
        }
        for i in range(start, start + count)
    ]


async def fetch_and_parse(urls: list[str], settings) -> float:  # type: ignore[no-untyped-def]
    limit = asyncio.Semaphore(settings.fetch.concurrency)
    async with make_client(settings.fetch) as client:

        async def one(url: str) -> int:
            async with limit:
                result = await fetch(
                    client,
                    url,
                    max_bytes=settings.fetch.max_bytes,
                    timeout=settings.fetch.timeout.total_seconds(),
                )
                parsed = await asyncio.to_thread(
                    parse_feed, result.body, url=result.url, headers=result.headers
                )
                return len(parsed.entries)

        started = time.perf_counter()
        await asyncio.gather(*(one(u) for u in urls))
        return time.perf_counter() - started


async def poll_once(settings) -> float:  # type: ignore[no-untyped-def]
    async with Monitor(settings) as monitor:
        started = time.perf_counter()
        outcomes = await monitor.poll_all()
        elapsed = time.perf_counter() - started
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    n_articles = args.feeds * args.entries
    shipped = load_settings(ROOT / "config" / "monitor.yaml")
    with FeedServer(protocol="HTTP/1.1") as server, tempfile.TemporaryDirectory() as tmp:
        paths = [f"/feed{i}.xml" for i in range(args.feeds)]
        for i, path in enumerate(paths):
            server.set(path, rss(items(i, 0, args.entries)), etag=False)
        settings = dataclasses.replace(
            shipped,
            database=f"sqlite:///{Path(tmp) / 'bench.db'}",
            sources=tuple(
                Source(name=f"feed{i}", url=server.url(p), interval=timedelta(minutes=5))
                for i, p in enumerate(paths)
            ),
            channels=(Channel(name="console", url="console://", enabled=False),),
            # The feed path alone: the entries link pages at news.test, which is not served.
            fetch=dataclasses.replace(
                shipped.fetch, allow_addresses=("127.0.0.1/32",), full_text="never"
            ),
        )
        baseline = await fetch_and_parse([server.url(p) for p in paths], settings)
        first = await poll_once(settings)
        for i, path in enumerate(paths):
            server.set(path, rss(items(i, args.entries, args.entries)), etag=False)
        following = await poll_once(settings)
    print(f"{args.feeds} feeds x {args.entries} entries = {n_articles} articles per pass")
    for label, seconds in (
        ("fetch+parse (baseline)", baseline),
        ("first poll (store)", first),
        ("next poll (match+store)", following),
    ):
        print(
            f"  {label:26s} {seconds:7.2f} s  {n_articles / seconds:8.0f} articles/s  "
            f"x{seconds / baseline:.2f} of baseline"
        )


if __name__ == "__main__":
    asyncio.run(main())
