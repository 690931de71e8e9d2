"""The whole path in one process: a real feed server, SMTP server and Slack receiver."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.app.delivery import DeliveryReport
from monitor.app.poll.poller import PollOutcome
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, NOT_MATCHING, World
from tests.support.sinks import SmtpSink, WebhookSink


@pytest.fixture
def world(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_sink: SmtpSink,
    slack_to: WebhookSink,
    db_url: str,
) -> World:
    """The scenario on a SQLite file, then again on PostgreSQL."""
    return World(tmp_path, feed_server, smtp_sink, slack_to, database=db_url)


async def _run_once(world: World) -> tuple[list[PollOutcome], DeliveryReport]:
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        return await monitor.run_once()


async def test_first_poll_is_a_baseline(world: World) -> None:
    """A feed seen for the first time sends no alert, though its backlog matches a watch."""
    outcomes, report = await _run_once(world)
    assert [(o.ok, o.new_articles, o.baseline) for o in outcomes] == [(True, 2, True)]
    assert report.sent == 0
    assert world.smtp.mails == []
    assert world.slack.posts == []


async def test_one_email_and_one_slack_message_per_matching_item(world: World) -> None:
    """A new matching item gives exactly one email and one Slack payload; a non-match none."""
    await _run_once(world)
    world.publish(MATCHING, NOT_MATCHING)
    outcomes, report = await _run_once(world)
    assert [(o.new_articles, o.alerts) for o in outcomes] == [(2, 2)]
    assert report.sent == 2

    [mail] = world.smtp.mails
    assert mail.recipients == ["desk@example.com"]
    assert mail.subject == f"[korea-china-trade] {MATCHING['title']}"
    body = mail.text()
    for expected in (
        MATCHING["title"],
        "Source: wire",
        MATCHING["link"],
        MATCHING["published"].strftime("%Y-%m-%d %H:%M UTC"),
        "Matched: South Korea, Seoul, China, Beijing, tariff*",
    ):
        assert expected in body

    [payload] = world.slack_payloads()
    text = str(payload)
    assert MATCHING["title"] in text
    assert MATCHING["link"] in text
    assert "korea-china-trade" in text
    assert "Japan" not in text


async def test_nothing_again_on_the_next_poll(world: World) -> None:
    """An unchanged feed (a 304 to our conditional GET) sends nothing more."""
    await _run_once(world)
    world.publish(MATCHING)
    await _run_once(world)
    outcomes, report = await _run_once(world)
    assert [o.not_modified for o in outcomes] == [True]
    assert report.sent == 0
    assert len(world.smtp.mails) == 1
    assert len(world.slack.posts) == 1
    last = world.feeds.requests[-1]
    assert last.headers.get("if-none-match")


async def test_nothing_again_when_the_server_ignores_conditional_get(world: World) -> None:
    """A feed served in full again (no ETag, no Last-Modified) is recognised item by item."""
    world.etag = False
    world.publish()
    await _run_once(world)
    world.publish(MATCHING)
    await _run_once(world)
    outcomes, report = await _run_once(world)
    assert [(o.not_modified, o.new_articles) for o in outcomes] == [(False, 0)]
    assert report.sent == 0
    assert len(world.smtp.mails) == 1


async def test_a_failing_channel_does_not_stop_the_other(world: World) -> None:
    """Slack answering 500 leaves its alert to retry while the email still goes out."""
    world.slack.status = 500
    await _run_once(world)
    world.publish(MATCHING)
    _, report = await _run_once(world)
    assert (report.sent, report.retried) == (1, 1)
    assert len(world.smtp.mails) == 1
    settings = load_settings(world.config)
    async with Monitor(settings) as monitor:
        [slack_row] = [a for a in monitor.store.list_alerts() if a.channel == "team-slack"]
    assert slack_row.status == "pending"
    assert slack_row.attempts == 1
    assert "500" in (slack_row.last_error or "")


async def test_fresh_alerts_during_a_pass_get_the_next_pass_at_once(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, slack_to: WebhookSink
) -> None:
    """A poll that commits alerts while a channel's pass runs starts its next pass as soon as
    that one ends (a pass claims only rows due by its start); a plain tick does not."""
    world = World(tmp_path, feed_server, smtp_sink, slack_to)
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        passes: list[str] = []
        gate = asyncio.Event()
        deliver = monitor.deliverer.deliver_channel

        async def held(name: str) -> DeliveryReport:
            passes.append(name)
            if len(passes) <= 2:  # the first pass of each channel waits for the gate
                await gate.wait()
            return await deliver(name)

        monitor.deliverer.deliver_channel = held  # type: ignore[method-assign]
        await monitor._deliver_tick()
        await asyncio.sleep(0)
        await monitor._deliver_tick()  # the scheduler's tick: the running passes suffice
        await monitor._deliver_tick(fresh=True)  # a poll's, with new alerts: once more
        await monitor._deliver_tick(fresh=True)
        gate.set()
        await asyncio.wait_for(asyncio.gather(*monitor._delivering.values()), 10)
    assert sorted(passes) == ["analysts", "analysts", "team-slack", "team-slack"]
