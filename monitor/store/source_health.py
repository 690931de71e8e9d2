"""Source health inside a poll's transaction: each notice goes out once per episode."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update

from monitor.core.model import Notice
from monitor.core.records import SuccessfulPoll
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


# Built once, as a poll records its success on every response, 304s included.
_PRIOR = select(sources.c.name, sources.c.failing, sources.c.silent).where(
    sources.c.id == bindparam("b_id")
)
_SUCCESS = (
    update(sources)
    .where(sources.c.id == bindparam("b_id"))
    .values(
        baseline_done=True,
        last_polled_at=bindparam("b_now"),
        last_success_at=bindparam("b_now"),
        next_poll_at=bindparam("b_next"),
        consecutive_failures=0,
        last_error=None,
        last_error_kind=None,
        lease_until=None,
        lease_owner=None,
        etag=bindparam("b_etag"),
        last_modified=bindparam("b_last_modified"),
        # None keeps what the source had: a response without a title, a poll without backfill.
        title=func.coalesce(bindparam("b_title", type_=sources.c.title.type), sources.c.title),
        last_backfill_at=func.coalesce(
            bindparam("b_backfill_at", type_=sources.c.last_backfill_at.type),
            sources.c.last_backfill_at,
        ),
        last_backfill_entries=func.coalesce(
            bindparam("b_backfill", type_=sources.c.last_backfill_entries.type),
            sources.c.last_backfill_entries,
        ),
        failing=False,
        silent=bindparam("b_silent"),
        silent_after=bindparam("b_silent_after"),
    )
)


def after_success(conn: Connection, poll: SuccessfulPoll) -> str:
    """Record a successful poll in the source's row: clear its errors and the failing mark
    (queueing `recovered`), store when it will count as silent, and queue `silence` when it
    has become so. Returns the source's name."""
    now, silence, silent_after = poll.now, poll.silence, poll.silent_after
    prior = conn.execute(_PRIOR, {"b_id": poll.source_id}).one()
    silent = silence is not None and silent_after is not None and now > silent_after
    conn.execute(
        _SUCCESS,
        {
            "b_id": poll.source_id,
            "b_now": now,
            "b_next": poll.next_poll_at,
            "b_etag": poll.etag,
            "b_last_modified": poll.last_modified,
            "b_title": poll.title or None,
            "b_backfill_at": now if poll.backfill else None,
            "b_backfill": poll.backfill or None,
            "b_silent": silent,
            "b_silent_after": silent_after,
        },
    )
    if prior.failing and poll.recovered is not None:
        insert_notice(conn, poll.recovered, poll.notify, now)
    if silent and not prior.silent and silence is not None:
        insert_notice(conn, silence, poll.notify, now)
    return str(prior.name)
