"""A scheduler tick skipped while the last one still runs is logged at DEBUG, not as a warning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app.logs import SKIPPED_TICKS


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def scheduler_log() -> Iterator[tuple[logging.Logger, _Records]]:
    logger = logging.getLogger("apscheduler.scheduler")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(SKIPPED_TICKS)
        logger.setLevel(level)


async def _slow_ticks() -> None:
    """A job ticking every 0.1 s that takes 0.5 s, as the daemon's jobs run (one at a time)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        asyncio.sleep,
        "interval",
        args=(0.5,),
        seconds=0.1,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    await asyncio.sleep(0.8)
    scheduler.shutdown(wait=False)


@pytest.mark.parametrize("filtered", [False, True])
async def test_a_skipped_tick_is_no_warning(
    scheduler_log: tuple[logging.Logger, _Records], filtered: bool
) -> None:
    logger, handler = scheduler_log
    logger.setLevel(logging.WARNING)
    if filtered:
        logger.addFilter(SKIPPED_TICKS)
    await _slow_ticks()
    skipped = [r for r in handler.records if "maximum number of running" in r.getMessage()]
    # Without the filter the scheduler warns: the test sees what it is about.
    assert bool(skipped) is not filtered
    assert all(r.levelno == logging.WARNING for r in skipped)


async def test_a_skipped_tick_shows_when_debugging(
    scheduler_log: tuple[logging.Logger, _Records],
) -> None:
    logger, handler = scheduler_log
    logger.setLevel(logging.DEBUG)
    logger.addFilter(SKIPPED_TICKS)
    await _slow_ticks()
    skipped = [r for r in handler.records if "maximum number of running" in r.getMessage()]
    assert skipped
    assert {r.levelname for r in skipped} == {"DEBUG"}
