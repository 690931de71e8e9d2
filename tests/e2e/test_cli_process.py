"""The newsmonitor command as a process: run --once, the daemon, check, sources, alerts."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import process
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, NOT_MATCHING, World, write_config
from tests.support.sinks import SmtpSink, WebhookSink


@pytest.fixture
def world(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook_sink: WebhookSink
) -> World:
    return World(tmp_path, feed_server, smtp_sink, webhook_sink)


def _once(world: World) -> subprocess.CompletedProcess[str]:
    done = process.run(world.config, "run", "--once", slack_url=world.slack.slack_base)
    assert done.returncode == 0, done.stderr
    return done


def test_run_once_sends_one_email_and_one_slack_message_per_new_match(world: World) -> None:
    """Baseline first, then exactly one alert per channel for the new match, then nothing."""
    _once(world)
    assert (world.smtp.mails, world.slack.posts) == ([], [])
    world.publish(MATCHING, NOT_MATCHING)
    done = _once(world)
    assert "alerts sent 2" in done.stderr
    assert len(world.smtp.mails) == 1
    assert MATCHING["title"] in world.smtp.mails[0].subject
    assert len(world.slack.posts) == 1
    assert MATCHING["link"] in world.slack.posts[0].body.decode()
    _once(world)
    assert (len(world.smtp.mails), len(world.slack.posts)) == (1, 1)


def test_run_once_exits_zero_when_a_source_fails_and_sources_shows_why(world: World) -> None:
    """A broken source is recorded and reported; the run still succeeds for the others."""
    world.config.write_text(
        world.config.read_text().replace(
            "sources:\n", f"sources:\n  - {{name: broken, url: {world.feeds.url('/gone.xml')}}}\n"
        )
    )
    done = _once(world)
    assert "1 failed" in done.stderr
    assert "broken: http" in done.stderr
    listed = process.run(world.config, "sources", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["broken"]["consecutive_failures"] == 1
    assert rows["broken"]["last_error_kind"] == "http"
    assert "404" in rows["broken"]["last_error"]
    assert rows["wire"]["articles"] == 2
    assert rows["wire"]["last_error"] is None


def test_alerts_lists_deliveries_as_json(world: World) -> None:
    """`alerts --json` shows each alert per channel with its delivery state."""
    _once(world)
    world.publish(MATCHING)
    _once(world)
    listed = process.run(world.config, "alerts", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted((r["channel"], r["status"]) for r in rows) == [
        ("analysts", "sent"),
        ("team-slack", "sent"),
    ]
    assert {r["title"] for r in rows} == {MATCHING["title"]}


def test_run_once_exits_one_when_the_database_is_unreachable(tmp_path: Path) -> None:
    """No database means the run cannot work at all: exit 1 with a clear message."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        'database: "postgresql+psycopg://nobody@127.0.0.1:9/none"\n'
        "channels: {console: {url: 'console://'}}\n"
    )
    done = process.run(config, "run", "--once")
    assert done.returncode == 1, done.stderr
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_once_exits_one_when_the_database_cannot_be_created(tmp_path: Path) -> None:
    """A SQLite path that cannot exist is a clear error with exit 1, not a traceback."""
    (tmp_path / "file").write_text("not a directory")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database: "sqlite:///{tmp_path}/file/newsmonitor.db"\n'
        "channels: {console: {url: 'console://'}}\n"
    )
    done = process.run(config, "run", "--once")
    assert done.returncode == 1, done.stderr
    assert "error: cannot create" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_validates_and_creates_nothing(world: World) -> None:
    """`check` prints a summary and exits 0 without creating the database."""
    done = process.run(world.config, "check")
    assert done.returncode == 0, done.stderr
    assert "config OK" in done.stdout
    assert "korea-china-trade -> team-slack, analysts" in done.stdout
    assert "warning" not in done.stdout
    assert not world.db_file.exists()
    assert not world.db_file.parent.exists()


def test_check_flags_a_watch_whose_channels_are_all_off(tmp_path: Path) -> None:
    """A watch that can never deliver is pointed out, though the config is valid."""
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds={},
        channels={"console": "console://", "team-slack": ""},
        database=f"sqlite:///{tmp_path / 'db.sqlite'}",
        notify=["team-slack"],
    )
    done = process.run(config, "check")
    assert done.returncode == 0, done.stderr
    assert "korea-china-trade -> team-slack (off)" in done.stdout
    assert "every channel of this watch is off" in done.stdout


def test_config_error_exits_two_with_file_and_line(tmp_path: Path) -> None:
    """A config problem is reported as file:line: key: message, with exit code 2."""
    config = tmp_path / "monitor.yaml"
    config.write_text("database: sqlite:///x.db\nfetch:\n  intervall: 5m\n")
    for args in (["check"], ["run", "--once"]):
        done = process.run(config, *args)
        assert done.returncode == 2
        assert f"{config}:3: fetch.intervall: Extra inputs are not permitted" in done.stderr


@contextmanager
def running_daemon(world: World, log: Path) -> Iterator[subprocess.Popen[str]]:
    """`newsmonitor run` as a process, past its first (baseline) poll; killed if left running."""
    daemon = process.start(world.config, "run", slack_url=world.slack.slack_base, log=log)
    try:
        process.wait_for(lambda: "baseline" in log.read_text(), what="the baseline poll")
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(5)


def test_daemon_alerts_then_stops_cleanly_on_sigterm(world: World, tmp_path: Path) -> None:
    """The daemon sends an alert for an item published while it runs, and SIGTERM exits 0."""
    log = tmp_path / "daemon.log"
    with running_daemon(world, log) as daemon:
        world.publish(MATCHING)
        process.wait_for(
            lambda: len(world.smtp.mails) == 1 and len(world.slack.posts) == 1,
            what="one email and one Slack message",
        )
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0, log.read_text()
    time.sleep(0.5)
    assert (len(world.smtp.mails), len(world.slack.posts)) == (1, 1)


def test_sigterm_lets_a_send_in_flight_finish_and_restart_sends_nothing_twice(
    world: World, tmp_path: Path
) -> None:
    """A send still waiting for Slack at SIGTERM completes, is recorded, and is not repeated."""
    log = tmp_path / "daemon.log"
    with running_daemon(world, log) as daemon:
        world.slack.delay = 3
        world.publish(MATCHING)
        process.wait_for(lambda: len(world.slack.posts) == 1, what="the Slack send to start")
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0, log.read_text()
        assert time.monotonic() - started >= 2  # it waited for the answer
    world.slack.delay = 0
    _once(world)
    assert (len(world.slack.posts), len(world.smtp.mails)) == (1, 1)
    listed = process.run(world.config, "alerts", "--json")
    assert {json.loads(line)["status"] for line in listed.stdout.splitlines()} == {"sent"}


def test_second_signal_exits_at_once(world: World, tmp_path: Path) -> None:
    """A second SIGINT does not wait for a hung channel."""
    log = tmp_path / "daemon.log"
    with running_daemon(world, log) as daemon:
        world.slack.delay = 20
        world.publish(MATCHING)
        process.wait_for(lambda: len(world.slack.posts) == 1, what="the Slack send to start")
        daemon.send_signal(signal.SIGINT)
        time.sleep(0.5)
        daemon.send_signal(signal.SIGINT)
        assert daemon.wait(timeout=5) == 1
        assert "second signal" in log.read_text()


def test_second_daemon_on_the_same_sqlite_file_refuses_to_start(
    world: World, tmp_path: Path
) -> None:
    """Two processes never share a SQLite database: the second says who holds it."""
    with running_daemon(world, tmp_path / "daemon.log") as daemon:
        second = process.run(world.config, "run", "--once")
        assert second.returncode == 1
        assert f"(pid {daemon.pid}) is already using" in second.stderr
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0


def test_log_level_comes_from_the_environment(world: World) -> None:
    """NEWSMONITOR_LOG_LEVEL=warning hides the info lines."""
    quiet = process.run(world.config, "run", "--once", NEWSMONITOR_LOG_LEVEL="warning")
    assert quiet.returncode == 0
    assert " INFO " not in quiet.stderr
    loud = process.run(world.config, "--log-level", "debug", "run", "--once")
    assert loud.returncode == 0
    assert " DEBUG " in loud.stderr
