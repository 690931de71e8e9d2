"""`newsmonitor demo`: sample feeds served on 127.0.0.1 that publish news over time, and the
real daemon polling them with alerts to the console, so a newcomer sees it work offline."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from monitor.app.daemon import Monitor
from monitor.app.demo.samples import FEEDS, LATER, START
from monitor.core.model import Channel, Settings, Source

log = logging.getLogger(__name__)
POLL_EVERY = timedelta(seconds=3)


class DemoFeeds:
    """RSS feeds on 127.0.0.1 whose items appear on the schedule in samples.py."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.began = datetime.now(UTC)
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if name not in FEEDS:
                    self.send_error(404)
                    return
                body = feeds.render(name)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> DemoFeeds:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def sources(self) -> tuple[Source, ...]:
        """One source per sample feed, polled every few seconds."""
        return tuple(
            Source(
                name=name, url=f"{self.base_url}/{name}.xml", interval=POLL_EVERY, tags=("demo",)
            )
            for name in FEEDS
        )

    def render(self, name: str) -> bytes:
        """The feed as it stands now: the starting items plus those already published."""
        elapsed = time.monotonic() - self.started
        items = [(self.began - timedelta(hours=age), item) for age, item in START[name]]
        items += [
            (self.began + timedelta(seconds=at), item)
            for at, feed, item in LATER
            if feed == name and at <= elapsed
        ]
        items.sort(key=lambda pair: pair[0], reverse=True)
        title, link = FEEDS[name]
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<rss version="2.0"><channel>',
            f"<title>{escape(title)}</title><link>{escape(link)}</link>",
            "<description>newsmonitor demo feed</description>",
        ]
        for published, item in items:
            parts.append(
                f'<item><guid isPermaLink="false">{escape(item["id"])}</guid>'
                f"<title>{escape(item['title'])}</title>"
                f"<link>{escape(link + item['id'])}</link>"
                f"<description>{escape(item['summary'])}</description>"
                f"<pubDate>{format_datetime(published)}</pubDate></item>"
            )
        parts.append("</channel></rss>")
        return "\n".join(parts).encode()


def demo_settings(settings: Settings, feeds: DemoFeeds, database: str) -> Settings:
    """The loaded config's terms and watches, pointed at the demo feeds and the console only."""
    console = Channel(name="console", url="console://")
    return dataclasses.replace(
        settings,
        database=database,
        sources=feeds.sources(),
        channels=(console,),
        watches=tuple(dataclasses.replace(w, notify=("console",)) for w in settings.watches),
        # The sample items link pages at demo.invalid, which the offline demo does not serve.
        fetch=dataclasses.replace(
            settings.fetch, allow_addresses=("127.0.0.1/32",), full_text="never"
        ),
    )


async def run_demo(settings: Settings, *, duration: float = 0) -> None:
    """Serve the demo feeds and run the daemon on them until Ctrl-C (or for `duration` s)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if duration:
        loop.call_later(duration, stop.set)
    with tempfile.TemporaryDirectory(prefix="newsmonitor-demo-") as tmp, DemoFeeds() as feeds:
        database = f"sqlite:///{Path(tmp) / 'demo.db'}"
        log.info(
            "demo: %d sample feeds at %s; new stories appear over the next %ds; "
            "the first poll of each feed is a baseline and alerts nothing",
            len(FEEDS),
            feeds.base_url,
            max(at for at, _, _ in LATER),
        )
        async with Monitor(demo_settings(settings, feeds, database)) as monitor:
            await monitor.run_forever(stop)
