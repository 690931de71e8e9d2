"""History benchmark (run by hand): search latency, replay throughput, bytes per article.

    .venv/bin/python bench/history.py [--articles 1000000] [--watches 1000] [--db FILE]

Generates N synthetic articles (English, Korean and Chinese headlines and summaries from 50
sources) straight into a SQLite file (kept with --db, so a second run skips generation), then
measures, in one run:
  index     building the full-text index (articles/s)
  search    p50/p95 latency of typical rules through the index, newest 20 hits; the baseline
            is the same rules without the index, scanning the newest articles (ratio printed)
  replay    articles/s of the daemon's matcher with --watches watches over the newest --replay
            stored articles, by CPU time (the machine may be shared) and by the clock; the
            baseline is one watch in the same run (ratio printed)
  size      database bytes per article, without and with the index
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.app.replay import query_condition, replay, search  # noqa: E402
from monitor.core.model import Settings, Source  # noqa: E402
from monitor.core.query import Matcher, compile_query  # noqa: E402
from monitor.store.repository import Store  # noqa: E402
from monitor.store.search import catch_up, newest_first, oldest_first  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "trade tariff tariffs deal talks minister summit missile launch test budget election "
    "market markets stocks bank rates inflation export exports import chips steel energy oil "
    "climate flood storm court ruling police protest strike union health vaccine school "
    "university sports football final record weather snow heat festival film music award "
    "Seoul Beijing Tokyo Washington Pyongyang Moscow China Korea Japan Russia America Europe"
)
SYLLABLES = _words("ka ri mo sen ta lu vi ne po da shi ran tel gor mi sa ko ven dul pra")
# Invented words with a Zipf-like frequency, so that, as in news, most words are rare.
VOCAB = WORDS + sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", *SYLLABLES)})
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCAB))]
KOREAN = _words("무역 관세 협상 미사일 발사 한국 중국 북한 대통령 선거 경제 시장 금리 수출 반도체")
CHINESE = _words("贸易 关税 谈判 导弹 发射 韩国 中国 朝鲜 总统 经济 市场 出口 芯片")
TERMS = {
    "south_korea": ("South Korea*", "Seoul", "한국", "韩国"),
    "china": ("China", "Beijing", "중국", "中国"),
    "north_korea": ("North Korea*", "Pyongyang", "북한", "朝鲜"),
}
QUERIES = [
    "tariff*",
    '"trade deal"',
    "@south_korea AND @china AND (trade OR tariff*)",
    "@north_korea AND missile* AND launch*",
    "Seoul NEAR/5 Beijing",
    "미사일",
    "中国 AND 贸易",
    "inflation AND rates -bank",
]
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _cumulative() -> list[float]:
    total, out = 0.0, []
    for weight in WEIGHTS:
        total += weight
        out.append(total)
    return out


CUM = _cumulative()


def _text(rng: random.Random, n: int) -> str:
    lang = rng.random()
    if lang < 0.8:
        return " ".join(rng.choices(VOCAB, cum_weights=CUM, k=n))
    vocab = KOREAN if lang < 0.9 else CHINESE
    return " ".join(rng.choice(vocab) for _ in range(n))


def generate(path: Path, count: int) -> None:
    """Fill a fresh database with `count` articles, fetched one every few seconds up to NOW."""
    store = Store.open(f"sqlite:///{path}")
    sources = [
        Source(name=f"s{i}", url=f"http://news.test/{i}", interval=timedelta(minutes=5))
        for i in range(50)
    ]
    store.sync_sources(sources, NOW)
    store.close()
    rng = random.Random(7)
    start = NOW - timedelta(seconds=count * 3)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    batch = 50_000
    for first in range(0, count, batch):
        rows = []
        for i in range(first, min(count, first + batch)):
            when = (start + timedelta(seconds=i * 3)).strftime("%Y-%m-%d %H:%M:%S.%f")
            rows.append(
                (
                    rng.randrange(50) + 1,
                    f"guid:{i}",
                    f"g{i}",
                    f"http://news.test/a/{i}",
                    _text(rng, 9).capitalize(),
                    _text(rng, 45) + ".",
                    when,
                    when,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (source_id, key, guid, url, title, summary, published_at,"
            " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        print(f"  generated {first + len(rows):,} articles", end="\r", flush=True)
    print()
    conn.close()


def size_of(path: Path) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = (pages - free) * conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return int(size)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_search(store: Store, query: str, *, indexed: bool) -> float:
    settings = Settings(database="", terms=TERMS)
    matcher = Matcher([("q", compile_query(query, TERMS))])
    started = time.perf_counter()
    narrow = query_condition(query, settings) if indexed else None
    candidates = newest_first(store.engine, condition=narrow, since=None, source=None)
    list(search(candidates, matcher, limit=20))
    return time.perf_counter() - started


def watches(count: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    out = []
    middle = VOCAB[50:3000]  # neither the commonest words nor the rarest
    for i in range(count):
        a, b, c = rng.sample(middle, 3)
        shape = i % 4
        query = (
            f"{a} AND {b}",
            f"{a} AND ({b} OR {c}*)",
            f'"{a} {b}" OR {c}',
            f"@south_korea AND {a} AND -{b}",
        )[shape]
        out.append((f"w{i}", query))
    return out


def time_replay(store: Store, rules: list[tuple[str, str]], limit: int) -> tuple[float, float, int]:
    """Articles/s of a replay of the newest `limit` articles, by CPU time and by wall time
    (the stored rows read included), and the number of matches."""
    matcher = Matcher((name, compile_query(q, TERMS)) for name, q in rules)
    since = NOW - timedelta(seconds=limit * 3)
    cpu, wall = time.process_time(), time.perf_counter()
    report = replay(oldest_first(store.engine, since=since, source=None), matcher)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return report.scanned / cpu, report.scanned / wall, report.hits


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--replay", type=int, default=50_000, help="articles replayed")
    parser.add_argument("--runs", type=int, default=5, help="runs per search query")
    parser.add_argument("--db", type=Path, default=Path("/tmp/newsmonitor-history-bench.db"))
    args = parser.parse_args()

    if not args.db.exists():
        started = time.perf_counter()
        generate(args.db, args.articles)
        print(f"generate  {args.articles:,} articles in {time.perf_counter() - started:.0f} s")
    print(f"{load()} at the start")
    store = Store.open(f"sqlite:///{args.db}")
    try:
        with store.engine.connect() as conn:
            total = conn.exec_driver_sql("SELECT count(*) FROM articles").scalar_one()
        bare = size_of(args.db)
        started = time.perf_counter()
        indexed = catch_up(store.engine)
        took = time.perf_counter() - started
        if indexed:
            print(
                f"index     {indexed:,} articles in {took:.0f} s: {indexed / took:,.0f} articles/s"
            )
        with_index = size_of(args.db)
        print(
            f"size      {bare / total:,.0f} bytes/article without the index, "
            f"{with_index / total:,.0f} with it ({total:,} articles)"
        )

        latencies = []
        for query in QUERIES:
            runs = [time_search(store, query, indexed=True) for _ in range(args.runs)]
            latencies.extend(runs)
            scan = time_search(store, query, indexed=False)
            print(
                f"search    {query!r}: median {statistics.median(runs) * 1000:.1f} ms "
                f"(no index: {scan * 1000:.0f} ms, x{scan / statistics.median(runs):.1f})"
            )
        print(
            f"search    p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms over {len(latencies)} searches"
        )

        rules = watches(args.watches)
        one, one_wall, _ = time_replay(store, rules[:1], args.replay)
        many, many_wall, hits = time_replay(store, rules, args.replay)
        print(
            f"replay    {args.watches} watches: {many:,.0f} articles/s of CPU "
            f"({many_wall:,.0f} by the clock; {hits:,} matches); 1 watch: {one:,.0f} "
            f"({one_wall:,.0f}); ratio x{one / many:.1f}"
        )
        print(f"{load()} at the end")
    finally:
        store.close()


if __name__ == "__main__":
    main()
