"""Validated field types the config models share: durations, sizes, counts, names, schedules,
and the strict model config; each check's message is what the user sees next to the key."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, ConfigDict, ValidationInfo

from monitor.config.units import parse_duration, parse_size
from monitor.core import schedule
from monitor.core.crontab import cron
from monitor.core.egress import never_allowed
from monitor.core.phrases import LANGUAGES

_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
TERM_NAME = re.compile(r"[a-z0-9_]+")


def check(test: Callable[[Any], bool], message: str) -> AfterValidator:
    """A validator that fails with `message` when `test` does not hold."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise ValueError(message)
        return value

    return AfterValidator(validate)


def not_bool(value: Any) -> Any:
    """The value, unless it is a boolean."""
    # pydantic reads true as 1 in lax mode; a count written as a boolean is a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    if never_allowed(network):
        raise ValueError(
            f"{network} overlaps link-local, cloud metadata or unspecified addresses, "
            "which are never allowed"
        )
    return str(network)


def http_url(value: str) -> str:
    """The value, if it is an http(s) URL with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value


def time_zone(name: str) -> str:
    """The name, if it names a time zone."""
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone {name!r} (use e.g. UTC, Europe/Berlin)") from None
    return name


def _crontab(spec: str) -> str:
    try:
        cron(spec)
    except ValueError as exc:
        raise ValueError(
            f'not a crontab schedule ("minute hour day month weekday"): {exc}'
        ) from None
    return spec


def parse_quiet_hours(spec: str) -> tuple[time, time]:
    """Read "HH:MM-HH:MM" as (start, end); raise ValueError."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise ValueError('use "HH:MM-HH:MM", e.g. "22:00-07:00"') from None
    if start == end:
        raise ValueError("start and end are the same time")
    return start, end


def parse_rate_limit(spec: str) -> tuple[int, timedelta]:
    """Read "N/duration" as (N, duration); raise ValueError."""
    count, _, per = spec.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or not per:
        raise ValueError('use "N/duration", e.g. "5/1h"')
    return int(count), parse_duration(per.strip())


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _at_least_floor(value: timedelta) -> timedelta:
    # Read at validation time, so tests can lower the floor for their local servers.
    floor = schedule.INTERVAL_FLOOR
    if value < floor:
        raise ValueError(f"must be at least {floor.total_seconds():g}s")
    return value


# `interval: auto` as a duration no text can spell (durations are never negative), so that
# errors name the key alone rather than each member of a union.
AUTO = timedelta(microseconds=-1)


def _duration_or_auto(value: Any) -> timedelta:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return AUTO
    return parse_duration(value)


def _auto_or_floor(value: timedelta) -> timedelta:
    return value if value == AUTO else _at_least_floor(value)


Interval = Annotated[Duration, AfterValidator(_at_least_floor)]
IntervalOrAuto = Annotated[
    timedelta, BeforeValidator(_duration_or_auto), AfterValidator(_auto_or_floor)
]
Timeout = Annotated[Duration, check(lambda d: d > timedelta(0), "must be greater than 0")]
Size = Annotated[int, BeforeValidator(parse_size), check(lambda n: n > 0, "must be greater than 0")]
Count = Annotated[int, BeforeValidator(not_bool)]
Language = Annotated[
    str,
    check(
        lambda s: s in LANGUAGES, f"must be one of {', '.join(LANGUAGES)} (messages exist in these)"
    ),
]
Text = Annotated[str, check(lambda s: s.strip() != "", "must not be empty")]
# When the linked article page is read (monitor.app.poll.pages).
FullText = Literal["auto", "always", "never"]
SourceName = Annotated[
    str,
    check(lambda s: _SOURCE_NAME.fullmatch(s) is not None, "must match [a-z0-9][a-z0-9_.-]*"),
]
TermName = Annotated[
    str,
    check(lambda s: TERM_NAME.fullmatch(s) is not None, "term list names must match [a-z0-9_]+"),
]
Network = Annotated[str, AfterValidator(_network)]
Crontab = Annotated[str, AfterValidator(_crontab)]
# Checked as read; to_domain turns the text into values.
QuietHours = Annotated[str, AfterValidator(lambda s: parse_quiet_hours(s) and s)]
RateLimit = Annotated[str, AfterValidator(lambda s: parse_rate_limit(s) and s)]


def not_below(other: str) -> Callable[[Any, timedelta, ValidationInfo], timedelta]:
    """A field validator: the value must be at least the (earlier) field `other`."""

    def validate(cls: Any, value: timedelta, info: ValidationInfo) -> timedelta:
        low = info.data.get(other)
        if low is not None and value < low:
            raise ValueError(f"must be at least {other}")
        return value

    return classmethod(validate)  # type: ignore[return-value]


# Each module's base model takes this: a base imported from here would hide from ruff that its
# subclasses are pydantic models, whose mutable defaults are copied, not shared.
STRICT = ConfigDict(extra="forbid", frozen=True)  # unknown keys are errors; values never change
