"""Operator notices (messages about the service itself) and the channel health behind them."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from monitor.core.model import Notice
from monitor.core.records import PENDING, SENT, NoticeRecord
from monitor.store.base import StoreBase, lease_rows
from monitor.store.schema import channel_health, matches, notices, outbox


class Notices:
    """The notices table and channel health, in the store's transactions."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    def enqueue(self, notice: Notice, *, channels: Sequence[str], now: datetime) -> int:
        """Queue `notice` for each operator channel; how many rows were added.

        Any part of the service (delivery, polling) reports to the operator this way; the
        delivery passes send the rows like alerts, with the same retries.
        """
        with self.store._write() as conn:
            return insert_notice(conn, notice, channels, now)

    def channel_result(
        self,
        channel: str,
        *,
        ok: bool,
        error: str | None,
        threshold: int,
        notify: Sequence[str],
        failing: Notice,
        recovered: Notice,
        now: datetime,
    ) -> str | None:
        """Count a send of `channel`; queue the notice of a state change.

        The notice `failing` goes out once, when the `threshold`-th send in a row fails, and
        `recovered` once, with the next success; both in the same transaction as the count, so
        neither is lost nor repeated. Returns the kind of notice queued, if any.
        """
        with self.store._write() as conn:
            query = select(channel_health).where(channel_health.c.channel == channel)
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            failures = 0 if ok else (row.consecutive_failures if row else 0) + 1
            was_failing = bool(row and row.failing)
            is_failing = (was_failing or (threshold > 0 and failures >= threshold)) and not ok
            values = {
                "consecutive_failures": failures,
                "failing": is_failing,
                "last_error": error,
                "updated_at": now,
            }
            if row is None:
                conn.execute(channel_health.insert().values(channel=channel, **values))
            else:
                conn.execute(
                    update(channel_health)
                    .where(channel_health.c.channel == channel)
                    .values(**values)
                )
            notice = None
            if is_failing and not was_failing:
                notice = failing
            elif was_failing and ok:
                notice = recovered
            if notice is None:
                return None
            insert_notice(conn, notice, notify, now)
            return notice.kind

    def enqueue_if_empty(
        self,
        notice: Notice,
        *,
        channel: str,
        watch: str | None,
        besides: Sequence[str],
        since: datetime | None,
        until: datetime,
        now: datetime,
    ) -> bool:
        """Queue `notice` for `channel` unless it was queued before, or the channel got
        alerts created in (`since`, `until`] of `watch` (when None: of any watch not in
        `besides`). Whether it was queued.

        The check and the insert are one transaction, serialized on PostgreSQL, so several
        daemons or a restart queue it once.
        """
        with self.store._write() as conn:
            if self.store.engine.dialect.name == "postgresql":
                lock = zlib.crc32(f"{notice.kind} {notice.about} {channel}".encode())
                conn.execute(select(func.pg_advisory_xact_lock(lock)))
            queued = select(notices.c.id).where(
                notices.c.kind == notice.kind,
                notices.c.about == notice.about,
                notices.c.channel == channel,
            )
            of_watch = matches.c.watch == watch if watch else matches.c.watch.not_in(besides)
            alerts = (
                select(outbox.c.id)
                .join(matches, matches.c.id == outbox.c.match_id)
                .where(outbox.c.channel == channel, of_watch, outbox.c.created_at <= until)
            )
            if since is not None:
                alerts = alerts.where(outbox.c.created_at > since)
            if conn.execute(queued.limit(1)).first() or conn.execute(alerts.limit(1)).first():
                return False
            insert_notice(conn, notice, [channel], now)
            return True

    def claim(
        self, owner: str, now: datetime, *, lease: timedelta, limit: int, channel: str
    ) -> list[NoticeRecord]:
        """Lease the pending notices due now for one channel, oldest first."""
        order = [notices.c.next_attempt_at, notices.c.id]
        cond = [
            notices.c.status == PENDING,
            notices.c.next_attempt_at <= now,
            notices.c.channel == channel,
        ]
        with self.store._write() as conn:
            ids = lease_rows(
                conn, notices, cond, order, owner=owner, now=now, lease=lease, limit=limit
            )
            rows = conn.execute(select(notices).where(notices.c.id.in_(ids)).order_by(*order))
            return [notice_record(r) for r in rows]

    def finish(
        self,
        notice_id: int,
        *,
        owner: str,
        status: str,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record a send of a notice: sent, to retry at `next_attempt_at`, or dead."""
        values: dict[str, object] = {"status": status, "last_error": error}
        if status == SENT:
            values["sent_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.store._write() as conn:
            conn.execute(
                update(notices)
                .where(notices.c.id == notice_id, notices.c.lease_owner == owner)
                .values(
                    attempts=notices.c.attempts + 1, lease_until=None, lease_owner=None, **values
                )
            )


def insert_notice(conn: Connection, notice: Notice, channels: Sequence[str], now: datetime) -> int:
    """Queue `notice` for each of `channels` in the open transaction; how many rows."""
    rows = [
        {
            "channel": ch,
            "kind": notice.kind,
            "about": notice.about,
            "title": notice.title,
            "body": notice.body,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for ch in channels
    ]
    if rows:
        conn.execute(notices.insert(), rows)
    return len(rows)


def notice_record(row: Row[Any]) -> NoticeRecord:
    """The record of one row of the notices table."""
    return NoticeRecord(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        about=row.about,
        title=row.title,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
    )
