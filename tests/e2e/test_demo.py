"""`newsmonitor demo` shows a newcomer real alerts for both seed watches, offline, and for the
first watch the README walks them through writing."""

from __future__ import annotations

from pathlib import Path

from tests.support import process
from tests.support.docs import assert_shows, copy_config, first_watch, sample

ROOT = Path(__file__).resolve().parents[2]


def test_demo_alerts_on_new_stories_and_not_on_the_backlog(tmp_path: Path) -> None:
    """Within half a minute each seed watch fires once on the console, and so does the README's
    first watch, with the message the README shows; the backlog stays quiet."""
    config = copy_config(tmp_path)
    name = first_watch(config.parent)
    done = process.run(config, "demo", "--duration", "32", timeout=90)
    assert done.returncode == 0, done.stderr
    alerts = [line for line in done.stdout.splitlines() if line.startswith("=== [")]
    assert sorted(alerts) == sorted(
        [
            "=== [korea-china-trade] South Korea and China sign deal to cut tariffs on batteries "
            "and chips",
            '=== [nk-missile-tests] 북한, 동해상으로 탄도미사일 발사…합참 "추가 도발 대비"',
            "=== [nk-missile-tests] North Korea fires ICBM into the sea off Japan",
            f"=== [{name}] South Korea and China sign deal to cut tariffs on batteries and chips",
        ]
    )
    assert "baseline" in done.stderr
    [(command, shown)] = sample("first-watch-demo").steps
    assert command == "make demo"
    assert_shows(shown, done.stdout)
