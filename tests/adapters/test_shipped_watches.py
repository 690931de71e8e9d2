"""The seed watches as shipped in config/ match real headlines and stay quiet on near-misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.app.daemon import build_matcher
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
