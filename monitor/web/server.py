"""Serving the console: in a thread of its own beside the daemon, or alone (`serve`).

The daemon's event loop runs polls and deliveries; the console gets its own thread and loop,
and its handlers run in that loop's thread pool, so a slow page or a playground query waits
on nothing the daemon needs (they share only the interpreter's lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import uvicorn

from monitor.app.daemon import Monitor
from monitor.app.logs import hide
from monitor.core.errors import MonitorError
from monitor.core.model import Settings, WebSettings
from monitor.store.repository import Store
from monitor.web.app import build_app
from monitor.web.context import Context

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the daemon owns SIGTERM, SIGINT and SIGHUP."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(web: WebSettings) -> socket.socket:
    """A listening socket on web.listen; raises MonitorError when it cannot be had."""
    host = web.host or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without, a small answer written in two parts waits
    # for the client's delayed ACK, 40 ms a request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, web.port))
    except OSError as exc:
        sock.close()
        raise MonitorError(f"web.listen {host}:{web.port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def _config(ctx: Context) -> uvicorn.Config:
    # log_config=None: uvicorn's loggers go through the daemon's own handlers and format.
    return uvicorn.Config(
        build_app(ctx), lifespan="off", log_config=None, access_log=False, server_header=False
    )


class Background:
    """A console server running in its own thread; `stop` ends it."""

    def __init__(self, ctx: Context, sock: socket.socket) -> None:
        self.server = _Server(_config(ctx))
        self.sock = sock
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


@contextlib.asynccontextmanager
async def beside(monitor: Monitor) -> AsyncIterator[Background | None]:
    """The console for a running daemon, as long as it runs; None when web.listen is off."""
    web = monitor.settings.web
    if web.host is None:
        yield None
        return
    if web.token:
        hide([web.token])
    ctx = Context(
        store=monitor.store, settings=lambda: monitor.settings, metrics=monitor.metrics, daemon=True
    )
    try:
        sock = bind(web)
    except MonitorError as exc:
        # Alerts matter more than the console: a taken port costs the console, not the daemon.
        log.error("web console not started: %s", exc)
        yield None
        return
    running = Background(ctx, sock)
    running.start()
    host, port = running.address
    log.info("web console on http://%s:%d/", host, port)
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)


async def _until_signal(server: _Server, sock: socket.socket) -> None:
    # Our own handlers: uvicorn's would re-raise the signal after a clean stop, exiting 143.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    await server.serve(sockets=[sock])


def serve_alone(settings: Settings) -> None:
    """The console on the database, without polling or sending, until SIGTERM or Ctrl-C."""
    from monitor.store.search import catch_up

    web = settings.web
    if web.host is None:
        raise MonitorError("web.listen is off: set it to HOST:PORT to serve the console")
    if web.token:
        hide([web.token])
    sock = bind(web)
    store = Store.open(settings.database)
    try:
        catch_up(store.engine)  # search reads the index; no daemon may be keeping it here
        server = _Server(_config(Context(store=store, settings=lambda: settings)))
        log.info("web console on http://%s:%d/ (no polling, no sending)", web.host, web.port)
        asyncio.run(_until_signal(server, sock))
    finally:
        store.close()
        sock.close()
