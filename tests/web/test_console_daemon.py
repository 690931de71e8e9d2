"""The console served by a running daemon, over real HTTP: readiness follows the scheduler, and
the counters follow its polls and sends."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import httpx
import pytest

from monitor.app.daemon import Monitor
from monitor.config import load_settings
from monitor.notify.channels import check_channel_url
from monitor.web.server import beside
from tests.support.feed_server import FeedServer
from tests.support.scenario import MATCHING, World
from tests.support.sinks import SmtpSink, WebhookSink


@pytest.fixture
def world(
    tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, slack_to: WebhookSink
) -> World:
    world = World(tmp_path, feed_server, smtp_sink, slack_to)
    with world.config.open("a") as config:
        config.write('web: {listen: "127.0.0.1:0"}\n')
    return world


async def _until(client: httpx.AsyncClient, pattern: str, seconds: float = 20) -> str:
    for _ in range(int(seconds * 10)):
        text = (await client.get("/metrics")).text
        if re.search(pattern, text, re.M):
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"/metrics never showed {pattern}:\n{text}")


async def test_the_daemon_serves_the_console_and_counts(world: World) -> None:
    settings = load_settings(world.config, check_channel_url=check_channel_url)
    stop = asyncio.Event()
    async with Monitor(settings) as monitor, beside(monitor) as running:
        assert running is not None
        host, port = running.address
        task = asyncio.create_task(monitor.run_forever(stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                await _until(client, r'^newsmonitor_polls_total\{outcome="baseline"\} 1\.0')
                ready = await client.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"]["scheduler"]["ok"] is True
                world.publish(MATCHING)
                text = await _until(
                    client, r'^newsmonitor_sends_total\{channel="analysts",outcome="sent"\} 1\.0'
                )
                assert 'newsmonitor_alerts_total{watch="korea-china-trade"} 1.0' in text
                assert 'newsmonitor_matches_total{watch="korea-china-trade"}' in text
                assert "newsmonitor_poll_duration_seconds_count" in text
                page = await client.get("/alerts")
                assert "<mark>Seoul</mark> and <mark>Beijing</mark> agree" in page.text
        finally:
            stop.set()
            await task


async def test_a_taken_port_costs_the_console_not_the_daemon(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = world.config.read_text().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        world.config.write_text(text)
        settings = load_settings(world.config, check_channel_url=check_channel_url)
        async with Monitor(settings) as monitor, beside(monitor) as running:
            assert running is None
            outcomes, _ = await monitor.run_once()
            assert [o.ok for o in outcomes] == [True]
    assert f"web console not started: web.listen 127.0.0.1:{port}" in caplog.text
