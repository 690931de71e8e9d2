"""The scheduler's log: a tick skipped while the last one still runs is logged at DEBUG, not as a
warning, and a tick cancelled because the daemon stops leaves no ERROR and no traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app.logs import CANCELLED_TICKS, SKIPPED_TICKS


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _captured(name: str, added: logging.Filter) -> Iterator[tuple[logging.Logger, _Records]]:
    logger = logging.getLogger(name)
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(added)
        logger.setLevel(level)


@pytest.fixture
def scheduler_log() -> Iterator[tuple[logging.Logger, _Records]]:
    yield from _captured("apscheduler.scheduler", SKIPPED_TICKS)


@pytest.fixture
def executor_log() -> Iterator[tuple[logging.Logger, _Records]]:
    yield from _captured("apscheduler.executors.default", CANCELLED_TICKS)


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


async def _stop_during_a_tick(fails: bool = False) -> None:
    """The daemon's way to stop: the scheduler shut down while a job's tick runs."""

    started = asyncio.Event()

    async def tick() -> None:
        started.set()
        if fails:
            raise RuntimeError("a real fault")
        await asyncio.sleep(5)

    scheduler = AsyncIOScheduler(timezone=UTC)
    # No grace limit: on a busy machine the first tick may start late, and a skipped tick
    # would leave nothing to cancel.
    scheduler.add_job(
        tick,
        "interval",
        seconds=10,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await asyncio.sleep(0.1)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("filtered", [False, True])
async def test_a_tick_cancelled_at_stop_is_no_error(
    executor_log: tuple[logging.Logger, _Records], filtered: bool
) -> None:
    logger, handler = executor_log
    logger.setLevel(logging.INFO)
    if filtered:
        logger.addFilter(CANCELLED_TICKS)
    await _stop_during_a_tick()
    errors = [r for r in handler.records if r.levelno >= logging.ERROR]
    # Without the filter APScheduler logs the cancellation as an error: what the test is about.
    assert bool(errors) is not filtered
    assert all(r.exc_info for r in errors)


async def test_a_failing_tick_is_still_an_error(
    executor_log: tuple[logging.Logger, _Records],
) -> None:
    logger, handler = executor_log
    logger.addFilter(CANCELLED_TICKS)
    await _stop_during_a_tick(fails=True)
    (error,) = [r for r in handler.records if r.levelno >= logging.ERROR]
    assert error.exc_info is not None and isinstance(error.exc_info[1], RuntimeError)


async def test_a_cancelled_tick_shows_when_debugging(
    executor_log: tuple[logging.Logger, _Records],
) -> None:
    logger, handler = executor_log
    logger.setLevel(logging.DEBUG)
    logger.addFilter(CANCELLED_TICKS)
    await _stop_during_a_tick()
    (record,) = [r for r in handler.records if "cancelled" in r.getMessage()]
    assert record.levelname == "DEBUG" and record.exc_info is None
    assert "the daemon is stopping" in record.getMessage()
