"""Copying a history between databases: refusal of a foreign target, --force, the index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from monitor.core.errors import StoreError
from monitor.core.model import Source
from monitor.store.repository import Store
from monitor.store.schema import articles
from monitor.store.transfer import TABLES, Transfer

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _history(url: str, titles: list[str]) -> None:
    store = Store.open(url)
    store.sync_sources(
        [Source(name="wire", url="http://news.test/", interval=timedelta(minutes=1))], T0
    )
    with store.engine.begin() as conn:
        conn.execute(
            insert(articles),
            [
                {"source_id": 1, "key": f"k{n}", "title": t, "summary": "", "fetched_at": T0}
                for n, t in enumerate(titles)
            ],
        )
    store.close()


def _copy(transfer: Transfer) -> None:
    for table in TABLES:
        transfer.copy(table, lambda n: None)


def test_a_copy_to_sqlite_is_indexed_and_a_foreign_target_needs_force(tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _history(source, ["Seoul trade deal", "Snow in Busan", "Tariffs cut"])
    transfer = Transfer(source, target)
    assert transfer.check_target(force=False) == 0
    _copy(transfer)
    assert transfer.finish() == 3
    assert all(c.source == c.target for c in transfer.counts())
    transfer.close()
    other = f"sqlite:///{tmp_path / 'c.db'}"
    _history(other, ["Something else entirely"])
    foreign = Transfer(other, target)
    with pytest.raises(StoreError, match="not empty"):
        foreign.check_target(force=False)
    assert foreign.check_target(force=True) == 0
    _copy(foreign)
    assert foreign.finish() == 1  # a fresh index: the deleted rows' terms went with them
    assert [(c.source, c.target) for c in foreign.counts() if c.table == "articles"] == [(1, 1)]
    foreign.close()
