"""Soak run (by hand): the real daemon under hostile feeds, failing channels, kills and reloads.

    .venv/bin/python bench/soak.py [--minutes 30] [--seed 1] [--feeds 500] [--watches 1000]
                                   [--database URL --daemons N] [--workdir DIR]

500 local feeds publish at uneven rates (5 % about every minute, 2 % in bursts of 20 items,
the rest about hourly); 2 % of them are hostile at any time (reliability.md F1-F12 in turn,
rotated every 2 minutes); 1,000 watches in the shipped query shapes alert three channels on
local receivers: `healthy` (Slack), `flaky` (JSON webhook, 5 % of sends answered 5xx, 429
with Retry-After, reset or hung past the send timeout) and `down` (JSON webhook, 503 for 5
minutes in the middle). A daemon is killed with SIGKILL every 3-7 minutes and restarted at
once, stopped once with SIGTERM instead, and its config reloaded every 4 minutes (the second
reload invalid). Hostility stops at 80 % of the run; publication at its end; then the run
waits for the last deliveries, stops the daemon with SIGTERM and prints the checks as a table.
Exit status 0 when every check holds, else 1, naming the failed checks.

A shorter run keeps the same shape: every period (publication rates, poll intervals, kills,
reloads, the outage, retries) shrinks with it, so `--minutes 3` is the 30-minute run ten times
faster (tests/e2e/test_soak.py runs it). With `--database` on PostgreSQL and `--daemons 2`,
the daemons share the database and the kills fall on one at random.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import soak_report  # noqa: E402
from bench.soak_checks import Sampler  # noqa: E402
from bench.soak_sinks import Receiver  # noqa: E402
from bench.soak_world import BURST, DOWN, FLAKY, HEALTHY, World, write_config  # noqa: E402
from tests.support import process  # noqa: E402
from tests.support.feed_server import FeedServer  # noqa: E402
from tests.support.scenario import SLACK_URL  # noqa: E402

MATCHING = 0.5  # share of published items that match a watch
RUNNING = "newsmonitor running:"  # what a daemon logs once it has started


class Daemons:
    """The daemon processes: started, killed and stopped, every life written down."""

    def __init__(self, config: Path, log: Path, slack: str, count: int) -> None:
        self.config, self.log, self.slack = config, log, slack
        self.procs: list[subprocess.Popen[str] | None] = [None] * count
        self.births: dict[int, float] = {}
        self.kills: list[float] = []  # monotonic times of every SIGKILL and SIGTERM
        self.term_exits: list[tuple[int | None, float]] = []  # exit code, seconds to exit
        self.sigkills = 0
        self.deaths: list[int] = []  # exit codes of daemons that ended without our signal

    def start(self, k: int) -> None:
        self._note(f"starting daemon {k}")
        with self.log.open("a") as handle:
            proc = subprocess.Popen(
                process.command(self.config, "run"),
                env=process.env(self.slack, NEWSMONITOR_TEST_SLACK_PACING="off"),
                stdout=handle,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=ROOT,
            )
        self.procs[k] = proc
        self.births[proc.pid] = time.monotonic()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    def _alive(self, k: int) -> subprocess.Popen[str]:
        proc = self.procs[k]
        assert proc is not None
        if proc.poll() is not None:
            self._note(f"daemon {k} (pid {proc.pid}) had exited by itself: {proc.returncode}")
            self.deaths.append(proc.returncode)
        return proc

    def kill(self, k: int) -> None:
        proc = self._alive(k)
        self._note(f"SIGKILL daemon {k} (pid {proc.pid})")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.sigkills += 1
        self.kills.append(time.monotonic())

    def stop(self, k: int) -> None:
        proc = self._alive(k)
        self._note(f"SIGTERM daemon {k} (pid {proc.pid})")
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        self.term_exits.append((code, time.monotonic() - sent))
        self.kills.append(sent)

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until every daemon started so far has read its config and runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.read_text(errors="replace").count(RUNNING) >= len(self.births):
                return
            time.sleep(0.5)

    def reload(self) -> None:
        # A daemon still in its interpreter's start-up dies of SIGHUP, as any Python process
        # would (monitor.cli keeps it from its first import on): it sees the file change anyway.
        for pid in self.pids():
            if time.monotonic() - self.births[pid] > 10:
                os.kill(pid, signal.SIGHUP)

    def _note(self, what: str) -> None:
        with self.log.open("a") as handle:
            handle.write(f"=== soak {time.strftime('%H:%M:%S')}: {what}\n")


def timeline(args: argparse.Namespace, world: World, speed: float, rng: random.Random):  # type: ignore[no-untyped-def]
    """(at, what) pairs over the run, `at` in seconds from its start; `what` names the event."""
    window = args.minutes * 60
    events: list[tuple[float, str, int]] = []
    for feed in world.feeds:
        rate = {"minute": 1 / 60, "hourly": 1 / 3600, "burst": 1 / 900}[feed.kind] * speed
        t = rng.expovariate(rate)
        while t < window:
            events.append((t, "publish", feed.index))
            t += rng.expovariate(rate)
    t, kills = rng.uniform(180, 420) / speed, []
    while t < window:
        kills.append(t)
        t += rng.uniform(180, 420) / speed
    for n, at in enumerate(kills if args.kills else []):
        events.append((at, "term" if n == len(kills) // 2 else "kill", rng.randrange(args.daemons)))
    for n in range(1, int(window // (240 / speed)) + 1):
        events.append((n * 240 / speed, "bad-reload" if n == 2 else "reload", n))
    events.append((window / 2 - 150 / speed, "down", 1))
    events.append((window / 2 + 150 / speed, "down", 0))
    rotate = 120 / speed
    n = 0
    while n * rotate < 0.8 * window:
        events.append((n * rotate, "hostile", n))
        n += 1
    events.append((0.8 * window, "calm", 0))
    return sorted(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--database", help="a SQLAlchemy URL (default: a SQLite file)")
    parser.add_argument("--daemons", type=int, default=1)
    parser.add_argument(
        "--kills",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="--no-kills: one daemon life, to tell warm-up from a leak in the RSS slope",
    )
    parser.add_argument("--workdir", type=Path, help="keep the config, log and database here")
    args = parser.parse_args()
    if args.daemons > 1 and not (args.database or "").startswith("postgresql"):
        parser.error("--daemons above 1 needs --database on PostgreSQL")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        sys.exit(run(args, workdir))


def run(args: argparse.Namespace, workdir: Path) -> int:
    speed = 30 / args.minutes
    rng = random.Random(args.seed)
    db_file = workdir / "soak.db"
    database = args.database or f"sqlite:///{db_file}"
    config, log = workdir / "soak.yaml", workdir / "daemon.log"
    log.write_text("")
    hang = 10 / speed + 5
    with (
        FeedServer(protocol="HTTP/1.1") as server,
        Receiver() as healthy,
        Receiver(failure_rate=0.05, hang=hang, seed=args.seed) as flaky,
        Receiver() as down,
    ):
        world = World(server, args.feeds, args.watches, speed, random.Random(args.seed + 1))
        receivers = {HEALTHY: healthy, FLAKY: flaky, DOWN: down}
        channels = {HEALTHY: SLACK_URL, FLAKY: flaky.json_url(), DOWN: down.json_url()}
        reloads = [0]

        def configure(invalid: bool = False) -> None:
            write_config(
                config,
                world=world,
                base=server.base_url,
                database=database,
                channels=channels,
                speed=speed,
                extra_watches=reloads[0] % 3,
                invalid=invalid,
            )

        configure()
        daemons = Daemons(config, log, f"{healthy.base_url}/services", args.daemons)
        wal = db_file.with_name(db_file.name + "-wal") if not args.database else None
        sampler = Sampler(daemons.pids, wal, every=min(5.0, 50 / speed))
        started = time.monotonic()
        for k in range(args.daemons):
            daemons.start(k)
        sampler.start()
        # The baseline: every feed polled once before anything is published.
        process.wait_for(
            lambda: len({r.path for r in server.requests}) >= len(world.feeds),
            timeout=600,
            what="the first poll of every feed",
        )
        time.sleep(3)
        print(f"baseline polled in {time.monotonic() - started:.0f} s", flush=True)
        zero = time.monotonic()
        events = timeline(args, world, speed, rng)
        hostile_count = max(1, round(len(world.feeds) * 0.02))

        def act(what: str, arg: int) -> None:
            if what == "publish":
                feed = world.feeds[arg]
                world.publish(feed, BURST if feed.kind == "burst" else 1, MATCHING)
            elif what in ("kill", "term"):
                (daemons.kill if what == "kill" else daemons.stop)(arg)
                daemons.start(arg)
            elif what in ("reload", "bad-reload"):
                reloads[0] += 1
                if what == "bad-reload":
                    # A daemon that reads an invalid config at start refuses to start: the
                    # invalid one goes to daemons that run.
                    daemons.wait_ready()
                    configure(invalid=True)
                    daemons.reload()
                    time.sleep(min(5.0, 30 / speed))
                configure()
                daemons.reload()
            elif what == "down":
                down.down = bool(arg)
            elif what == "hostile":
                world.rotate_hostile(hostile_count)
            elif what == "calm":
                world.restore_all()

        heap: list[tuple[float, int, str, int]] = [
            (t, n, w, a) for n, (t, w, a) in enumerate(events)
        ]
        heapq.heapify(heap)
        while heap:
            at, _, what, arg = heapq.heappop(heap)
            delay = zero + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            act(what, arg)
        published_until = time.monotonic()
        expected = soak_report.expected(world)
        drain = max(2 * 300, 2 * 60) / speed + 60
        complete: Callable[[], bool] = lambda: soak_report.all_delivered(expected, receivers)  # noqa: E731
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and not complete():
            time.sleep(1)
        print(f"drained in {time.monotonic() - published_until:.0f} s", flush=True)
        for k in range(args.daemons):
            daemons.stop(k)
        sampler.stop()
        result = soak_report.Run(
            args=args,
            speed=speed,
            world=world,
            receivers=receivers,
            daemons=daemons,
            sampler=sampler,
            database=database,
            log=log.read_text(errors="replace"),
            workdir=workdir,
        )
        return soak_report.report(result, expected)


if __name__ == "__main__":
    main()
