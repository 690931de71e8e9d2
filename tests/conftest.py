"""Shared fixtures: the loopback guard, databases (SQLite files and PostgreSQL), alert sinks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core import schedule
from monitor.store.repository import Store
from tests.support import loopback
from tests.support.feed_server import feed_server  # noqa: F401  (a shared fixture)
from tests.support.sinks import SmtpSink, WebhookSink

loopback.install()
# The suite polls its local servers every second; outside the tests, configs keep the 30 s floor.
schedule.INTERVAL_FLOOR = timedelta(seconds=1)

PG_BASE = os.environ.get("NEWSMONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _services_required() -> bool:
    return os.environ.get("NEWSMONITOR_REQUIRE_SERVICES") == "1"


def _pg_problem() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {dsn} is not reachable: {exc}".strip()


@pytest.fixture(scope="session")
def pg_available() -> None:
    """Skip (or, with NEWSMONITOR_REQUIRE_SERVICES=1, fail) when PostgreSQL is not there."""
    problem = _pg_problem()
    if problem is None:
        return
    if _services_required():
        pytest.fail(f"NEWSMONITOR_REQUIRE_SERVICES=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture
def pg_url(pg_available: None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's own directory."""
    return f"sqlite:///{tmp_path / 'newsmonitor.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running aiosmtpd server on 127.0.0.1."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A running Slack-compatible webhook receiver on 127.0.0.1."""
    with WebhookSink() as sink:
        yield sink


@pytest.fixture
def slack_to(webhook_sink: WebhookSink, monkeypatch: pytest.MonkeyPatch) -> WebhookSink:
    """apprise's Slack plugin pointed at the local receiver (slack.com cannot be reached here)."""
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", webhook_sink.slack_base)
    return webhook_sink


@pytest.fixture
def no_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """apprise waits 5.5 s between two sends of one service; tests that send bursts skip it."""
    from apprise.plugins.base import NotifyBase

    monkeypatch.setattr(NotifyBase, "request_rate_per_sec", 0)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An empty newsmonitor database, on SQLite and then on PostgreSQL."""
    opened = Store.open(db_url)
    yield opened
    opened.close()
