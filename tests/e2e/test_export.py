"""`newsmonitor export`: stored articles, matches and alerts with delivery status, CSV or JSONL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from monitor.store.history import export_rows
from monitor.store.repository import Store
from tests.support import process
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, NOT_MATCHING, World
from tests.support.sinks import SmtpSink, WebhookSink

# apprise paces sends per channel by seconds, so the history holds one match, not several.
HOSTILE = {**NOT_MATCHING, "guid": "new-3", "title": '=HYPERLINK("http://x.test","Japan")'}


async def _history(world: World) -> None:
    """A baseline, then a match and two non-matches; Slack fails, so its alert stays pending."""
    world.slack.status = 500
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        await monitor.run_once()
        world.publish(MATCHING, NOT_MATCHING, HOSTILE)
        await monitor.run_once()


@pytest.fixture
async def world(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_sink: SmtpSink,
    slack_to: WebhookSink,
    db_url: str,
) -> World:
    """The scenario's history, on SQLite and on PostgreSQL."""
    built = World(tmp_path, feed_server, smtp_sink, slack_to, database=db_url)
    await _history(built)
    return built


async def test_export_rows_of_each_kind(world: World) -> None:
    """Articles, matches and alerts come out whole, filtered by watch and time."""
    store = Store.open(load_settings(world.config).database)
    try:
        rows = list(export_rows(store.engine, "articles"))
        assert len(rows) == 5
        watched = list(export_rows(store.engine, "articles", watch="korea-china-trade"))
        assert [r["title"] for r in watched] == [MATCHING["title"]]
        [match] = export_rows(store.engine, "matches")
        assert match["title"] == MATCHING["title"]
        assert match["terms"][:2] == ["South Korea", "Seoul"]
        alerts = list(export_rows(store.engine, "alerts", watch="korea-china-trade"))
        assert sorted((a["channel"], a["status"]) for a in alerts) == [
            ("analysts", "sent"),
            ("team-slack", "pending"),
        ]
        [pending] = [a for a in alerts if a["status"] == "pending"]
        assert "500" in pending["last_error"]
        assert pending["sent_at"] is None
        assert pending["attempts"] == 1
        future = datetime.now(UTC) + timedelta(hours=1)
        for kind in ("articles", "matches", "alerts"):
            assert list(export_rows(store.engine, kind, since=future)) == []
        assert list(export_rows(store.engine, "alerts", watch="nothing")) == []
    finally:
        store.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_export_command_writes_csv_and_jsonl(world: World) -> None:
    """The command writes a CSV with a header and inert formulas, and one JSON object per line."""
    done = process.run(world.config, "export", "--format", "csv", "--what", "alerts")
    assert done.returncode == 0, done.stderr
    assert "exported 2 alerts" in done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert sorted(r["status"] for r in table) == ["pending", "sent"]
    assert table[0]["terms"].startswith("South Korea; Seoul")
    assert table[0]["sent_at"] == "" or table[1]["sent_at"] == ""

    done = process.run(world.config, "export", "--format", "csv", "--what", "articles")
    titles = [r["title"] for r in csv.DictReader(io.StringIO(done.stdout))]
    assert "'" + HOSTILE["title"] in titles

    done = process.run(world.config, "export", "--what", "matches", "--since", "1h")
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stdout.splitlines()]
    assert line["title"] == MATCHING["title"]
    assert line["matched_at"].endswith("+00:00")

    bad = process.run(world.config, "export", "--format", "xml")
    assert bad.returncode == 2
    assert "use one of csv, jsonl" in bad.stderr
