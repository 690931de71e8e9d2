"""What the daemon's counters count from a poll's decisions, a delivery pass and a reload."""

from __future__ import annotations

from prometheus_client import generate_latest

from monitor.app.metrics import Metrics
from monitor.core.model import Article, Match
from monitor.core.pipeline import Decision
from monitor.core.stories import Placement, article_keys


def _decision(
    key: str, watches: tuple[str, ...], how: str = "new", updates: int | None = None
) -> Decision:
    article = Article(source="wire", key=key, url=None, title=key, summary="")
    return Decision(
        article=article,
        keys=article_keys(article),
        matches=tuple(Match(watch=w, terms=()) for w in watches),
        placement=Placement(how=how),
        updates=updates,
    )


def test_counters_follow_decisions_sends_and_reloads() -> None:
    metrics = Metrics()
    found = [
        _decision("a", ("korea", "trade")),  # a new story: two alerts
        _decision("b", ("korea",), how="copy"),  # joins a story: a merge, no alert
        _decision("c", ("korea",), updates=1),  # an edit: nothing
    ]
    metrics.decisions(found, baseline=False)
    metrics.decisions([_decision("d", ("korea",))], baseline=True)  # a baseline alerts nothing
    metrics.sent("hook", sent=2, retried=1, dead=0)
    metrics.reloaded(False)
    text = generate_latest(metrics.registry).decode()
    for line in (
        'newsmonitor_matches_total{watch="korea"} 3.0',
        'newsmonitor_alerts_total{watch="korea"} 1.0',
        'newsmonitor_alerts_total{watch="trade"} 1.0',
        "newsmonitor_story_merges_total 1.0",
        'newsmonitor_sends_total{channel="hook",outcome="sent"} 2.0',
        'newsmonitor_sends_total{channel="hook",outcome="retried"} 1.0',
        "newsmonitor_config_reload_failures_total 1.0",
    ):
        assert line in text, line
    assert 'outcome="dead"' not in text
    assert metrics.last_reload_ok is False
