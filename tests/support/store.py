"""Store reads and writes only tests make: the daemon makes them in a poll's batch, or never."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from monitor.core.records import PENDING, NoticeRecord, PollRecord, SuccessfulPoll
from monitor.core.stories import StoryItem
from monitor.store import stories
from monitor.store.notices import notice_record
from monitor.store.repository import Store
from monitor.store.schema import articles, notices, outbox


def record_poll(store: Store, source_id: int, **poll: Any) -> PollRecord:
    """Commit one successful poll of `source_id` in a transaction of its own."""
    with store.batch() as tx:
        return tx.record_poll(SuccessfulPoll(source_id=source_id, **poll))


def record_failure(store: Store, source_id: int, **failure: Any) -> bool:
    """Commit one failed poll of `source_id` in a transaction of its own."""
    with store.batch() as tx:
        return tx.record_failure(source_id, **failure)


def known_keys(store: Store, source_id: int, keys: Sequence[str]) -> set[str]:
    """Which of these article keys the source already has."""
    if not keys:
        return set()
    with store._read() as conn:
        found = conn.execute(
            select(articles.c.key).where(
                articles.c.source_id == source_id, articles.c.key.in_(list(keys))
            )
        )
        return {r.key for r in found}


def story_items(store: Store, *, after_id: int, since: datetime) -> list[StoryItem]:
    """Articles with an id above `after_id` fetched since `since`, as the story index loads them."""
    with store._read() as conn:
        return stories.story_items(conn, after_id=after_id, since=since)


def pending_count(store: Store, now: datetime | None = None) -> int:
    """Outbox rows not yet sent nor dead (due by `now`, when given)."""
    cond = [outbox.c.status == PENDING]
    if now is not None:
        cond.append(outbox.c.next_attempt_at <= now)
    with store._read() as conn:
        return conn.execute(select(func.count()).where(*cond)).scalar_one()


def recent_notices(store: Store, limit: int = 50) -> list[NoticeRecord]:
    """The newest notices x channels with their delivery state."""
    with store._read() as conn:
        rows = conn.execute(select(notices).order_by(notices.c.id.desc()).limit(limit))
        return [notice_record(r) for r in rows]
