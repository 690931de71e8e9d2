"""What the transport answered during one apprise send: HTTP status and Retry-After, SMTP codes.

apprise reports a send as a bare success or failure, but retrying well needs to know whether a
webhook said 404 (give up) or 429 with `Retry-After: 30` (wait), and whether an SMTP server said
451 (try later) or 550 (give up). apprise's HTTP plugins send with `requests` and its email
plugin with `smtplib`, so `install()` wraps `requests.Session.send` and `smtplib.SMTP.getreply`
to note each answer in the `Observation` of the send in progress. apprise runs each send in a
worker thread with a copy of the caller's context, so a context variable ties the answers to
the send that caused them, even with many channels sending at once. Outside `observe()` the
wrappers only pass values through.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import wraps
from typing import Any

import requests

# An absurd Retry-After must not park an alert for weeks.
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(slots=True)
class Observation:
    """The answers seen during one send; a failure answer wins over later routine ones."""

    http_status: int | None = None
    retry_after: float | None = None  # seconds, from the failing HTTP answer
    smtp_code: int | None = None  # the last SMTP reply of 400 or more
    transport_error: str | None = None  # e.g. "ConnectionError", "ReadTimeout"

    def http(self, status: int, retry_after: str | None, now: datetime) -> None:
        """Note an HTTP answer; the first failing one is kept."""
        if self.http_status is not None and not 200 <= self.http_status < 300:
            return
        self.http_status = status
        self.retry_after = parse_retry_after(retry_after, now)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


_current: ContextVar[Observation | None] = ContextVar("newsmonitor_send", default=None)


@contextmanager
def observe() -> Iterator[Observation]:
    """Collect the transport answers of sends started inside this block."""
    observation = Observation()
    token = _current.set(observation)
    try:
        yield observation
    finally:
        _current.reset(token)


def _send_wrapper(send: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(send)
    def observed_send(self: Any, request: Any, **kwargs: Any) -> Any:
        observation = _current.get()
        try:
            response = send(self, request, **kwargs)
        except requests.RequestException as exc:
            if observation is not None:
                observation.transport_error = type(exc).__name__
            raise
        if observation is not None:
            observation.http(
                response.status_code, response.headers.get("Retry-After"), datetime.now(UTC)
            )
        return response

    observed_send.__newsmonitor_wire__ = True  # type: ignore[attr-defined]
    return observed_send


def _getreply_wrapper(getreply: Callable[..., tuple[int, bytes]]) -> Callable[..., Any]:
    @wraps(getreply)
    def observed_getreply(self: Any) -> tuple[int, bytes]:
        observation = _current.get()
        try:
            code, message = getreply(self)
        except smtplib.SMTPServerDisconnected:
            if observation is not None:
                observation.transport_error = "SMTPServerDisconnected"
            raise
        # smtplib answers a refusal with RSET (250), so the last failure is what counts.
        if observation is not None and code >= 400:
            observation.smtp_code = code
        return code, message

    observed_getreply.__newsmonitor_wire__ = True  # type: ignore[attr-defined]
    return observed_getreply


def install() -> None:
    """Wrap the two transport calls once per process; calling again changes nothing."""
    if not getattr(requests.Session.send, "__newsmonitor_wire__", False):
        requests.Session.send = _send_wrapper(requests.Session.send)  # type: ignore[method-assign]
    if not getattr(smtplib.SMTP.getreply, "__newsmonitor_wire__", False):
        smtplib.SMTP.getreply = _getreply_wrapper(smtplib.SMTP.getreply)  # type: ignore[method-assign]


RETRY, DEAD = "retry", "dead"
_RETRYABLE_4XX = frozenset({408, 425, 429})


def verdict(observation: Observation) -> tuple[str, str | None]:
    """Whether a failed send is worth retrying, and the answer that decided it.

    Timeouts, connection errors, 5xx, 408, 425 and 429 may pass; other 4xx answers and SMTP 5xx
    replies will not change on a retry. With no answer at all, retry: a miss is worse than a
    duplicate.
    """
    status, code = observation.http_status, observation.smtp_code
    if status is not None and 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return DEAD, f"HTTP {status}"
    if status is not None and not 200 <= status < 300:
        return RETRY, f"HTTP {status}"
    if code is not None:
        return (DEAD if code >= 500 else RETRY), f"SMTP {code}"
    return RETRY, observation.transport_error
