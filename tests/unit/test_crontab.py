"""Crontab schedules keep crontab's weekday numbers (Sunday 0 or 7, Monday 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.crontab import cron

SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _days(spec: str) -> list[str]:
    trigger, fires, when = cron(spec), [], SATURDAY
    while (fire := trigger.get_next_fire_time(None, when)) < SATURDAY + timedelta(days=7):
        fires.append(f"{fire:%a}")
        when = fire + timedelta(seconds=1)
    return fires


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("0 8 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 8 * * 0", ["Sun"]),
        ("0 8 * * 7", ["Sun"]),
        ("0 8 * * 0,6", ["Sun", "Sat"]),
        ("0 8 * * 5-7", ["Sun", "Fri", "Sat"]),
        ("0 8 * * mon", ["Mon"]),
        ("0 8 * * *", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
    ],
)
def test_weekday_numbers_mean_what_they_mean_in_crontab(spec: str, days: list[str]) -> None:
    """A weekday field of numbers fires on crontab's days, not APScheduler's Monday-first ones."""
    assert _days(spec) == days


@pytest.mark.parametrize("spec", ["0 8 * * */2", "0 8 * * 5-1", "0 8 * * 8"])
def test_weekday_steps_backward_ranges_and_bad_numbers_are_refused(spec: str) -> None:
    """A weekday step, a backward range or a number past 7 is an error, not a guess."""
    with pytest.raises(ValueError, match=r"weekday|day_of_week|range"):
        cron(spec)
