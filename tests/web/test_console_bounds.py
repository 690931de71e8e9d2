"""Highlighting is escaped text with marks, and tryouts are bounded in number as in time."""

from __future__ import annotations

import pytest

from monitor.store.repository import Store
from monitor.web import playground
from monitor.web.app import build_app
from monitor.web.highlight import with_terms
from tests.support.console import TestClient, context, seed


def test_highlights_mark_words_and_escape_the_rest() -> None:
    assert str(with_terms("Tariffs <b>rise</b> in Seoul", ["tariff*", "seoul"])) == (
        "<mark>Tariffs</mark> &lt;b&gt;rise&lt;/b&gt; in <mark>Seoul</mark>"
    )
    assert str(with_terms("Seoulite", ["seoul"])) == "Seoulite"  # whole words only


def test_a_third_tryout_at_once_is_told_to_wait(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    try:
        seed(store)
        assert playground._running.acquire(timeout=1)
        assert playground._running.acquire(timeout=1)
        try:
            with pytest.raises(playground.Busy):
                playground.run(store, context(store).settings(), "seoul", budget=0.05)
            with TestClient(build_app(context(store)), base_url="http://127.0.0.1") as c:
                answer = c.get("/api/v1/replay", params={"q": "seoul"})  # after 1 s
                assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
        finally:
            playground._running.release()
            playground._running.release()
    finally:
        store.close()
