"""Crontab schedules with crontab's weekday numbers.

APScheduler 3 counts weekdays from Monday = 0, while crontab has Sunday = 0 (or 7) and
Monday = 1; a weekday field of numbers is turned into names so `1-5` means Monday to Friday.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_RANGE = re.compile(r"([0-7])(?:-([0-7]))?")


def cron(spec: str, timezone: str = "UTC") -> CronTrigger:
    """A crontab schedule ("0 8 * * 1-5") in `timezone`; raises ValueError if malformed."""
    fields = spec.split()
    if len(fields) == 5:
        fields[4] = ",".join(_weekdays(part) for part in fields[4].split(","))
    return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(timezone))


def _weekdays(part: str) -> str:
    if "/" in part:
        raise ValueError(f"weekday {part!r}: no steps here, list the days")
    found = _RANGE.fullmatch(part)
    if found is None:
        if any(c.isdigit() for c in part):
            raise ValueError(f"weekday {part!r}: use 0-7 (0 and 7 are Sunday) or names")
        return part  # "*" or names, which mean the same to both
    first, last = int(found[1]), int(found[2] or found[1])
    if last < first:
        raise ValueError(f"weekday range {part!r} runs backwards")
    return ",".join(dict.fromkeys(_NAMES[day % 7] for day in range(first, last + 1)))
