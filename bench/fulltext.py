"""Article pages benchmark (run by hand): extraction speed, fetching at scale, text quality, memory.

    .venv/bin/python bench/fulltext.py --dataset DIR [--pages 1000] [--hosts 50]
                                       [--today /work/main]

DIR is a checkout of the Zyte (ScrapingHub) article-extraction-benchmark repository
(github.com/scrapinghub/article-extraction-benchmark): `ground-truth.json` and `html/*.html.gz`,
181 real news and blog pages with their article body written down by hand. Its pages are
third-party articles, so they are read from there, not copied here.

  speed     `extract_page` (trafilatura, as the parser workers run it) over the dataset's pages
            of 50-200 KB, on one core in this process: pages per CPU second;
  fetch     N pages (the dataset's, in turn) served by H local hosts (127.0.0.1 to 127.0.0.H,
            each its own server with a robots.txt, all in a separate process as bench/feedhost
            serves feeds), read through the daemon's PageWork: the egress guard, robots.txt,
            fetch.per_host 2, two parser workers; wall time;
  quality   token F1 of the extracted text against the ground truth (bag of \\w+ tokens, each
            page's counts normalised so long pages weigh no more, as the dataset's own
            evaluate.py does; its 4-gram shingle F1 beside it), on the test half of the pages
            (split once by the first hex digit of the page id: 0-7 tune, 8-f test; nothing was
            tuned on either);
  memory    peak RSS of a process that opens the daemon with 10,000 sources and reads 300
            pages through it, against the same process on `--today`'s code (which reads none).
Targets: speed >= 40 pages/s per core; fetch of 1,000 pages over 50 hosts <= 30 s; token F1
>= 0.90; memory <= 50 MB above today's.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.feedhost import FeedHost  # noqa: E402
from monitor.app.poll.pages import PageWork  # noqa: E402
from monitor.app.wiring import build  # noqa: E402
from monitor.core.model import FetchSettings, Settings  # noqa: E402
from monitor.sources.articles import extract_page  # noqa: E402
from monitor.sources.parsing import ParserPool  # noqa: E402
from tests.support.feed_server import FeedServer  # noqa: E402

_TOKEN = re.compile(r"\w+")


def load(dataset: Path) -> list[tuple[str, bytes, str, str]]:
    """(id, html, url, true body) of every page."""
    truth = json.loads((dataset / "ground-truth.json").read_text())
    out = []
    for page_id, item in sorted(truth.items()):
        html = gzip.decompress((dataset / "html" / f"{page_id}.html.gz").read_bytes())
        out.append((page_id, html, item["url"], item["articleBody"]))
    return out


def scores(true: str, pred: str, n: int) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) over n-grams of \\w+ tokens (n=1: tokens)."""

    def grams(text: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN.findall(text)
        return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))

    t, p = grams(true), grams(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def f1(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    tp, fp, fn = (sum(col) for col in zip(*rows, strict=True))
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return 2 * precision * recall / (precision + recall), precision, recall


def text_of(html: bytes, url: str) -> str:
    try:
        return extract_page(html, url=url, content_type="text/html").text
    except Exception:  # a page with no text found scores as empty
        return ""


def quality(pages: list[tuple[str, bytes, str, str]]) -> None:
    for part, digits in (("tune", "01234567"), ("test", "89abcdef")):
        chosen = [p for p in pages if p[0][0] in digits]
        extracted = [(true, text_of(html, url)) for _, html, url, true in chosen]
        tok = f1([scores(t, e, 1) for t, e in extracted])
        shingle = f1([scores(t, e, 4) for t, e in extracted])
        empty = sum(1 for _, e in extracted if not e)
        print(
            f"  quality {part} ({len(chosen)} pages): token F1 {tok[0]:.3f} (P {tok[1]:.3f} "
            f"R {tok[2]:.3f}); 4-gram F1 {shingle[0]:.3f}; no text found: {empty}"
            + ("   (target token F1 >= 0.90)" if part == "test" else "")
        )


def speed(pages: list[tuple[str, bytes, str, str]]) -> None:
    sized = [(html, url) for _, html, url, _ in pages if 50_000 <= len(html) <= 200_000]
    text_of(*sized[0])  # imports and first-use caches
    started = time.process_time()
    for html, url in sized:
        text_of(html, url)
    cpu = time.process_time() - started
    mean = sum(len(h) for h, _ in sized) / len(sized) / 1024
    print(
        f"  speed: {len(sized)} pages of 50-200 KB (mean {mean:.0f} KB): "
        f"{len(sized) / cpu:.1f} pages per CPU second   (target >= 40)"
    )


def serve_pages(conn: Connection, dataset: Path, count: int, hosts: int) -> None:
    """In its own process, as publishers' servers are: `hosts` lean servers on 127.0.0.1 to
    127.0.0.`hosts`, each with a robots.txt and its share of `count` pages."""

    async def run() -> None:
        pages = load(dataset)
        servers = [FeedHost(host=f"127.0.0.{h + 1}") for h in range(hosts)]
        bases = [await server.start() for server in servers]
        urls = []
        for server in servers:
            server.set("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
        for i in range(count):
            servers[i % hosts].set(f"/a/{i}", pages[i % len(pages)][1], "text/html")
            urls.append(f"{bases[i % hosts]}/a/{i}")
        conn.send(urls)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for server in servers:
            await server.stop()

    asyncio.run(run())


async def fetch_many(dataset: Path, count: int, hosts: int) -> None:
    here, there = multiprocessing.get_context("spawn").Pipe()
    host = multiprocessing.get_context("spawn").Process(
        target=serve_pages, args=(there, dataset, count, hosts), daemon=True
    )
    host.start()
    urls: list[str] = here.recv()
    fetch = FetchSettings(allow_addresses=("127.0.0.0/8",), per_host=2, full_text="always")
    parser = ParserPool(workers=2, timeout=5, max_entries=100)
    slots: dict[str, asyncio.Semaphore] = {}

    def host_slot(url: str) -> asyncio.Semaphore:
        name = url.split("/")[2].split(":")[0]
        return slots.setdefault(name, asyncio.Semaphore(fetch.per_host))

    work = PageWork(
        store=None,  # type: ignore[arg-type]  # reading pages touches no store
        parser=parser,
        host_slot=host_slot,
        clock=lambda: datetime.now(UTC),
    )
    work.use(build(Settings(database="sqlite://", fetch=fetch)))
    html = b"<html><body>" + b"<p>Words of a warm-up page here.</p>" * 20 + b"</body></html>"
    await asyncio.gather(  # start both workers before the clock does
        *(parser.extract(html, url="http://x.test/", content_type="") for _ in range(2)),
        return_exceptions=True,
    )
    cpu = time.process_time()
    started = time.perf_counter()
    results = await asyncio.gather(*(work.read(u) for u in urls))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    kinds = Counter(r.kind for r in results)
    robots = work.robots.fetches if work.robots else 0
    await work.aclose()
    await parser.aclose()
    here.send(None)
    host.join(timeout=10)
    print(
        f"  fetch: {count} pages over {hosts} hosts (per_host 2, 2 parser workers): {wall:.1f} s, "
        f"{count / wall:.0f} pages/s, this process {cpu:.1f} CPU s; outcomes {dict(kinds)}; "
        f"robots.txt fetched {robots} times   (target <= 30 s)"
    )


MEMORY_PROBE = """
import asyncio, sys
from datetime import timedelta
sys.path.insert(0, {root!r})
from monitor.app.daemon import Monitor
from monitor.core.model import FetchSettings, Settings, Source
sources = tuple(Source(name=f"s{{i}}", url=f"https://news{{i % 500}}.test/feed{{i}}.xml",
                       interval=timedelta(minutes=10)) for i in range(10_000))
fetch = FetchSettings(allow_addresses=("127.0.0.0/8",), per_host=2)
async def main():
    async with Monitor(Settings(database={database!r}, sources=sources, fetch=fetch)) as monitor:
        pages = getattr(monitor.poller, "pages", None)
        if pages is not None:
            urls = [{base!r} + f"/a/{{i}}" for i in range(300)]
            await asyncio.gather(*(pages.read(u) for u in urls))
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(status.split()[0])
asyncio.run(main())
"""


def memory(pages: list[tuple[str, bytes, str, str]], today: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, FeedServer(protocol="HTTP/1.1") as server:
        for i in range(300):
            html = pages[i % len(pages)][1]
            server.set(f"/a/{i}", html, headers={"Content-Type": "text/html"}, etag=False)
        peaks = {}
        for name, root in (("today", today), ("this tree", ROOT)):
            code = MEMORY_PROBE.format(
                root=str(root), database=f"sqlite:///{tmp}/{name[:5]}.db", base=server.base_url
            )
            env = {**os.environ, "PYTHONPATH": str(root)}
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            )
            peaks[name] = int(out.stdout.split()[-1]) / 1024
    extra = peaks["this tree"] - peaks["today"]
    print(
        f"  memory: daemon with 10,000 sources, peak RSS {peaks['today']:.0f} MiB today, "
        f"{peaks['this tree']:.0f} MiB after reading 300 pages here: +{extra:.0f} MiB"
        "   (target <= +50 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--today", type=Path, help="a checkout of the code before this work")
    parser.add_argument(
        "--only", choices=["speed", "fetch", "quality", "memory"], action="append", default=[]
    )
    args = parser.parse_args()
    pages = load(args.dataset)
    only = set(args.only) or {"speed", "fetch", "quality", "memory"}
    print(f"load average {os.getloadavg()[0]:.2f}; {len(pages)} pages in the dataset")
    if "speed" in only:
        speed(pages)
    if "fetch" in only:
        asyncio.run(fetch_many(args.dataset, args.pages, args.hosts))
    if "quality" in only:
        quality(pages)
    if "memory" in only and args.today is not None:
        memory(pages, args.today)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (this process: peak RSS {peak:.0f} MiB)")


if __name__ == "__main__":
    main()
