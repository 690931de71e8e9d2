"""Source health inside a poll's transaction: each notice goes out once per episode."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from monitor.model import Notice
from monitor.store.notices import insert_notice
from monitor.store.schema import sources


def after_failure(
    conn: Connection,
    source_id: int,
    *,
    threshold: int,
    notify: Sequence[str],
    failing: Notice | None,
    now: datetime,
) -> bool:
    """Mark the source failing at the `threshold`-th failure in a row and queue `failing`,
    unless it is marked already; whether the notice was queued."""
    row = conn.execute(
        select(sources.c.consecutive_failures, sources.c.failing).where(sources.c.id == source_id)
    ).one()
    if failing is None or threshold <= 0 or row.failing or row.consecutive_failures < threshold:
        return False
    conn.execute(update(sources).where(sources.c.id == source_id).values(failing=True))
    insert_notice(conn, failing, notify, now)
    return True


def after_success(
    conn: Connection,
    source_id: int,
    *,
    notify: Sequence[str],
    recovered: Notice | None,
    silent_after: datetime | None,
    silence: Notice | None,
    now: datetime,
) -> None:
    """Clear the failing mark (queueing `recovered`), store when the source will count as
    silent, and queue `silence` when it has become so."""
    row = conn.execute(
        select(sources.c.failing, sources.c.silent).where(sources.c.id == source_id)
    ).one()
    silent = silence is not None and silent_after is not None and now > silent_after
    conn.execute(
        update(sources)
        .where(sources.c.id == source_id)
        .values(failing=False, silent=silent, silent_after=silent_after)
    )
    if row.failing and recovered is not None:
        insert_notice(conn, recovered, notify, now)
    if silent and not row.silent and silence is not None:
        insert_notice(conn, silence, notify, now)
