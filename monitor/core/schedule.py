"""When to poll a source next (a fixed or adaptive interval, the publisher's hints, error
backoff) and when to retry a failed delivery.

Pure arithmetic on values the fetch path hands in (headers, entry dates, the feed's own <ttl>).
"""

from __future__ import annotations

import email.utils
import random
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

# The shortest interval a config file may ask for. Settings built in code (the demo's and the
# tests' local servers) may go lower; the tests lower this for the configs they write.
INTERVAL_FLOOR = timedelta(seconds=30)
# The longest a failing source waits, unless its own interval is longer.
MAX_BACKOFF = timedelta(hours=6)
MIN_RETRY = timedelta(seconds=1)
# However long a publisher asks us to stay away (max-age, ttl, Retry-After), we come back by then.
HINT_CAP = timedelta(hours=24)
_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response says it stays fresh: Cache-Control max-age, else Expires."""
    control = headers.get("cache-control", "")
    if "no-cache" in control.lower() or "no-store" in control.lower():
        return None
    found = _MAX_AGE.search(control)
    if found:
        return timedelta(seconds=min(int(found.group(1)), int(HINT_CAP.total_seconds())))
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    origin = _http_date(headers.get("date")) or now
    return max(timedelta(0), expires - origin)


def feed_ttl(ttl: object, update_period: object, update_frequency: object) -> timedelta | None:
    """RSS <ttl> (minutes), else sy:updatePeriod / sy:updateFrequency, as an interval."""
    text = str(ttl or "").strip()
    if text.isdigit() and int(text) > 0:
        return min(timedelta(minutes=int(text)), HINT_CAP)
    period = _PERIODS.get(str(update_period or "").strip().lower())
    if period is None:
        return None
    frequency = str(update_frequency or "1").strip()
    times = int(frequency) if frequency.isdigit() and int(frequency) > 0 else 1
    return min(period / times, HINT_CAP)


def publishing_gap(published: Iterable[datetime | None], now: datetime) -> timedelta | None:
    """The mean time between a feed's entries over the last week; a week when it published
    fewer than two in that time; None when its entries carry no dates at all."""
    week = timedelta(weeks=1)
    dated = [p for p in published if p is not None]
    if not dated:
        return None
    times = sorted({p for p in dated if now - week <= p <= now})
    if len(times) < 2:
        return week
    return (times[-1] - times[0]) / (len(times) - 1)


def next_interval(
    *,
    interval: timedelta,
    adaptive: bool,
    min_interval: timedelta,
    max_interval: timedelta,
    gap: timedelta | None = None,
    hint: timedelta | None = None,
) -> timedelta:
    """The wait before the next poll after a successful one.

    Adaptive sources poll about once per entry the feed publishes (Miniflux's entry-frequency
    idea), within [min_interval, max_interval]; fixed ones every `interval`. A publisher's hint
    (max-age, Expires, <ttl>) is a request not to come back sooner, honoured up to HINT_CAP
    (or the interval itself, when that is longer). With no dates to go by, an adaptive source
    polls halfway (geometrically) between the bounds.
    """
    if adaptive:
        middle = timedelta(
            seconds=(min_interval.total_seconds() * max_interval.total_seconds()) ** 0.5
        )
        base = min(max(middle if gap is None else gap, min_interval), max_interval)
    else:
        base = interval
    if hint is not None and hint > base:
        base = min(hint, max(HINT_CAP, interval))
    return base


def on_phase(name: str, now: datetime, wait: timedelta, shortest: timedelta) -> timedelta:
    """`wait`, shortened by at most half and not below `shortest`, so that the next poll falls
    on the source's own phase of that period (taken from its name, so it holds across restarts).

    Sources set up alike start together and, polled every `wait` from then on, would stay in
    step for good: every round would hit the network, the database and the alert channels in
    one burst. On its phase, each source's polls land at the same point of every period.
    """
    unit = timedelta(microseconds=1)
    period = wait // unit
    if period <= 0:
        return wait
    phase = zlib.crc32(name.encode()) * period >> 32
    due = (now - _EPOCH) // unit + period
    slot = due - (due - phase) % period
    return max(wait - (due - slot) * unit, wait / 2, min(shortest, wait))


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempts)], but at
    least MIN_RETRY, so a retry always falls after the delivery pass that scheduled it."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** min(attempts, 30))
    return max(MIN_RETRY, timedelta(seconds=rng.uniform(0, ceiling)))


def failure_backoff(interval: timedelta, failures: int) -> timedelta:
    """How long a failing source waits: its interval doubled per failure, capped at 6 h."""
    doubled: timedelta = interval * (2 ** min(failures - 1, 20))
    return min(max(interval, doubled), max(MAX_BACKOFF, interval))


def failure_wait(
    interval: timedelta, failures: int, *, retry_after: timedelta | None = None
) -> timedelta:
    """How long a failing source waits: failure_backoff, or a Retry-After (429, 503) when that
    asks for longer, up to HINT_CAP."""
    wait = failure_backoff(interval, failures)
    if retry_after is not None and retry_after > wait:
        wait = min(retry_after, HINT_CAP)
    return wait


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
