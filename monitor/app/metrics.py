"""What the daemon counts for /metrics, and the heartbeat /readyz reads.

One registry per process, not prometheus-client's global one, so tests and `serve` can build
their own. Labels are watches and channels only: their number is bounded by the config, while a
label per article or source would grow without end.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from importlib import metadata

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from monitor.core.pipeline import Decision

# `_created` series double the output and nobody graphs them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The counters the poller, the deliverer and the reloader add to."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter(
            "newsmonitor_polls_total", "Polls by outcome.", ["outcome"], registry=r
        )
        self.fetch_seconds = Histogram(
            "newsmonitor_poll_duration_seconds",
            "Time from claim to commit of one poll, fetch included.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.articles = Counter(
            "newsmonitor_articles_new_total", "New articles stored.", registry=r
        )
        self.matches = Counter(
            "newsmonitor_matches_total", "Articles a watch matched.", ["watch"], registry=r
        )
        self.alerts = Counter(
            "newsmonitor_alerts_total",
            "Matches that started a story, so alert (once per channel the watch routes to).",
            ["watch"],
            registry=r,
        )
        self.sends = Counter(
            "newsmonitor_sends_total",
            "Send attempts by channel and outcome (sent, retried, dead).",
            ["channel", "outcome"],
            registry=r,
        )
        self.merges = Counter(
            "newsmonitor_story_merges_total",
            "New articles placed in an existing story (a copy or the same event).",
            registry=r,
        )
        self.reloads = Counter(
            "newsmonitor_config_reloads_total", "Config reloads applied.", registry=r
        )
        self.failed_reloads = Counter(
            "newsmonitor_config_reload_failures_total",
            "Config reloads refused (the last good config kept).",
            registry=r,
        )
        info = Gauge("newsmonitor_build_info", "The running version.", ["version"], registry=r)
        info.labels(version=_version()).set(1)
        self.last_tick: float | None = None  # monotonic time of the scheduler's last poll tick
        self.last_reload_ok = True

    def tick(self) -> None:
        """The scheduler ran its poll tick."""
        self.last_tick = time.monotonic()

    def poll(self, *, outcome: str, seconds: float, new_articles: int) -> None:
        """One poll ended: `ok`, `not_modified`, `baseline` or `error`."""
        self.polls.labels(outcome=outcome).inc()
        self.fetch_seconds.observe(seconds)
        self.articles.inc(new_articles)

    def decisions(self, found: Iterable[Decision], *, baseline: bool) -> None:
        """What a committed poll matched and placed; a baseline alerts nothing."""
        for decision in found:
            if decision.updates is not None:
                continue
            joined = decision.placement.how != "new"
            if joined:
                self.merges.inc()
            for match in decision.matches:
                self.matches.labels(watch=match.watch).inc()
                if not (joined or baseline):
                    self.alerts.labels(watch=match.watch).inc()

    def sent(self, channel: str, *, sent: int, retried: int, dead: int) -> None:
        """A delivery pass's counts for one channel."""
        for outcome, count in (("sent", sent), ("retried", retried), ("dead", dead)):
            if count:
                self.sends.labels(channel=channel, outcome=outcome).inc(count)

    def reloaded(self, ok: bool) -> None:
        """A reload was applied (or found nothing changed), or refused."""
        self.last_reload_ok = ok
        (self.reloads if ok else self.failed_reloads).inc()


def _version() -> str:
    try:
        return metadata.version("newsmonitor")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
