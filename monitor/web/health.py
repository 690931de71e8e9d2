"""/healthz, /readyz and /metrics: the process answers; it can do its work; what it counted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.web.context import Context

TICK_STALE = 30.0  # seconds without a scheduler tick before the daemon counts as stuck
OUTBOX_STALE = timedelta(minutes=5)


def healthz(request: Request) -> JSONResponse:
    """The process answers."""
    return JSONResponse({"status": "ok"})


def readiness(ctx: Context, now: datetime) -> dict[str, dict[str, Any]]:
    """Each check by name: ok, and what it saw."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        ctx.store.ping()
        checks["database"] = {"ok": True}
    except Exception as exc:  # any failure to reach it means not ready
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        return checks
    if ctx.daemon:
        last = ctx.metrics.last_tick
        age = None if last is None else time.monotonic() - last
        checks["scheduler"] = {"ok": age is not None and age < TICK_STALE, "seconds_ago": age}
    else:
        checks["scheduler"] = {"ok": True, "skipped": "no scheduler in this process (serve)"}
    states = ctx.store.channel_states(now)
    working = [s.channel for s in states if not s.failing]
    oldest = ctx.store.oldest_due(now, working)
    late = oldest is not None and now - oldest > OUTBOX_STALE
    checks["outbox"] = {
        "ok": not late,
        "oldest_due_seconds": (now - oldest).total_seconds() if oldest else 0,
    }
    # A refused reload leaves the last good config running: worth showing, not unready.
    checks["config"] = {
        "ok": bool(ctx.settings().files),
        "files": len(ctx.settings().files),
        "last_reload_refused": not ctx.metrics.last_reload_ok,
    }
    return checks


def readyz(request: Request) -> JSONResponse:
    """200 when every check passes, else 503; the body names each check."""
    checks = readiness(request.app.state.ctx, datetime.now(UTC))
    ready = all(c["ok"] for c in checks.values()) and len(checks) == 4
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def metrics(request: Request) -> Response:
    """Everything counted, in the Prometheus text format."""
    ctx: Context = request.app.state.ctx
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class StoreGauges(Collector):
    """Gauges read from the database at each scrape: the outbox and the sources' health."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing up front: registering must not query the database."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = datetime.now(UTC)
        depth = GaugeMetricFamily(
            "newsmonitor_outbox_depth", "Alerts waiting to be sent.", labels=["channel"]
        )
        age = GaugeMetricFamily(
            "newsmonitor_outbox_oldest_due_age_seconds",
            "How long the oldest due alert has waited.",
            labels=["channel"],
        )
        states = {s.channel: s for s in self.ctx.store.channel_states(now)}
        for name in sorted({*states, *(c.name for c in self.ctx.settings().channels)}):
            state = states.get(name)
            depth.add_metric([name], state.pending if state else 0)
            due = state.oldest_due if state else None
            age.add_metric([name], (now - due).total_seconds() if due else 0.0)
        active, failing, silent = self.ctx.store.source_counts()
        yield depth
        yield age
        yield GaugeMetricFamily("newsmonitor_sources", "Active sources.", value=active)
        yield GaugeMetricFamily(
            "newsmonitor_sources_failing", "Sources failing to poll.", value=failing
        )
        yield GaugeMetricFamily(
            "newsmonitor_sources_silent", "Sources silent for longer than usual.", value=silent
        )
