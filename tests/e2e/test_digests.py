"""Digests through the whole daemon: feed server, store, Slack and SMTP receivers, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from tests.support import process
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, World
from tests.support.sinks import SmtpSink, WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
TITLE = str(MATCHING["title"])


@pytest.fixture
def world(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, slack_to: WebhookSink
) -> World:
    return World(tmp_path, feed_server, smtp_sink, slack_to)


def _next_eight(now: datetime) -> datetime:
    eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
    return eight if eight > now else eight + timedelta(days=1)


async def _run_once(world: World, at: datetime) -> None:
    """One daemon run (start, poll, deliver, stop) with its clock at `at`."""
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings, clock=lambda: at) as monitor:
        await monitor.run_once()


def _received(world: World) -> list[str]:
    """What arrived, in order: Slack titles, then email subjects."""
    slack = [str(p["blocks"][0]["text"]["text"]) for p in world.slack_payloads()]
    return slack + [mail.subject for mail in world.smtp.mails]


@pytest.mark.parametrize("mode", ["besides", "instead"])
async def test_a_digest_besides_or_instead_of_instant_alerts_across_restarts(
    world: World, mode: str
) -> None:
    """With digest_mode besides an alert reaches Slack and email at once and again in the
    next 08:00 digest; with a plain digest only in the digest; each daemon run is a restart,
    and nothing is lost or sent twice."""
    world.config.write_text(
        world.config.read_text() + f"    digest: '0 8 * * *'\n    digest_mode: {mode}\n"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    await _run_once(world, now)  # the baseline
    world.publish(MATCHING)
    await _run_once(world, now + timedelta(seconds=1))
    instant = [f"[korea-china-trade] {TITLE}"] * 2 if mode == "besides" else []
    assert _received(world) == instant
    await _run_once(world, now + timedelta(seconds=2))
    assert _received(world) == instant
    morning = _next_eight(now + timedelta(seconds=2))
    await _run_once(world, morning)
    await _run_once(world, morning + timedelta(minutes=1))
    assert _received(world) == [
        *instant[:1],
        "newsmonitor digest: 1 alert",
        *instant[1:],
        "newsmonitor digest: 1 alert",
    ]
    digest_mail = world.smtp.mails[-1]
    assert TITLE in digest_mail.text() and str(MATCHING["link"]) in digest_mail.text()
    assert TITLE in str(world.slack_payloads()[-1])
    listed = process.run(world.config, "alerts", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    stages = [-1, 0] if mode == "besides" else [0]
    assert sorted((r["channel"], r["stage"], r["status"]) for r in rows) == sorted(
        (c, n, "sent") for c in ("analysts", "team-slack") for n in stages
    )
    table = process.run(world.config, "alerts", COLUMNS="300").stdout
    assert ("(digest copy)" in table) == (mode == "besides")
