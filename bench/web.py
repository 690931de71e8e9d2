"""Web console benchmark (run by hand): page, metrics and playground times on a big history.

    .venv/bin/python bench/web.py [--articles 1000000] [--alerts 100000] [--sources 10000]
                                  [--runs 40] [--db FILE]

Fills a SQLite file (kept with --db, so a second run skips it) with bench/history.py's synthetic
articles (35 days of them), `--alerts` alerts (a match and an outbox row each, over 20 watches
and 3 channels) and `--sources` sources (a few failing or silent), builds the full-text index,
then serves the console over real HTTP (uvicorn in its thread, as the daemon runs it) and times,
as a client would see them:
  overview, alerts     p50/p95 of GET / and GET /alerts (and /alerts?watch=…): target p95 <= 150 ms
  metrics              p50/p95 of GET /metrics: target p95 <= 50 ms at 10,000 sources
  playground           GET /api/v1/replay?q=… per query: the first 50 matches and the 30-day
                       volume, target <= 1 s; "partial" says the 1 s budget cut the count short
The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import history  # noqa: E402
from bench.history import TERMS, generate, percentile  # noqa: E402
from monitor.core.model import Channel, Settings, Watch, WebSettings  # noqa: E402
from monitor.store.repository import Store  # noqa: E402
from monitor.store.search import catch_up  # noqa: E402
from monitor.web.context import Context  # noqa: E402
from monitor.web.server import Background, bind  # noqa: E402

WATCHES = [f"w{i}" for i in range(20)]
CHANNELS = ["slack", "mail", "hook"]
PLAYGROUND = [
    "tariff*",
    '"trade deal"',
    "@south_korea AND @china AND (trade OR tariff*)",
    "Seoul NEAR/5 Beijing",
    "미사일",
    "inflation AND rates -bank",
]


def add_alerts(path: Path, count: int, sources: int) -> None:
    """`count` alerts on random articles, and sources up to `sources`, in bulk."""
    rng = random.Random(3)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    last = conn.execute("SELECT max(id) FROM articles").fetchone()[0]
    ids = sorted(rng.sample(range(1, last + 1), count))
    fetched = dict(
        conn.execute("SELECT id, fetched_at FROM articles WHERE id >= ? ", (ids[0],)).fetchall()
    )
    hit = json.dumps([{"clause": "trade", "field": "title", "snippet": "a «trade» row"}])
    conn.executemany(
        "INSERT INTO matches (id, article_id, watch, terms, created_at, hits) "
        "VALUES (?, ?, ?, '[\"trade\"]', ?, ?)",
        [(n + 1, a, WATCHES[n % 20], fetched[a], hit) for n, a in enumerate(ids)],
    )
    conn.executemany(
        "INSERT INTO outbox (match_id, channel, status, attempts, next_attempt_at, created_at, "
        "sent_at, story_id, watch, stage) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, 0)",
        [
            (
                n + 1,
                CHANNELS[n % 3],
                "sent" if n % 50 else "dead",
                fetched[a],
                fetched[a],
                fetched[a],
                a,
                WATCHES[n % 20],
            )
            for n, a in enumerate(ids)
        ],
    )
    conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(a, a) for a in ids])
    have = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
    now = history.NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.executemany(
        "INSERT INTO sources (name, url, active, baseline_done, interval_s, next_poll_at, "
        "consecutive_failures, created_at, failing, silent) "
        "VALUES (?, ?, 1, 1, 300, ?, ?, ?, ?, ?)",
        [
            (
                f"extra{i}",
                f"http://news.test/x{i}",
                now,
                9 if i % 97 == 0 else 0,
                now,
                i % 97 == 0,
                i % 89 == 0,
            )
            for i in range(max(0, sources - have))
        ],
    )
    conn.execute("COMMIT")
    conn.close()


def timed(client: httpx.Client, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path)
        out.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return out


def ms(values: list[float]) -> str:
    return (
        f"p50 {1000 * percentile(values, 0.5):6.1f} ms  p95 {1000 * percentile(values, 0.95):6.1f}"
        f" ms  (n={len(values)})"
    )


def flags(found: dict[str, object]) -> str:
    return "".join(f"  {k.upper()}" for k in ("partial", "estimated") if found.get(k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--db", type=Path, default=Path("/tmp/newsmonitor-web-bench.db"))
    args = parser.parse_args()
    if not args.db.exists():
        # The history ends now, so the console's 30-day windows hold 30 of its 35 days.
        history.NOW = datetime.now(UTC)
        started = time.perf_counter()
        generate(args.db, args.articles)
        add_alerts(args.db, args.alerts, args.sources)
        print(f"generated in {time.perf_counter() - started:.0f} s")
    url = f"sqlite:///{args.db}"
    store = Store.open(url)
    started = time.perf_counter()
    indexed = catch_up(store.engine)
    if indexed:
        print(f"indexed {indexed:,} articles in {time.perf_counter() - started:.0f} s")
    settings = Settings(
        database=url,
        terms=dict(TERMS),
        watches=tuple(Watch(name=w, query="trade", notify=tuple(CHANNELS)) for w in WATCHES),
        channels=tuple(Channel(name=c, url="console://") for c in CHANNELS),
    )
    newest = sqlite3.connect(args.db).execute("SELECT max(fetched_at) FROM articles").fetchone()
    print(f"newest article {newest[0][:16]}; load average {os.getloadavg()[0]:.2f}")
    running = Background(
        Context(store=store, settings=lambda: settings),
        bind(WebSettings(host="127.0.0.1", port=0)),
    )
    running.start()
    host, port = running.address
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
            cold = timed(client, "/", 1)[0]  # past days' counts are read on the first one
            print(f"  overview, first (cold)  {1000 * cold:.1f} ms")
            for label, path in [
                ("overview", "/"),
                ("alerts", "/alerts"),
                ("alerts of one watch", "/alerts?watch=w7"),
                ("alerts, page 20", f"/alerts?cursor={args.alerts * 3 // 4}"),
                ("metrics", "/metrics"),
            ]:
                print(f"  {label:22} {ms(timed(client, path, args.runs))}")
            for query in PLAYGROUND:
                started = time.perf_counter()
                found = client.get("/api/v1/replay", params={"q": query, "days": 30}).json()
                took = time.perf_counter() - started
                print(
                    f"  playground {query!r:48} {took:5.2f} s  {len(found['hits'])} hits shown, "
                    f"{found['matches']:,} matches on {found['stories']:,} stories in 30 days "
                    f"({found['scanned']:,} candidates read){flags(found)}"
                )
    finally:
        running.stop()
        store.close()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
