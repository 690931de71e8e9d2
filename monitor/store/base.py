"""What every part of the store shares: the engine, its transactions and row leases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.store.database import READ_ONLY, write_transaction


class StoreBase:
    """One engine and the short transactions every read and write of the store runs in."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn


def lease_rows(
    conn: Connection,
    table: Table,
    cond: Sequence[ColumnElement[bool]],
    order: Sequence[ColumnElement[Any]],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[int]:
    """Lease up to `limit` rows matching `cond` that nobody holds; their ids."""
    free = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    due = select(table.c.id).where(*cond, free).order_by(*order).limit(limit)
    if conn.dialect.name == "postgresql":
        # Concurrent daemons skip rows another one is claiming right now.
        due = due.with_for_update(skip_locked=True)
    claimed = conn.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(lease_until=now + lease, lease_owner=owner)
        .returning(table.c.id)
    )
    return [row.id for row in claimed]
