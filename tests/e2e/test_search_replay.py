"""`search` and `replay` on stored history; a new watch fires on old articles only when replayed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from tests.support import process
from tests.support.feed_server import FeedServer
from tests.support.scenario import NOT_MATCHING, World
from tests.support.sinks import SmtpSink, WebhookSink

JAPAN_WATCH = """
  - name: japan-rates
    query: 'Japan NEAR/3 bank'
    notify: [analysts]
"""


@pytest.fixture
def world(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook_sink: WebhookSink
) -> World:
    """The end-to-end scenario on a SQLite file."""
    return World(tmp_path, feed_server, smtp_sink, webhook_sink)


async def _run_once(world: World) -> None:
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        await monitor.run_once()


async def test_a_new_watch_alerts_on_old_articles_only_when_replayed(world: World) -> None:
    """Added later, a watch stays quiet on stored articles; search and replay find them, and
    replay --notify sends each missed alert once."""
    await _run_once(world)
    world.publish(NOT_MATCHING)
    await _run_once(world)
    world.config.write_text(world.config.read_text() + JAPAN_WATCH)
    await _run_once(world)
    assert world.smtp.mails == []

    found = process.run(world.config, "search", "japan NEAR/3 bank", "--json")
    assert found.returncode == 0, found.stderr
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["title"] == NOT_MATCHING["title"]
    assert any("«Japan" in h["snippet"] for h in hit["hits"])

    dry = process.run(world.config, "replay", "--watch", "japan-rates", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["matches"], report["by_watch"]) == (1, {"japan-rates": 1})
    assert report["samples"][0]["hits"]
    assert world.smtp.mails == []

    for expected in (1, 0):
        sent = process.run(world.config, "replay", "--watch", "japan-rates", "--notify", "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout.splitlines()[-1])["alerts"] == expected
    assert [m.subject for m in world.smtp.mails] == [f"[japan-rates] {NOT_MATCHING['title']}"]


def test_search_and_replay_report_bad_input(world: World) -> None:
    """A query that does not parse, or an unknown watch, is a usage error (exit 2)."""
    bad = process.run(world.config, "search", "japan AND")
    assert bad.returncode == 2
    assert "invalid query" in bad.stderr
    unknown = process.run(world.config, "replay", "--watch", "nope")
    assert unknown.returncode == 2
    assert "no watch 'nope'" in unknown.stderr


async def test_full_text_is_stored_matched_searched_replayed_and_exported(world: World) -> None:
    """An item's content:encoded is kept as plain text: a watch fires on words only found
    there, and search, replay and export all see the same text."""
    await _run_once(world)
    world.publish(
        {
            "guid": "full-1",
            "title": "Markets wrap",
            "description": "Stocks rose.",
            "content": "<p>Seoul and <b>Beijing</b> agreed a trade deal &amp; more.</p>",
            "link": "http://news.test/full-1",
        }
    )
    await _run_once(world)
    assert "[korea-china-trade] Markets wrap" in [m.subject for m in world.smtp.mails]

    found = process.run(
        world.config, "search", "content:beijing", "--since", "1h", "--source", "wire", "--json"
    )
    assert found.returncode == 0, found.stderr
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["title"] == "Markets wrap"
    assert [h["field"] for h in hit["hits"]] == ["content"]
    elsewhere = process.run(world.config, "search", "beijing", "--source", "other", "--json")
    assert (elsewhere.returncode, elsewhere.stdout) == (0, "")

    replayed = process.run(world.config, "replay", "--query", "content:(trade deal)", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["matches"] == 1

    exported = process.run(world.config, "export", "--what", "articles", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    rows = {r["key"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert rows["guid:full-1"]["content"] == "Seoul and Beijing agreed a trade deal & more."
    assert rows["guid:old-1"]["content"] == ""
