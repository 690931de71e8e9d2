"""The soak's memory verdicts: RSS and open descriptors per process life.

A daemon's RSS climbs through its first minutes whatever the load: SQLite's statement and
page caches (one per pooled connection), SQLAlchemy's compiled-statement cache, one metric
series per watch. In a 40-minute --no-kills run its floor rose 4 MiB from its first minute to
its tenth (run clock) and then stayed within a MiB. Daemons are killed every 3-7 minutes, so a
slope fitted within their lives measured that warm-up: the slope counts only what each life
does after WARM_UP, and what it gains before is held to WARM_UP_RISE. Both read RSS at its
floor (see floors): a leak raises the floor, a buffer held for a moment does not. Each process
is its own group (its own intercept, one slope for all), so a worker replaced after a parse
timeout is no step in a sum.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.soak_checks import Check, Sample

WARM_UP = 600.0  # seconds of a daemon's life, run clock
WARM_UP_RISE = 12.0  # MiB: 5 and 7 measured (with and without the heap job), room for load
RSS_SLOPE = 5.0  # MB/h
FD_SLOPE = 10.0  # per hour
FD_RISE = 10  # descriptors: sockets come and go by some ten around a flat level
# Seconds (real ones, as the heap job's period) over which RSS is taken at its lowest: two trims.
FLOOR_SPAN = 2 * 60.0

Points = dict[int, list[tuple[float, float]]]


def pooled_slope(points: Points) -> float | None:
    """The within-group slope of y on x (seconds), per hour, each group its own intercept."""
    num = den = 0.0
    for group in points.values():
        if len(group) < 3:
            continue
        mx = sum(x for x, _ in group) / len(group)
        my = sum(y for _, y in group) / len(group)
        num += sum((x - mx) * (y - my) for x, y in group)
        den += sum((x - mx) ** 2 for x, _ in group)
    return num / den * 3600 if den else None


def _points(
    samples: list[Sample],
    births: dict[int, float],
    keep: Callable[[Sample, float], bool],
    value: Callable[[Sample], float],
) -> Points:
    """Points per pid of the samples that `keep` (given the process's age) takes."""
    born = dict(births)
    out: Points = {}
    for s in samples:
        age = s.at - born.setdefault(s.pid, s.at)  # a child is born when first seen
        if keep(s, age):
            out.setdefault(s.pid, []).append((s.at, value(s)))
    return out


def floors(points: Points, span: float = FLOOR_SPAN) -> Points:
    """Each point's value replaced by the lowest of its group over the next `span` seconds: what
    a transient buffer holds (an oversized feed's body, until the heap job's next trim) is gone
    from the floor, while growth that stays raises it."""
    out: Points = {}
    for pid, group in points.items():
        out[pid] = [(x, min(v for t, v in group if x <= t <= x + span)) for x, _ in group]
    return out


def _rise(points: Points) -> float:
    """The largest gain of any group over its first point."""
    return max((max(y for _, y in group) - group[0][1] for group in points.values()), default=0.0)


def checks(
    samples: list[Sample], births: dict[int, float], *, speed: float, settle: float
) -> tuple[list[Check], list[str]]:
    """The memory rows of the table, and a line per daemon life."""
    warm = WARM_UP / speed
    daemons = [s for s in samples if s.parent is None]
    children = [s for s in samples if s.parent is not None]

    # Per hour of the run's own clock: a shorter run is a faster one.
    daemon_slope = pooled_slope(floors(_points(daemons, births, lambda _, a: a >= warm, _rss)))
    child_slope = pooled_slope(floors(_points(children, births, lambda _, a: a >= settle, _rss)))
    per_daemon = len(children) / max(1, len(daemons))  # children alive beside each daemon
    out = []
    if daemon_slope is None:
        shown, ok = f"not judged: no life past its {WARM_UP / 60:g} min warm-up", True
    else:
        slope = (daemon_slope + (child_slope or 0.0) * per_daemon) / speed
        # Two decimals: at one, 4.99 showed as "+5.0" beside a pass against "< 5".
        shown, ok = f"{slope:+.2f} MB/h", slope < RSS_SLOPE
    out.append(Check("RSS slope after warm-up", shown, f"< {RSS_SLOPE:g} MB/h", ok))
    warming = floors(_points(daemons, births, lambda _, a: settle <= a < warm, _rss))
    gain = _rise(warming)
    out.append(
        Check(
            "RSS warm-up per life",
            f"+{gain:.1f} MiB",
            f"<= {WARM_UP_RISE:g} MiB",
            gain <= WARM_UP_RISE,
        )
    )
    # At their floor too: sockets open and close by the dozen around a level that a leak raises.
    fd_slope = pooled_slope(
        floors(_points(daemons, births, lambda _, a: a >= warm, lambda s: s.fds))
    )
    if fd_slope is None:
        shown, ok = f"not judged: no life past its {WARM_UP / 60:g} min warm-up", True
    else:
        shown, ok = f"{fd_slope / speed:+.1f} /h", fd_slope / speed < FD_SLOPE
    out.append(Check("open fds slope after warm-up", shown, f"< {FD_SLOPE:g} /h", ok))
    fds = _points(daemons, births, lambda _, a: a >= settle, lambda s: s.fds)
    rise = max((_halves(group) for group in fds.values()), default=0)
    out.append(
        Check(
            "open fds per life",
            f"{rise:+d} (most in 2nd half - in 1st)",
            f"<= {FD_RISE}",
            rise <= FD_RISE,
        )
    )
    lines = _lives(daemons, births, speed)
    parts = _slope_parts("daemons", daemon_slope, daemons, births, warm, speed)
    parts += _slope_parts("each worker", child_slope, children, births, settle, speed)
    if parts:
        lines.append(f"  slopes after warm-up (MB/h): {', '.join(parts)}")
    return out, lines


def _halves(group: list[tuple[float, float]]) -> int:
    """How many more descriptors a life held at most in its second half than in its first."""
    if len(group) < 2:
        return 0
    half = len(group) // 2
    return int(max(y for _, y in group[half:]) - max(y for _, y in group[:half]))


def _lives(daemons: list[Sample], births: dict[int, float], speed: float) -> list[str]:
    lines = []
    for pid in dict.fromkeys(s.pid for s in daemons):
        mine = [s for s in daemons if s.pid == pid]
        born = births.get(pid, mine[0].at)
        lines.append(
            f"  life pid {pid}: age {(mine[0].at - born) * speed:.0f}-"
            f"{(mine[-1].at - born) * speed:.0f} s, {len(mine)} samples: RSS "
            f"{mine[0].rss_mb:.0f} -> {mine[-1].rss_mb:.0f} MiB (max "
            f"{max(s.rss_mb for s in mine):.0f}; anonymous {mine[0].anon_mb:.0f} -> "
            f"{mine[-1].anon_mb:.0f}), fds {mine[0].fds} -> {mine[-1].fds} "
            f"(max {max(s.fds for s in mine)})"
        )
    return lines


def _slope_parts(
    name: str,
    rss: float | None,
    group: list[Sample],
    births: dict[int, float],
    start: float,
    speed: float,
) -> list[str]:
    """A group's judged RSS slope beside its anonymous part (per hour of the run's clock, as
    the check): pages mapped from files (library code as it first runs) are bounded by the
    files; a leak shows in the anonymous ones."""
    if rss is None:
        return []
    anon = pooled_slope(floors(_points(group, births, lambda _, a: a >= start, _anon)))
    return [f"{name} RSS {rss / speed:+.1f}", f"{name} anonymous {(anon or 0.0) / speed:+.1f}"]


def _rss(s: Sample) -> float:
    return s.rss_mb


def _anon(s: Sample) -> float:
    return s.anon_mb
