"""The soak's verdict: what had to arrive, what did, and every check of the run as a table."""

from __future__ import annotations

import argparse
import csv
import os
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bench.soak_checks import (
    Check,
    Sample,
    Sampler,
    deliveries,
    lingering,
    percentile,
    table,
    unhandled,
)
from bench.soak_memory import checks as memory_checks
from bench.soak_sinks import Receiver
from bench.soak_world import HEALTHY, World, channels_of

if TYPE_CHECKING:
    from bench.soak import Daemons

Expected = dict[str, set[tuple[str, str]]]  # channel: {(item, watch)}
# Seconds of a process's life left out of the memory verdicts (start-up, catching up): a minute
# of the run's clock, and at least 30 s of the real one, which a loaded machine needs to start it.
SETTLE = 60.0
SETTLE_REAL = 30.0


def expected(world: World) -> Expected:
    """Every (item, watch) each channel must receive."""
    out: Expected = {}
    for item in world.items:
        if item.watch is not None:
            for channel in channels_of(item.watch):
                out.setdefault(channel, set()).add((item.id, f"w{item.watch:04d}"))
    return out


def all_delivered(want: Expected, receivers: dict[str, Receiver]) -> bool:
    """Whether every channel has received all it must."""
    for channel, keys in want.items():
        got, _ = deliveries(receivers[channel].snapshot())
        if not keys <= set(got):
            return False
    return True


@dataclass
class Run:
    """What the run leaves behind for the verdict."""

    args: argparse.Namespace
    speed: float
    world: World
    receivers: dict[str, Receiver]
    daemons: Daemons
    sampler: Sampler
    database: str
    log: str
    workdir: Path


def _latencies(run: Run, first: dict[tuple[str, str], float]) -> tuple[list[float], int]:
    """Publish -> healthy-channel delivery minus the source's interval, for items clear of a
    kill (from 2 minutes before the publication to its deadline) and of a hostile spell of
    their feed (from 10 minutes before); and how many items were left out."""
    slack: list[float] = []
    skipped = 0
    for item in run.world.items:
        if item.watch is None or (key := (item.id, f"w{item.watch:04d}")) not in first:
            continue
        feed = run.world.feeds[item.feed]
        until = item.published + feed.interval + 10
        near_kill = any(item.published - 120 / run.speed <= k <= until for k in run.daemons.kills)
        near_hostile = any(
            start <= until and end >= item.published - 600 / run.speed
            for start, end in feed.hostile_spans
        )
        if near_kill or near_hostile:
            skipped += 1
            continue
        slack.append(first[key] - item.published - feed.interval)
    return slack, skipped


def _database_state(database: str) -> tuple[int, dict[str, int]]:
    """Leases still held, and outbox rows by status."""
    engine = sa.create_engine(database)
    try:
        with engine.connect() as conn:
            leases = sum(
                conn.execute(
                    sa.text(f"SELECT count(*) FROM {t} WHERE lease_owner IS NOT NULL")
                ).scalar_one()
                for t in ("sources", "outbox", "notices")
            )
            rows = conn.execute(sa.text("SELECT status, count(*) FROM outbox GROUP BY status"))
            return leases, {status: n for status, n in rows}
    finally:
        engine.dispose()


def _missing_detail(database: str, missing: list[tuple[str, str, str]]) -> list[str]:
    """What the database says about a few missing deliveries."""
    engine = sa.create_engine(database)
    out = []
    try:
        with engine.connect() as conn:
            for channel, item, watch in missing[:10]:
                rows = conn.execute(
                    sa.text(
                        "SELECT o.status, o.attempts, o.last_error FROM outbox o "
                        "JOIN matches m ON m.id = o.match_id "
                        "JOIN articles a ON a.id = m.article_id "
                        "WHERE a.url LIKE :url AND o.watch = :watch AND o.channel = :channel"
                    ),
                    {"url": f"%/{item}", "watch": watch, "channel": channel},
                ).all()
                out.append(f"{channel} {item} {watch}: outbox {[tuple(r) for r in rows]}")
    finally:
        engine.dispose()
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "(gone)"


def report(run: Run, want: Expected) -> int:
    """Print the checks as a table; 0 when all hold, 1 otherwise."""
    checks: list[Check] = []
    missing: list[tuple[str, str, str]] = []
    duplicates = unexpected = 0
    firsts: dict[str, dict[tuple[str, str], float]] = {}
    for channel, receiver in run.receivers.items():
        got, firsts[channel] = deliveries(receiver.snapshot())
        keys = want.get(channel, set())
        missing += [(channel, *k) for k in sorted(keys - set(got))]
        duplicates += sum(n - 1 for k, n in got.items() if k in keys)
        unexpected += sum(1 for k in got if k not in keys)
    total = sum(len(k) for k in want.values())
    checks.append(Check("loss", f"{len(missing)} of {total} missing", "0", not missing))
    bound = run.daemons.sigkills * len(run.receivers)
    checks.append(
        Check("duplicates", str(duplicates), f"<= {bound} (kills x channels)", duplicates <= bound)
    )
    checks.append(Check("alerts nobody asked for", str(unexpected), "0", unexpected == 0))
    slack, skipped = _latencies(run, firsts[HEALTHY])
    p99 = percentile(slack, 0.99)
    shown = (
        "no items"
        if p99 is None
        else f"{p99:+.1f} s over ({len(slack)} items, {skipped} near a kill/fault)"
    )
    checks.append(
        Check("p99 publish->healthy", shown, "<= interval + 10 s", p99 is not None and p99 <= 10)
    )
    settle = max(SETTLE / run.speed, SETTLE_REAL)
    memory, lives = memory_checks(
        run.sampler.samples, run.daemons.births, speed=run.speed, settle=settle
    )
    checks += memory
    samples = run.sampler.samples
    daemons = [s for s in samples if s.parent is None]
    wal = max((s.wal_mb for s in samples), default=0.0)
    sqlite = run.database.startswith("sqlite")
    shown = f"max {wal:.1f} MiB" if sqlite else "n/a (not SQLite)"
    checks.append(Check("SQLite WAL", shown, "< 64 MiB", wal < 64))
    leases, outbox = _database_state(run.database)
    checks.append(Check("leases after SIGTERM", str(leases), "0", leases == 0))
    errors = unhandled(run.log)
    checks.append(Check("unhandled exceptions", str(len(errors)), "0", not errors))
    exits = run.daemons.term_exits
    # A daemon stopped while still starting dies of the signal (-15) before its handler is
    # installed: nothing was in flight, and service managers count that as a clean stop.
    clean = all(code in (0, -15) and took <= 10 for code, took in exits)
    shown = ", ".join(f"{code} in {took:.1f} s" for code, took in exits)
    checks.append(Check("SIGTERM stops", shown, "exit 0 (or -15) within 10 s", clean))
    deaths = run.daemons.deaths
    checks.append(Check("daemon deaths not ours", f"{len(deaths)} {deaths}", "0", not deaths))
    refused = run.log.count("config not reloaded")
    checks.append(Check("invalid config refused", f"{refused} refusal(s)", ">= 1", refused >= 1))
    orphans = lingering(run.sampler.children_seen)
    checks.append(Check("orphaned workers", str(len(orphans)), "0", not orphans))
    flaky = run.receivers["flaky"].outcomes
    print(
        f"{len(run.world.feeds)} feeds, {run.args.watches} watches, {run.args.minutes:g} min, "
        f"seed {run.args.seed}; items published {len(run.world.items)}; kills "
        f"{run.daemons.sigkills}, SIGTERMs {len(exits)}; reloads "
        f"{run.log.count('config reloaded')} applied; outbox {outbox}; flaky channel "
        f"{dict(flaky)}; daemon RSS max {max((s.rss_mb for s in daemons), default=0):.0f} MiB, "
        f"fds max {max((s.fds for s in daemons), default=0)}; load {os.getloadavg()}"
    )
    print(table(checks))
    _keep_samples(run)
    for line in lives:
        print(line)
    for line in errors[:5]:
        print(f"  unhandled: {line}")
    for pid in orphans:
        print(f"  orphan: {pid} {_cmdline(pid)}")
    for line in _missing_detail(run.database, missing) if missing else []:
        print(f"  missing: {line}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("all checks hold")
    return 0


def _keep_samples(run: Run) -> None:
    """Every /proc sample as CSV beside the log, for a second look at a memory verdict."""
    with (run.workdir / "samples.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(f.name for f in fields(Sample))
        out.writerows(astuple(s) for s in run.sampler.samples)
