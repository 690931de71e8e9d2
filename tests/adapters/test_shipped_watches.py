"""The seed watches as shipped in config/ match real headlines and stay quiet on near-misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.app.wiring import build_matcher
from monitor.config import load_settings
from monitor.core.model import Article
from monitor.core.query import Matcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return build_matcher(load_settings(ROOT / "config" / "monitor.yaml"))


@pytest.mark.parametrize(
    ("title", "summary", "watches"),
    [
        ("South Korea, China agree to expand trade in chips", "", {"korea-china-trade"}),
        ("Seoul eyes tariff relief as Beijing talks resume", "", {"korea-china-trade"}),
        (
            "한중 FTA 2단계 협상 타결",
            "한국과 중국이 자유무역협정 후속 협상을 마무리했다. 무역 확대",
            {"korea-china-trade"},
        ),
        ("North Korean missile launch condemned", "Pyongyang fired an ICBM", {"nk-missile-tests"}),
        ("북한, 동해상으로 탄도미사일 발사", "", {"nk-missile-tests"}),
        ("朝鲜发射弹道导弹", "", {"nk-missile-tests"}),
        ("China and North Korea expand trade", "The DPRK and China signed a deal.", set()),
        ("North Korea holds party congress", "No missile activity was reported.", set()),
        ("South Korean firefighters test new gear", "", set()),
    ],
)
def test_seed_watches(matcher: Matcher, title: str, summary: str, watches: set[str]) -> None:
    """Each headline fires exactly the seed watches it should."""
    article = Article(source="t", key="k", url=None, title=title, summary=summary)
    assert {m.watch for m in matcher.match(article)} == watches


def test_operator_notices_do_not_go_to_alert_channels() -> None:
    """The shipped operator block keeps to its own comment: notices about newsmonitor never go
    to a channel that the watches send alerts to."""
    settings = load_settings(ROOT / "config" / "monitor.yaml")
    alerting = {channel for watch in settings.watches for channel in watch.notify}
    assert not set(settings.operator.channels) & alerting


def test_the_operator_channel_the_shipped_comment_suggests_loads(tmp_path: Path) -> None:
    """The `ops` console channel that config/monitor.yaml suggests for notices is valid config."""
    text = (ROOT / "config" / "monitor.yaml").read_text()
    assert 'add `ops: {url: "console://"}`' in text
    text = text.replace("include: [watches/*.yaml]", "include: []")
    text = text.replace("  channels: []", "  channels: [ops]")
    text = text.replace("channels:\n", 'channels:\n  ops: {url: "console://"}\n', 1)
    (tmp_path / "monitor.yaml").write_text(text)
    settings = load_settings(tmp_path / "monitor.yaml")
    assert settings.operator.channels == ("ops",)
