"""Logging for the daemon and the CLI: one stderr stream, with configured secrets masked."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable

from monitor.core.secrets import mask

# These libraries write request URLs, and so webhook tokens, at DEBUG or INFO.
# Alembic's INFO lines describe its internals; the store logs the migration itself.
QUIET_LOGGERS = ("apprise", "httpx", "httpcore", "urllib3", "requests", "apscheduler", "alembic")


class RedactingFormatter(logging.Formatter):
    """Masks every known secret in the formatted line, tracebacks included."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self.secrets: set[str] = set()

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record), self.secrets)


_formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class SkippedTicks(logging.Filter):
    """A tick skipped while the job's last one still runs (a slow start-up, a long poll) is the
    design, one instance per job, and no fault: logged at DEBUG, not as a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or "maximum number of running instances" not in (
            record.getMessage()
        ):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


SKIPPED_TICKS = SkippedTicks()


class CancelledTicks(logging.Filter):
    """A tick still running when the daemon stops is cancelled with the scheduler (its work
    is in tasks the daemon finishes itself); APScheduler reports that as an ERROR with a
    traceback, which a clean SIGTERM must not leave in the log. Logged at DEBUG instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None or not isinstance(record.exc_info[1], asyncio.CancelledError):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info = record.exc_text = None
        record.msg, record.args = "%s (cancelled: the daemon is stopping)", (record.getMessage(),)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


CANCELLED_TICKS = CancelledTicks()


def setup_logging(level: str) -> None:
    """Log to stderr at `level`; chatty libraries stay at WARNING or quieter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter)
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("apscheduler.scheduler").addFilter(SKIPPED_TICKS)
    logging.getLogger("apscheduler.executors.default").addFilter(CANCELLED_TICKS)


def hide(secrets: Iterable[str]) -> None:
    """Mask these strings in every log line from now on."""
    _formatter.secrets.update(secrets)
