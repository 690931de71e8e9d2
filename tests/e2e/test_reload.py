"""Live reload: config edits and SIGHUP take effect while the daemon runs; bad ones do not."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from tests.support import process
from tests.support.feed_server import FeedServer, rss
from tests.support.scenario import MATCHING, NOT_MATCHING, NOW, World
from tests.support.sinks import SmtpSink, WebhookSink

JAPAN_WATCH = """
  - name: japan-rates
    query: 'Japan AND rates'
    notify: [analysts]
"""


@pytest.fixture
def world(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook_sink: WebhookSink
) -> World:
    """The end-to-end scenario on a SQLite file."""
    return World(tmp_path, feed_server, smtp_sink, webhook_sink)


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait, without blocking the daemon's loop, until `predicate` holds (20 s at most)."""
    deadline = time.monotonic() + 20
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running(world: World) -> AsyncIterator[Monitor]:
    """The daemon running in this process, past the baseline poll of its source."""
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    stop = asyncio.Event()
    async with Monitor(settings) as monitor:
        task = asyncio.create_task(monitor.run_forever(stop))
        try:
            await until(lambda: _articles(monitor, "wire") == 2, "the baseline poll")
            yield monitor
        finally:
            stop.set()
            await task


def _articles(monitor: Monitor, source: str) -> int:
    return {s.name: s.articles for s in monitor.store.list_sources()}.get(source, 0)


def _subjects(world: World) -> list[str]:
    return [mail.subject for mail in world.smtp.mails]


async def test_edits_to_sources_and_watches_take_effect_without_a_restart(world: World) -> None:
    """A source and a watch added to the file start working; a removed watch stops alerting."""
    world.feeds.set("/second.xml", rss([{**MATCHING, "guid": "s-1"}], title="Second"))
    async with running(world) as monitor:
        text = world.config.read_text()
        second = f"  - {{name: second, url: {world.feeds.url('/second.xml')}}}\n"
        world.config.write_text(text.replace("sources:\n", "sources:\n" + second) + JAPAN_WATCH)
        await until(lambda: len(monitor.settings.watches) == 2, "the reload")
        await until(lambda: _articles(monitor, "second") == 1, "the new source's baseline")

        world.publish(NOT_MATCHING)
        await until(lambda: len(world.smtp.mails) == 1, "the new watch's alert")
        assert _subjects(world) == [f"[japan-rates] {NOT_MATCHING['title']}"]

        without_korea = text.split("  - name: korea-china-trade")[0]
        world.config.write_text(without_korea + JAPAN_WATCH)
        await until(lambda: len(monitor.settings.watches) == 1, "the watch's removal")
        assert [w.name for w in monitor.settings.watches] == ["japan-rates"]
        assert not [s for s in monitor.store.list_sources() if s.name == "second" and s.active]
        world.publish(MATCHING)
        await until(lambda: _articles(monitor, "wire") == 4, "the poll of the new item")
        assert monitor.store.list_alerts() == [
            a for a in monitor.store.list_alerts() if a.alert.watch == "japan-rates"
        ]
        assert len(world.smtp.mails) == 1


async def test_a_digest_added_by_a_reload_holds_the_next_alert(world: World) -> None:
    """Pacing follows the reloaded config: once the watch takes a digest, its next alert
    waits for the schedule instead of going out."""
    async with running(world) as monitor:
        text = world.config.read_text()
        world.config.write_text(text + "    digest: '0 8 * * *'\n    follow_up_at: 3\n")
        await until(lambda: monitor.settings.watches[0].digest is not None, "the reload")
        world.publish(MATCHING)
        await until(lambda: len(monitor.store.list_alerts()) == 2, "the alerts")
        await asyncio.sleep(1.5)  # a few delivery passes
        assert world.smtp.mails == [] and world.slack.posts == []
        assert {a.status for a in monitor.store.list_alerts()} == {"pending"}
        assert monitor.poller.config.followups == {"korea-china-trade": 3}


async def test_an_invalid_edit_is_reported_and_the_last_good_config_stays(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken config is logged as file:line and the daemon keeps alerting on the old one."""
    caplog.set_level(logging.INFO)
    async with running(world) as monitor:
        good = world.config.read_text()
        world.config.write_text(good.replace('notify: ["team-slack", "analysts"]', "notify: [x]"))
        await until(lambda: "config not reloaded" in caplog.text, "the reload to be refused")
        line = good.splitlines().index('    notify: ["team-slack", "analysts"]') + 1
        assert f"{world.config}:{line}: watches.0.notify.0: unknown channel 'x'" in caplog.text

        world.publish(MATCHING)
        await until(lambda: len(world.smtp.mails) == 1, "an alert on the last good config")
        assert _subjects(world) == [f"[korea-china-trade] {MATCHING['title']}"]

        world.config.write_text(good.replace("(trade OR", "(rates OR trade OR"))
        await until(lambda: "config reloaded: watches ~korea-china-trade" in caplog.text, "reload")
        assert "rates OR" in monitor.settings.watches[0].query


def _rewrite_keeping_stamps(path: Path, old: str, new: str) -> None:
    """Replace text in a file without changing its size, inode or modification time."""
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.slow
def test_sighup_and_included_files_reload_the_daemon_process(world: World, tmp_path: Path) -> None:
    """A new included file is picked up, a broken one reported, and SIGHUP forces a reload."""
    watches = tmp_path / "watches"
    watches.mkdir()
    (watches / "base.yaml").write_text("watches: []\n")
    world.config.write_text(world.config.read_text() + "include: [watches/*.yaml]\n")
    log = tmp_path / "daemon.log"
    daemon = process.start(world.config, "run", slack_url=world.slack.slack_base, log=log)
    try:
        process.wait_for(lambda: "baseline" in log.read_text(), what="the baseline poll")
        japan = watches / "japan.yaml"
        japan.write_text("watches:" + JAPAN_WATCH)
        process.wait_for(lambda: "watches +japan-rates" in log.read_text(), what="the reload")
        world.publish(NOT_MATCHING)
        process.wait_for(lambda: len(world.smtp.mails) == 1, what="the included watch's alert")

        broken = watches / "broken.yaml"
        broken.write_text("watches:\n  - name: b\n    query: 'a AND'\n    notify: [analysts]\n")
        process.wait_for(lambda: f"{broken}:3: watches.0.query" in log.read_text(), what="error")
        broken.unlink()
        process.wait_for(lambda: log.read_text().count("config reloaded") == 2, what="recovery")

        # No stamp shows this edit, so only SIGHUP can bring it in.
        _rewrite_keeping_stamps(japan, "'Japan AND rates'", "'Seoul AND rates'")
        daemon.send_signal(signal.SIGHUP)
        process.wait_for(lambda: "watches ~japan-rates" in log.read_text(), what="SIGHUP reload")
        later = NOW + timedelta(minutes=1)
        seoul = {"guid": "n-3", "title": "Seoul rates", "link": "http://news.test/n-3"}
        world.publish({**NOT_MATCHING, **seoul, "published": later})
        process.wait_for(lambda: len(world.smtp.mails) == 2, what="the alert of the new query")
        assert world.smtp.mails[1].subject == "[japan-rates] Seoul rates"
        assert daemon.poll() is None
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(5)


async def test_a_reload_applies_pacing_follow_ups_stories_and_retention(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst window, a follow-up count, the story window and retention edited in the file
    are in force after the reload, and the log names what changed."""
    caplog.set_level(logging.INFO)
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        before = monitor.poller.stories
        assert (monitor.deliverer.pacer.bursts, monitor.poller.config.followups) == ({}, {})
        notify = '    notify: ["team-slack", "analysts"]\n'
        world.config.write_text(
            world.config.read_text().replace(
                notify, notify + "    burst: 10m\n    follow_up_at: 3\n"
            )
            + "stories: {window: 24h}\nretention: {bodies: 30d}\n"
        )
        assert await monitor.reloader.reload()
        assert monitor.deliverer.pacer.bursts == {"korea-china-trade": timedelta(minutes=10)}
        assert monitor.poller.config.followups == {"korea-china-trade": 3}
        assert monitor.poller.stories is not before
        assert monitor.poller.stories.window == timedelta(hours=24)
        assert monitor.settings.retention.bodies == timedelta(days=30)
    assert (
        "config reloaded: watches ~korea-china-trade; stories settings; retention settings"
        in caplog.text
    )


class _Cycle:
    """Refers to itself: only the cyclic collector can free it, like an error held with the
    traceback of the frame that raised it."""

    def __init__(self) -> None:
        self.me = self


async def test_a_reload_freezes_no_garbage_for_good(world: World) -> None:
    """After a reload the daemon's objects are frozen out of the collector's reach (a full
    collection over a matcher of 100,000 watches costs the event loop most of a second), but
    neither what was garbage at that moment nor what that freeze held and dropped since stays
    frozen: the next reload collects it."""
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    async with Monitor(settings) as monitor:
        dead = _Cycle()
        garbage = weakref.ref(dead)
        del dead
        alive = [_Cycle()]
        dropped = weakref.ref(alive[0])
        world.config.write_text(world.config.read_text() + JAPAN_WATCH)
        assert await monitor.reloader.reload()
        gc.collect()
        assert garbage() is None
        assert gc.get_freeze_count() > 0

        alive.clear()
        world.config.write_text(world.config.read_text().replace("Japan AND", "Japan OR"))
        assert await monitor.reloader.reload()
        assert dropped() is None
