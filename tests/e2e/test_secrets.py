"""Secrets in channel URLs never reach logs (at DEBUG), the database or command output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support import process
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, World, write_config
from tests.support.sinks import SmtpSink, WebhookSink

SLACK_TOKEN = "CanaryS3cretTokenXyZ1234"
SMTP_PASSWORD = "CanaryPassw0rdQ"


def test_feed_credentials_are_not_printed(tmp_path: Path, feed_server: FeedServer) -> None:
    """A source URL with a password shows masked in check and sources output."""
    url = feed_server.url("/wire.xml").replace("http://", f"http://reader:{SMTP_PASSWORD}@")
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds={"wire": url},
        channels={"console": "console://"},
        database=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    outputs = [process.run(config, *args) for args in (["check"], ["sources", "--json"])]
    assert all(done.returncode == 0 for done in outputs)
    text = "".join(done.stdout + done.stderr for done in outputs)
    assert "http://***@127.0.0.1" in text
    assert SMTP_PASSWORD not in text


def test_secret_canaries_stay_out_of_logs_database_and_output(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook_sink: WebhookSink
) -> None:
    """With both channels failing and logging at DEBUG, no secret shows up anywhere."""
    world = World(tmp_path, feed_server, smtp_sink, webhook_sink)
    webhook_sink.status = 500
    write_config(
        world.config,
        feeds={"wire": feed_server.url("/wire.xml")},
        channels={
            "team-slack": f"slack://T1JJ3T3L2/A1BRTD4JD/{SLACK_TOKEN}",
            # aiosmtpd offers no AUTH, so the login fails and the error is recorded.
            "analysts": f"mailto://desk:{SMTP_PASSWORD}@127.0.0.1:{smtp_sink.port}"
            "?to=desk@example.com&from=newsmonitor@example.com",
        },
        database=f"sqlite:///{world.db_file}",
        # Each failing channel is reported to the other, so the errors reach notices too.
        extra="operator: {channels: [team-slack, analysts], channel_failures: 1}\n",
    )
    outputs = []
    for _ in range(2):
        done = process.run(
            world.config, "--log-level", "debug", "run", "--once", slack_url=webhook_sink.slack_base
        )
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
        world.publish(MATCHING)
    for args in (["alerts", "--json"], ["sources", "--json"], ["check"]):
        done = process.run(world.config, *args)
        outputs += [done.stdout, done.stderr]

    assert len(webhook_sink.posts) == 1  # the Slack send really was attempted
    assert "retry" in " ".join(outputs) or "pending" in " ".join(outputs)
    with sqlite3.connect(world.db_file) as db:
        assert db.execute("SELECT count(*) FROM notices").fetchone()[0] >= 1
    stored = b"".join(p.read_bytes() for p in world.db_file.parent.iterdir())
    for secret in (SLACK_TOKEN, SMTP_PASSWORD):
        leaks = [line for text in outputs for line in text.splitlines() if secret in line]
        assert leaks == [], secret
        assert secret.encode() not in stored, secret
