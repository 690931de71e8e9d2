"""The console's pages and its login through Starlette's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from monitor.store.repository import Store
from monitor.web.app import build_app
from monitor.web.auth import COOKIE
from tests.support.console import HOOK_SECRET, Seeded, TestClient, context, seed

TOKEN = "tok-" + "x" * 20


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed(store)


@pytest.fixture
def client(store: Store, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(build_app(context(store)), base_url="http://127.0.0.1") as c:
        yield c


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def test_every_page_renders_without_secrets(client: TestClient, seeded: Seeded) -> None:
    for path in ("/", "/alerts", f"/stories/{seeded.story}", "/sources", "/playground", "/watches"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert HOOK_SECRET not in page.text and "json://" not in page.text, path
        assert '<script src="/static/console.js"' in page.text
        assert re.search(r"<script>(?!window)", page.text) is None  # no inline script of ours


def test_hostile_title_is_escaped(client: TestClient) -> None:
    page = client.get("/alerts").text
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert "<mark>Seoul</mark> and Beijing sign <mark>trade</mark> deal" in page
    assert "Also reported by: agency" in page
    assert "HTTP 503 &lt;b&gt;oops&lt;/b&gt;" in client.get("/sources").text


def test_overview_plot_and_states(client: TestClient) -> None:
    page = client.get("/").text
    assert "<svg" in page and "<rect" in page
    assert "quiet" in page and "failing" in page  # the failing source
    assert "hook" in page


def test_playground_shows_matches_caret_and_yaml(client: TestClient) -> None:
    page = client.get("/playground", params={"q": "seoul"}).text
    assert "2 matching article(s) in 30 days, on 1 story: would have alerted 1 time(s)" in page
    assert "query: &#34;seoul&#34;" in page
    assert "<mark>Seoul</mark>" in page
    bad = client.get("/playground", params={"q": "seoul AND ("}).text
    assert "          ^ column 11" in bad


def test_marking_an_alert_from_the_page(client: TestClient, seeded: Seeded) -> None:
    page = client.get("/alerts").text
    url = f"/alerts/{seeded.alert}/feedback"
    form = {"csrf": _csrf(page), "relevant": "no", "next": "/alerts"}
    done = client.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/alerts"
    assert "marked not relevant" in client.get("/alerts").text
    assert "precision 0%" in client.get("/watches").text
    forged = client.post(url, data={**form, "csrf": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    away = client.post(url, data={**form, "next": "//evil.test/"}, follow_redirects=False)
    assert away.headers["location"] == "/alerts"


def test_with_a_token_api_wants_bearer_and_pages_a_login(store: Store, seeded: Seeded) -> None:
    app = build_app(context(store, token=TOKEN))
    with TestClient(app, base_url="http://console.example") as c:
        refused = c.get("/api/v1/alerts", follow_redirects=False)
        assert refused.status_code == 401 and "location" not in refused.headers
        assert c.get("/metrics").status_code == 401
        assert c.get("/healthz").status_code == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert c.get("/api/v1/alerts", headers=bearer).status_code == 200
        # A bearer call needs no CSRF value.
        url = f"/api/v1/alerts/{seeded.alert}/feedback"
        assert c.post(url, json={"relevant": True}, headers=bearer).status_code == 200
        page = c.get("/alerts", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/alerts"
        wrong = c.post("/login", data={"token": "nope", "next": "/alerts"})
        assert wrong.status_code == 401
        login = c.post("/login", data={"token": TOKEN, "next": "/alerts"}, follow_redirects=False)
        cookie = login.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert TOKEN not in cookie
        assert c.get("/alerts").status_code == 200
        # The cookie alone does not make an API POST: it needs the page's CSRF value.
        assert c.post(url, json={"relevant": True}).status_code == 403
        assert c.get("/api/v1/alerts").status_code == 200
        assert TOKEN not in c.get("/").text
