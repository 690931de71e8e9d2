"""Filling a store with history as polls made at chosen times would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.core.model import Article, Match
from monitor.store.repository import Store
from tests.support.store import record_poll


def store_poll(
    store: Store,
    source_id: int,
    found: Sequence[tuple[Article, Sequence[Match]]],
    *,
    when: datetime,
    routes: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Record one successful poll at `when` that found these articles and matches."""
    record_poll(
        store,
        source_id,
        found=found,
        routes=routes or {},
        now=when,
        next_poll_at=when,
        etag=None,
        last_modified=None,
        title=None,
    )
