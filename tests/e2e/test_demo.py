"""`newsmonitor demo` shows a newcomer real alerts for both seed watches, offline."""

from __future__ import annotations

from pathlib import Path

from tests.support import process

ROOT = Path(__file__).resolve().parents[2]


def test_demo_alerts_on_new_stories_and_not_on_the_backlog() -> None:
    """Within half a minute each seed watch fires once on the console; the backlog stays quiet."""
    done = process.run(ROOT / "config" / "monitor.yaml", "demo", "--duration", "32", timeout=90)
    assert done.returncode == 0, done.stderr
    alerts = [line for line in done.stdout.splitlines() if line.startswith("=== [")]
    assert sorted(alerts) == sorted(
        [
            "=== [korea-china-trade] South Korea and China sign deal to cut tariffs on batteries "
            "and chips",
            '=== [nk-missile-tests] 북한, 동해상으로 탄도미사일 발사…합참 "추가 도발 대비"',
            "=== [nk-missile-tests] North Korea fires ICBM into the sea off Japan",
        ]
    )
    assert "baseline" in done.stderr
