"""Several daemons on one PostgreSQL database (run by hand): what the leases cost.

    .venv/bin/python bench/scale.py [--feeds 1000] [--entries 20] [--database URL]

A feed server process (bench/feedhost.py) serves N feeds; one daemon takes the baseline. Then
for 1, 2 and 3 daemons (`newsmonitor run`, whole processes): every feed gets 5 new entries
(every tenth about tariffs on chips, which the watch sends to a local webhook), every source is
made due at once, and the daemons poll the N changed feeds (after a round of 30 feeds in which
each new daemon loads its story index). Printed per count: wall time, CPU
of every daemon process and its parse workers over the round, changed feeds per CPU-second
and its ratio to one daemon's (target: >= 0.85 with 3), double polls (a feed asked twice in
the round) and double alerts (an article posted twice), which must be 0.
The database defaults to a fresh schema in postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.feedhost import FeedHost  # noqa: E402
from bench.polling import cpu_seconds, document  # noqa: E402
from tests.support.sinks import WebhookSink  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"


class _Counted(dict[bytes, object]):
    """FeedHost's routes, counting every lookup of a path (one per request)."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: Counter[bytes] = Counter()

    def get(self, key: bytes, default: object = None) -> object:  # type: ignore[override]
        if key in self:
            self.hits[key] += 1
        return super().get(key, default)


def serve(conn: Connection, feeds: int, entries: int) -> None:
    """The feed server: version 0, then the version it is sent (hits reset), until None;
    "hits" asks for the paths requested more than once since the last version."""

    async def run() -> None:
        host = FeedHost()
        routes = _Counted()
        host._routes = routes  # type: ignore[assignment]  # counting, for this benchmark
        for i in range(feeds):
            host.set(f"/feed{i}.xml", document(i, 0, entries))
        conn.send(await host.start())
        loop = asyncio.get_running_loop()
        while (msg := await loop.run_in_executor(None, conn.recv)) is not None:
            if msg == "hits":
                conn.send(sum(1 for n in routes.hits.values() if n > 1))
                continue
            for i in range(feeds):
                host.set(f"/feed{i}.xml", document(i, msg, entries))
            routes.hits.clear()
            conn.send("ok")
        await host.stop()

    asyncio.run(run())


def family(pid: int) -> list[int]:
    """The process and its descendants (the daemon's parse workers)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += family(int(child))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--database", default=PG)
    args = parser.parse_args()
    schema = "scale_" + uuid.uuid4().hex[:8]
    with psycopg.connect(args.database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = args.database.replace("postgresql://", "postgresql+psycopg://", 1)
    url += f"?options=-csearch_path%3D{schema}"
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(there, args.feeds, args.entries))
    server.start()
    base = here.recv()
    sink = WebhookSink()
    sink.__enter__()
    tmp = Path(tempfile.mkdtemp())
    config = tmp / "scale.yaml"
    config.write_text(
        "\n".join(
            [
                f'database: "{url}"',
                "fetch: {interval: 1h, per_host: 16, allow_addresses: [127.0.0.1/32]}",
                "channels:",
                f"  hook: {{url: 'json://{sink.base_url.removeprefix('http://')}/a'}}",
                "watches:",
                "  - {name: chips, query: 'tariffs AND chips', notify: [hook]}",
                "sources:",
                *(f"  - {{name: f{i}, url: '{base}/feed{i}.xml'}}" for i in range(args.feeds)),
            ]
        )
        + "\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    db = psycopg.connect(args.database, autocommit=True, options=f"-c search_path={schema}")

    def scalar(sql: str, *params: object) -> int:
        try:
            row = db.execute(sql, params).fetchone()
        except psycopg.errors.UndefinedTable:  # the first daemon has not made the schema yet
            return 0
        return int(row[0]) if row else 0

    def start(count: int) -> list[subprocess.Popen[bytes]]:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "-c", str(config), "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp / f"daemon-{n}.log").open("w"),
            )
            for n in range(count)
        ]
        time.sleep(1)
        while scalar("SELECT count(*) FROM daemons") < count:
            time.sleep(0.2)
        return procs

    def stop(procs: list[subprocess.Popen[bytes]]) -> None:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)

    def polled_since(t: float) -> int:
        return scalar(
            "SELECT count(*) FROM sources "
            "WHERE last_polled_at >= to_timestamp(%s) AT TIME ZONE 'UTC'",
            t,
        )

    def round_of(procs: list[subprocess.Popen[bytes]], version: int, due: str) -> float:
        """Serve `version`, make the `due` sources due, wait until they are polled; the CPU."""
        here.send(version)
        here.recv()
        pids = [p for proc in procs for p in family(proc.pid)]
        cpu0, t = cpu_seconds(pids), time.time()
        db.execute(f"UPDATE sources SET next_poll_at = now() AT TIME ZONE 'UTC' WHERE {due}")
        want = scalar(f"SELECT count(*) FROM sources WHERE {due}")
        while polled_since(t) < want:
            time.sleep(0.1)
        # Parse workers started during the round count from their start.
        return cpu_seconds([p for proc in procs for p in family(proc.pid)]) - cpu0

    try:
        procs = start(1)
        t0 = time.time()
        while scalar("SELECT count(*) FROM sources WHERE baseline_done") < args.feeds:
            time.sleep(0.5)
        print(f"baseline of {args.feeds} feeds x {args.entries} entries: {time.time() - t0:.1f} s")
        stop(procs)
        results = []
        version = 0
        for count in (1, 2, 3):
            procs = start(count)
            # A new daemon loads its story index at its first new article: not the leases'
            # cost, so a few sources warm each one up before the round that counts.
            version += 1
            round_of(procs, version, "id <= 30")
            version += 1
            posts_before = len(sink.posts)
            t = time.time()
            cpu = round_of(procs, version, "true")
            wall = time.time() - t
            deadline = time.time() + 60
            while scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"):
                if time.time() > deadline:
                    break
                time.sleep(0.2)
            here.send("hits")
            doubles = here.recv()
            titles = Counter(p.json()["title"] for p in sink.posts[posts_before:])
            results.append((count, wall, cpu, doubles, sum(titles.values()) - len(titles)))
            stop(procs)
        one = args.feeds / results[0][2]
        print("daemons  wall s   CPU s  feeds/CPU-s  vs 1  double polls  double alerts")
        for count, wall, cpu, doubles, dup in results:
            rate = args.feeds / cpu
            print(
                f"{count:>7} {wall:7.2f} {cpu:7.2f} {rate:12.1f} {rate / one:5.2f} "
                f"{doubles:>13} {dup:>14}"
            )
    finally:
        here.send(None)
        server.join(10)
        sink.__exit__(None, None, None)
        db.close()
        with psycopg.connect(args.database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
