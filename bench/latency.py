"""Alert latency benchmark (run by hand): the real daemon, from publication to the webhook.

    .venv/bin/python bench/latency.py [--minutes 3] [--feeds 1000] [--rules 10000]
                                      [--rate 20] [--interval 60s] [--seed 1]
                                      [--full-text auto|always|never]

A feed server on 127.0.0.1 serves N feeds (with ETags, so unchanged feeds answer 304). The
daemon runs as its own process (`newsmonitor run`) on a config with those N sources, polled at
`--interval`, and R watch rules: R-1 realistic rules from bench/matching.py that the inserted
items do not meet, and one probe rule they all meet, notifying a Slack channel whose webhook is
a local receiver recording arrival times. Once every feed has had its first (baseline) poll,
items are inserted into random feeds at random times (a Poisson process, `--rate` per minute)
for `--minutes`; the run then waits for the stragglers (two intervals at most) and stops the
daemon. Printed:
  publish -> webhook    from an item's insertion to its alert's arrival at the receiver
                        (the wait for the next poll, publish -> response, is most of it);
  response -> webhook   from the end of the first response that carried the item (the feed
                        server writes it down as it sends the body) to the alert's arrival;
with p50/p95/p99, the counts of items inserted, alerted, duplicated and missing, and the
daemon's CPU time. Targets: publish -> webhook p95 <= 90 s at a 60 s interval,
response -> webhook p95 <= 250 ms with 10,000 rules.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.matching import COMMON, entities, rules  # noqa: E402
from bench.polling import cpu_seconds  # noqa: E402
from tests.support import process  # noqa: E402
from tests.support.feed_server import FeedServer, rss  # noqa: E402
from tests.support.pages import article_page  # noqa: E402
from tests.support.scenario import SLACK_URL  # noqa: E402
from tests.support.sinks import WebhookSink  # noqa: E402

PROBE = "latencyprobe"
TOKEN = re.compile(rf"{PROBE} (p\d+)")


class Feeds:
    """N feeds whose items the benchmark inserts; each body's first serving is written down."""

    def __init__(self, server: FeedServer, count: int, entries: int, rng: random.Random) -> None:
        self.server = server
        self.entries = entries
        self.lock = threading.Lock()
        now = datetime.now(UTC)
        self.items: list[list[dict[str, object]]] = [
            [
                {
                    "guid": f"f{f}-base{i}",
                    "title": " ".join(rng.choice(COMMON) for _ in range(9)).capitalize(),
                    "description": " ".join(rng.choice(COMMON) for _ in range(40)),
                    "link": server.url(f"/page/{f}/base{i}"),  # never read: baseline
                    "published": now - timedelta(hours=i + 1),
                }
                for i in range(entries)
            ]
            for f in range(count)
        ]
        self.bodies: list[tuple[bytes, str, tuple[str, ...]]] = []
        self.polled: set[int] = set()
        self.published: dict[str, float] = {}  # token: monotonic time of insertion
        self.served: dict[str, float] = {}  # token: end of the first response carrying it
        self.feed_of: dict[str, int] = {}
        for f in range(count):
            self.bodies.append(self._render(f, 0))
            server.set_handler(f"/feed{f}.xml", self._handler(f))

    def _render(self, feed: int, version: int) -> tuple[bytes, str, tuple[str, ...]]:
        shown = self.items[feed][: self.entries]
        tokens = tuple(str(i["guid"]) for i in shown if str(i["guid"]).startswith("p"))
        return rss(shown, title=f"Feed {feed}"), f'"{feed}-{version}"', tokens

    def insert(self, feed: int, token: str, rng: random.Random) -> None:
        """Publish a new item at the top of `feed`, as a publisher would."""
        item = {
            "guid": token,
            "title": f"{PROBE} {token} " + " ".join(rng.choice(COMMON) for _ in range(8)),
            "description": " ".join(rng.choice(COMMON) for _ in range(40)),
            "link": self.server.url(f"/page/{feed}/{token}"),
            "published": datetime.now(UTC),
        }
        body = [" ".join(rng.choice(COMMON) for _ in range(60)) for _ in range(8)]
        self.server.set(
            f"/page/{feed}/{token}",
            article_page(str(item["title"]), body),
            headers={"Content-Type": "text/html; charset=utf-8"},
            etag=False,
        )
        with self.lock:
            self.items[feed].insert(0, item)
            self.bodies[feed] = self._render(feed, len(self.published) + 1)
            self.published[token] = time.monotonic()
            self.feed_of[token] = feed

    def _handler(self, feed: int):  # type: ignore[no-untyped-def]
        def handle(request: BaseHTTPRequestHandler) -> None:
            with self.lock:
                body, etag, tokens = self.bodies[feed]
                self.polled.add(feed)
            if request.headers.get("If-None-Match") == etag:
                request.send_response(304)
                request.send_header("ETag", etag)
                request.end_headers()
                return
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("Content-Length", str(len(body)))
            request.send_header("ETag", etag)
            request.end_headers()
            request.wfile.write(body)
            request.wfile.flush()
            sent = time.monotonic()
            with self.lock:
                for token in tokens:
                    self.served.setdefault(token, sent)

        return handle


def write_config(path: Path, base: str, args: argparse.Namespace, database: str) -> None:
    rng = random.Random(args.seed)
    # The rules' catch-alls ("NOT sports", ...) would alert on every item: left out here.
    queries, terms = rules(args.rules - 1, entities(args.rules - 1, rng), rng)
    lines = [
        f"database: {json.dumps(database)}",
        f"fetch: {{interval: {args.interval}, allow_addresses: [127.0.0.1/32], per_host: 16, "
        f"full_text: {args.full_text}}}",
        "sources:",
        *(f"  - {{name: feed{f}, url: {base}/feed{f}.xml}}" for f in range(args.feeds)),
        "terms:",
        *(f"  {name}: {json.dumps(aliases)}" for name, aliases in terms.items()),
        "channels:",
        f"  slack: {{url: {SLACK_URL}}}",
        f"web: {{listen: {json.dumps(args.console_listen or 'off')}}}",
        "watches:",
        f"  - {{name: probe, query: {PROBE}, notify: [slack]}}",
        *(
            f"  - {{name: rule{i}, query: {json.dumps(q)}, notify: [slack]}}"
            for i, q in enumerate(queries[: args.rules - 1])
        ),
    ]
    path.write_text("\n".join(lines) + "\n")


def daemon_cpu(pid: int) -> float:
    """CPU seconds so far of the daemon and its live children (the parser workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = children.read_text().split() if children.exists() else []
    return cpu_seconds([pid, *(int(p) for p in found)])


def percentiles(values: list[float]) -> str:
    if not values:
        return "no values"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return (
        f"p50 {statistics.median(ordered):8.3f} s  p95 {at(0.95):8.3f} s  "
        f"p99 {at(0.99):8.3f} s  max {ordered[-1]:8.3f} s"
    )


def arrivals(sink: WebhookSink) -> tuple[dict[str, float], Counter[str]]:
    """The first arrival time of each item's alert, and how many alerts named each item."""
    first: dict[str, float] = {}
    seen: Counter[str] = Counter()
    with sink.lock:
        posts = list(zip(sink.posts, sink.times, strict=True))
    for post, at in posts:
        for token in set(TOKEN.findall(post.body.decode("utf-8", "replace"))):
            seen[token] += 1
            first.setdefault(token, at)
    return first, seen


_COMMITTED = re.compile(
    r"^(\S+ \S+) INFO monitor\.app\.poll\.poller: feed(\d+): \d+ new article\(s\)", re.MULTILINE
)


def committed(log: str, feeds: Feeds) -> dict[str, float]:
    """When the poll that found each item was committed (by the daemon's log, in monotonic
    time), to split response -> webhook into poll and delivery."""
    offset = time.time() - time.monotonic()
    polls: dict[int, list[float]] = {}
    for stamp, feed in _COMMITTED.findall(log):
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp() - offset
        polls.setdefault(int(feed), []).append(at)
    found: dict[str, float] = {}
    for token, served in feeds.served.items():
        after = [t for t in polls.get(feeds.feed_of[token], []) if t >= served - 0.002]
        if after:
            found[token] = min(after)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ConsoleReader(threading.Thread):
    """A client of the daemon's console: /metrics every second, the overview every 5 s."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.done = threading.Event()
        self.times: dict[str, list[float]] = {"/metrics": [], "/": []}
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            tick = 0
            while not self.done.wait(1.0):
                for path in ("/metrics", "/") if tick % 5 == 0 else ("/metrics",):
                    started = time.perf_counter()
                    if client.get(path).status_code != 200:
                        self.failures += 1
                    self.times[path].append(time.perf_counter() - started)
                tick += 1

    def stop(self) -> None:
        self.done.set()
        self.join(15)

    def summary(self) -> str:
        return (
            "; ".join(
                f"{path} {len(t)} reads, p95 {1000 * sorted(t)[int(0.95 * (len(t) - 1))]:.0f} ms"
                for path, t in self.times.items()
                if t
            )
            + f"; failures {self.failures}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0, help="items inserted per minute")
    parser.add_argument("--interval", default="60s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--full-text",
        choices=["auto", "always", "never"],
        default="auto",
        help="fetch.full_text: the inserted items link article pages on the feed server",
    )
    parser.add_argument(
        "--slack-pacing",
        choices=["on", "off"],
        default="on",
        help="off: without apprise's 1.2 s between two Slack messages, to see the daemon's own "
        "latency apart from the channel's pace",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="serve the web console and read /metrics every second and / every 5 s meanwhile",
    )
    args = parser.parse_args()
    args.console_listen = f"127.0.0.1:{free_port()}" if args.console else None
    rng = random.Random(args.seed)
    interval = 60.0 if args.interval == "auto" else float(args.interval.rstrip("s"))
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServer(protocol="HTTP/1.1") as server,
        WebhookSink() as sink,
    ):
        feeds = Feeds(server, args.feeds, args.entries, rng)
        config = Path(tmp) / "monitor.yaml"
        write_config(config, server.base_url, args, f"sqlite:///{Path(tmp) / 'bench.db'}")
        log = Path(tmp) / "daemon.log"
        started = time.monotonic()
        pacing = {"NEWSMONITOR_TEST_SLACK_PACING": args.slack_pacing}
        daemon = process.start(config, "run", slack_url=sink.slack_base, log=log, **pacing)
        try:
            process.wait_for(
                lambda: len(feeds.polled) == args.feeds or daemon.poll() is not None,
                timeout=600,
                what="the first poll of every feed",
            )
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited early:\n{log.read_text()[-3000:]}")
            warm = time.monotonic() - started
            if args.console_listen:
                reader = ConsoleReader(f"http://{args.console_listen}")
                reader.start()
            time.sleep(5)  # the last baseline polls commit
            cpu_before = daemon_cpu(daemon.pid)
            window = args.minutes * 60
            until = time.monotonic() + window
            count = 0
            while (now := time.monotonic()) < until:
                time.sleep(min(rng.expovariate(args.rate / 60), until - now))
                if time.monotonic() < until:
                    count += 1
                    feeds.insert(rng.randrange(args.feeds), f"p{count:06d}", rng)
            deadline = time.monotonic() + 2 * interval + 60
            while time.monotonic() < deadline and len(arrivals(sink)[0]) < len(feeds.published):
                time.sleep(0.5)
            cpu = daemon_cpu(daemon.pid) - cpu_before
        finally:
            if args.console_listen:
                reader.stop()
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
        first, seen = arrivals(sink)
        text = log.read_text()
        errors = [line for line in text.splitlines() if " ERROR " in line]
        stored = committed(text, feeds)
    published, served = feeds.published, feeds.served
    to_alert = [first[t] - published[t] for t in published if t in first]
    from_response = [first[t] - served[t] for t in published if t in first and t in served]
    waiting = [served[t] - published[t] for t in published if t in served]
    in_poll = [stored[t] - served[t] for t in first if t in stored and t in served]
    in_delivery = [first[t] - stored[t] for t in first if t in stored]
    missing = sorted(set(published) - set(first))
    duplicated = sorted(t for t, n in seen.items() if n > 1)
    load = os.getloadavg()
    print(
        f"{args.feeds} feeds polled every {args.interval}, {args.rules} watch rules, "
        f"{args.minutes:g} min of inserts at {args.rate:g}/min, Slack pacing {args.slack_pacing}; "
        f"daemon warm-up {warm:.0f} s"
    )
    print(f"  publish -> webhook    {percentiles(to_alert)}  (target p95 <= 90 s)")
    print(f"    of which publish -> response    {percentiles(waiting)}")
    print(f"  response -> webhook   {percentiles(from_response)}  (target p95 <= 0.25 s)")
    print(f"    of which response -> committed  {percentiles(in_poll)}")
    print(f"    and committed -> webhook        {percentiles(in_delivery)}")
    print(
        f"  items inserted {len(published)}, alerted {len(first)}, missing {len(missing)}, "
        f"alerted more than once {len(duplicated)}; webhook posts {len(sink.posts)}; "
        f"article pages read {sum(1 for r in server.requests if r.path.startswith('/page/'))} "
        f"(full_text: {args.full_text})"
    )
    print(
        f"  daemon CPU over the run {cpu:.1f} s ({100 * cpu / window:.0f}% of one core); "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    if args.console_listen:
        print(f"  console read meanwhile: {reader.summary()}")
    if errors:
        print(f"  daemon errors: {len(errors)}, first: {errors[0]}")
    if missing or duplicated:
        print(f"  missing {missing[:10]} duplicated {duplicated[:10]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
