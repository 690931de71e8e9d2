"""The console in a real headless browser (Debian's chromium driven by Playwright): every page
loads with no script error and no CSP violation, the playground checks as you type, an alert is
marked, and a hostile title stays text. Screenshots go to the test's directory, and to
$NEWSMONITOR_SCREENSHOTS when it names one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.core.model import WebSettings
from monitor.store.repository import Store
from monitor.web.server import Background, bind
from tests.support.console import HOSTILE, Seeded, context, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (apt-get install chromium; `make browser` does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _browser_problem()
    if problem is not None:
        if os.environ.get("NEWSMONITOR_REQUIRE_SERVICES") == "1":
            pytest.fail(f"NEWSMONITOR_REQUIRE_SERVICES=1 but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def console(sqlite_url: str) -> Iterator[tuple[str, Seeded]]:
    store = Store.open(sqlite_url)
    seeded = seed(store)
    running = Background(context(store), bind(WebSettings(host="127.0.0.1", port=0)))
    running.start()
    host, port = running.address
    try:
        yield f"http://{host}:{port}", seeded
    finally:
        running.stop()
        store.close()


def _shoot(page: Any, name: str, tmp_path: Path) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    wanted = os.environ.get("NEWSMONITOR_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(wanted) / f"{name}.png")


def test_the_console_in_a_browser(
    browser: Any, console: tuple[str, Seeded], tmp_path: Path
) -> None:
    base, seeded = console
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    for name, path in [
        ("overview", "/"),
        ("alerts", "/alerts"),
        ("story", f"/stories/{seeded.story}"),
        ("sources", "/sources"),
        ("watches", "/watches"),
    ]:
        assert page.goto(base + path).status == 200, path
        _shoot(page, name, tmp_path)

    # The hostile title is text on the page, and none of its script ran.
    page.goto(base + "/alerts")
    titles = page.locator("article.alert h2").all_inner_texts()
    assert any(HOSTILE in t for t in titles)
    assert page.evaluate("() => window.pwned") is None

    # The playground: a syntax error with its caret as the query is typed, then results.
    page.goto(base + "/playground")
    page.locator("#q").press_sequentially("seoul AND (", delay=20)
    page.wait_for_function(
        "() => document.getElementById('syntax').textContent.includes('^ column 11')"
    )
    _shoot(page, "playground-error", tmp_path)
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("seoul", delay=20)
    page.wait_for_function("() => document.getElementById('syntax').textContent === 'syntax OK'")
    page.get_by_role("button", name="Try on the last 30 days").click()
    page.wait_for_selector("#results")
    summary = "2 matching article(s) in 30 days, on 1 story: would have alerted 1 time(s)"
    assert summary in page.inner_text("#results")
    _shoot(page, "playground", tmp_path)

    # Marking an alert not relevant from its page, then its watch's precision.
    page.goto(base + "/alerts")
    deal = page.locator("article.alert", has_text="Seoul and Beijing sign trade deal")
    deal.get_by_role("button", name="Not relevant").click()
    page.wait_for_load_state()
    assert "marked not relevant" in deal.inner_text()
    page.goto(base + "/alerts")
    _shoot(page, "alerts", tmp_path)
    page.goto(base + "/watches")
    assert "precision 0%" in page.inner_text("main")

    assert problems == []
