"""When an alert may go out, and with which others: digests, quiet hours, bursts, rate limits.

Everything here is opt-in per watch or channel; with none of it configured every alert goes
out at once, on its own. A held alert keeps its outbox row: its next attempt is moved to the
release time, and the rows released together go out as one message. Digest, quiet-hours and
burst holds follow from the alert's creation time alone, so every daemon, before and after a
restart, puts an alert in the same group. A digest that comes besides instant alerts
(`digest_mode: besides`) holds a copy of each alert, a second outbox row that only the digest
takes, while the alert itself goes out as if there were no digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor.core.crontab import cron
from monitor.core.model import Channel, Settings, Watch
from monitor.core.phrases import BURST_TITLE, DIGEST_TITLE, ENGLISH, QUIET_TITLE, RATE_TITLE, Locale

if TYPE_CHECKING:
    from monitor.core.records import AlertRecord

DIGEST, QUIET, BURST, RATE = "digest", "quiet", "burst", "rate"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Hold:
    """Why an alert waits, and until when."""

    kind: str
    release: datetime


_TICK = timedelta(seconds=1)  # the resolution of a crontab schedule


@dataclass(frozen=True, slots=True)
class EmptyDigest:
    """A digest due at `at` that is sent even with nothing in it: the alerts of `watch` (or,
    when None, of the channel's watches without a digest of their own) since `previous`."""

    channel: str
    watch: str | None
    previous: datetime | None
    at: datetime


def _last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` the schedule fires; None if none in 8 years."""
    back = timedelta(minutes=1)
    while back < timedelta(days=8 * 366):
        last: datetime | None = None
        fire: datetime | None = trigger.get_next_fire_time(None, now - back)
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + _TICK)
        if last is not None:
            return last.astimezone(UTC)
        back *= 2
    return None


class Pacer:
    """The pacing rules of the configured watches and channels."""

    def __init__(
        self, watches: Sequence[Watch], channels: Sequence[Channel], *, timezone: str = "UTC"
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self._digests = {
            **{("channel", c.name): cron(c.digest, timezone) for c in channels if c.digest},
            **{("watch", w.name): cron(w.digest, timezone) for w in watches if w.digest},
        }
        # Digests that come besides instant alerts rather than instead of them.
        self._besides = {("channel", c.name) for c in channels if c.digest_mode == "besides"} | {
            ("watch", w.name) for w in watches if w.digest_mode == "besides"
        }
        self._quiet = {c.name: c.quiet_hours for c in channels if c.quiet_hours}
        self.bursts = {w.name: w.burst for w in watches if w.burst}
        self.rate_limits = {w.name: w.rate_limit for w in watches if w.rate_limit}
        # (channel, watch or None for the channel's own digest) whose empty digests are sent.
        self._empty = [(c.name, None) for c in channels if c.digest and c.digest_empty] + [
            (c, w.name) for w in watches if w.digest and w.digest_empty for c in w.notify
        ]
        self.own_digest = tuple(w.name for w in watches if w.digest)

    @classmethod
    def of(cls, settings: Settings) -> Pacer:
        """The pacing rules of a loaded config."""
        return cls(settings.watches, settings.channels, timezone=settings.delivery.timezone)

    def _digest_of(self, watch: str, channel: str) -> tuple[str, str]:
        """The key of the digest that applies: the watch's own, else the channel's."""
        return ("watch", watch) if ("watch", watch) in self._digests else ("channel", channel)

    def besides(self, watch: str, channel: str) -> bool:
        """Whether alerts of `watch` to `channel` go out at once and again in a digest."""
        return self._digest_of(watch, channel) in self._besides

    def has_digest(self, watch: str, channel: str) -> bool:
        """Whether alerts of `watch` to `channel` have a digest to go in."""
        return self._digest_of(watch, channel) in self._digests

    def hold(
        self, watch: str, channel: str, created_at: datetime, *, digest_copy: bool = False
    ) -> Hold | None:
        """Whether an alert created at `created_at` waits, by digest, quiet hours or burst.

        A `digest_copy` (the second row of an alert whose digest comes besides instant alerts)
        waits for the digest only; the instant alert it copies skips the digest.
        """
        key = self._digest_of(watch, channel)
        trigger = self._digests.get(key)
        if trigger is not None and (digest_copy or key not in self._besides):
            release = trigger.get_next_fire_time(None, created_at)
            if release is not None:
                return Hold(DIGEST, release.astimezone(UTC))
        if digest_copy:
            return None
        quiet = self._quiet.get(channel)
        if quiet is not None:
            end = self._quiet_end(created_at, *quiet)
            if end is not None:
                return Hold(QUIET, end)
        window = self.bursts.get(watch)
        if window is not None:
            # Fixed windows: every alert of the watch in the same window goes out together.
            n = (created_at - _EPOCH) // window
            return Hold(BURST, _EPOCH + (n + 1) * window)
        return None

    def empty_digests(self, channel: str, since: datetime, now: datetime) -> list[EmptyDigest]:
        """The latest scheduled time, if after `since`, of each digest of `channel` that is
        sent even when empty; whether it is empty is the store's to say."""
        out = []
        for name, watch in self._empty:
            trigger = self._digests[("watch", watch) if watch else ("channel", name)]
            at = _last_fire(trigger, now) if name == channel else None
            if at is not None and at > since:
                out.append(EmptyDigest(channel, watch, _last_fire(trigger, at - _TICK), at))
        return out

    def _quiet_end(self, when: datetime, start: time, end: time) -> datetime | None:
        local = when.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        overnight = start > end
        inside = (now >= start or now < end) if overnight else (start <= now < end)
        if not inside:
            return None
        day = local.date() + timedelta(days=1 if overnight and now >= start else 0)
        return datetime.combine(day, end, tzinfo=self.zone).astimezone(UTC)

    def rate_window(self, watch: str, now: datetime) -> tuple[int, datetime, datetime] | None:
        """(most alerts, window start, window end) of a rate-limited watch, fixed windows."""
        limit = self.rate_limits.get(watch)
        if limit is None:
            return None
        most, per = limit
        n = (now - _EPOCH) // per
        return most, _EPOCH + n * per, _EPOCH + (n + 1) * per


@dataclass(slots=True)
class Plan:
    """What to do with a batch of due rows of one channel."""

    now: list[AlertRecord] = field(default_factory=list)  # one message each
    groups: dict[tuple[str, datetime, str], list[AlertRecord]] = field(default_factory=dict)
    later: dict[datetime, list[int]] = field(default_factory=dict)  # held until then
    dropped: list[int] = field(default_factory=list)  # digest copies with no digest any more


def plan(pacer: Pacer, channel: str, rows: Sequence[AlertRecord], now: datetime) -> Plan:
    """Sort due rows into those sent alone now, groups sent as one message, and held rows.

    A row held by a rate limit is known by its first attempt falling after its creation.
    """
    out = Plan()
    for row in rows:
        hold = pacer.hold(row.alert.watch, channel, row.created_at, digest_copy=row.digest_copy)
        if hold is None and row.digest_copy:
            out.dropped.append(row.id)
            continue
        if hold is None and row.attempts == 0 and row.next_attempt_at > row.created_at:
            hold = Hold(RATE, row.next_attempt_at)
        if hold is None:
            out.now.append(row)
        elif hold.release > now:
            out.later.setdefault(hold.release, []).append(row.id)
        else:
            # A digest or quiet-hours catch-up spans watches; a burst or overflow is one watch's.
            watch = row.alert.watch if hold.kind in (BURST, RATE) else ""
            out.groups.setdefault((hold.kind, hold.release, watch), []).append(row)
    for key, members in list(out.groups.items()):
        if key[0] == BURST and len(members) == 1:
            out.now.append(members[0])  # a burst of one is an ordinary alert
            del out.groups[key]
    return out


def one_per_story(rows: Sequence[AlertRecord]) -> list[AlertRecord]:
    """The rows to show in one grouped message: a story's first alert (or its digest copy)
    and its follow-up held for the same message are shown once, as the first alert."""
    shown: dict[tuple[int | None, str], AlertRecord] = {}
    for row in sorted(rows, key=lambda r: (r.stage > 0, r.id)):
        key = (row.story_id if row.story_id is not None else -row.id, row.alert.watch)
        shown.setdefault(key, row)
    return sorted(shown.values(), key=lambda r: r.id)


def span(window: timedelta) -> str:
    """A window in words: "10 minutes", "1 hour", "90 seconds"."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def heading(
    pacer: Pacer, kind: str, channel: str, watch: str, count: int, locale: Locale = ENGLISH
) -> str:
    """The title of a grouped message, in the channel's language."""
    if kind == DIGEST:
        return locale.count(DIGEST_TITLE, count)
    if kind == QUIET:
        return locale.count(QUIET_TITLE, count, channel=channel)
    if kind == BURST:
        return locale.count(BURST_TITLE, count, watch=watch, span=span(pacer.bursts[watch]))
    most, per = pacer.rate_limits[watch]
    return locale.count(RATE_TITLE, count, watch=watch, most=most, span=span(per))
