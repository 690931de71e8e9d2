"""Copying a whole history from one database to another (SQLite to PostgreSQL, most often).

Tables go over parents first, in id order and in batches of one transaction each, with their
ids kept, so that a copy cut short is a prefix of the source: run again, it goes on from each
table's highest id. A target holding anything else is refused, unless it is to be emptied
first. Leases are not copied (they belong to daemons of the source), nor the daemons' rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, delete, func, select, text

from monitor.core.errors import StoreError
from monitor.store.database import make_engine, migrate, write_transaction
from monitor.store.schema import daemons, metadata
from monitor.store.search import EDITS, INDEX, TERMS, catch_up, has_index

BATCH = 5000
TABLES = [t for t in metadata.sorted_tables if t is not daemons]


@dataclass(frozen=True, slots=True)
class TableCount:
    """Rows of one table in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int


def _has_id(table: Table) -> bool:
    return [c.name for c in table.primary_key.columns] == ["id"]


class Transfer:
    """One copy from `source` to `target` (database URLs); both are migrated to the newest
    schema first."""

    def __init__(self, source: str, target: str) -> None:
        migrate(source)
        migrate(target)
        self.source: Engine = make_engine(source)
        self.target: Engine = make_engine(target)

    def close(self) -> None:
        """Release both engines."""
        self.source.dispose()
        self.target.dispose()

    def counts(self) -> list[TableCount]:
        """Rows per table on both sides."""
        with self.source.connect() as src, self.target.connect() as dst:
            return [TableCount(t.name, _count(src, t), _count(dst, t)) for t in TABLES]

    def check_target(self, *, force: bool) -> int:
        """How many rows are already copied (a resumed copy); raise StoreError when the target
        holds rows that are not a prefix of the source, unless `force` empties it first."""
        with self.source.connect() as src, self.target.connect() as dst:
            copied = sum(_count(dst, t) for t in TABLES)
            resumable = all(_is_prefix(src, dst, t) for t in TABLES)
        if copied == 0 or (resumable and not force):
            return copied
        if not force:
            raise StoreError(
                f"the target database is not empty ({copied} row(s) that are not a part copy "
                "of this source); use --force to empty it first"
            )
        with write_transaction(self.target) as conn:
            for table in reversed(TABLES):
                conn.execute(delete(table))
            if has_index(self.target):  # its terms were of the rows just deleted
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {EDITS}_note")
                for name in (INDEX, TERMS, EDITS):
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        return 0

    def copy(self, table: Table, progress: Callable[[int], None]) -> None:
        """Copy `table`'s rows the target lacks, calling `progress` with each batch's size."""
        if not _has_id(table):
            with self.target.connect() as dst:
                if _count(dst, table):
                    return
            rows = _rows(self.source, select(table))
            self._insert(table, rows, progress)
            return
        with self.target.connect() as dst:
            after = dst.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        while True:
            query = select(table).where(table.c.id > after).order_by(table.c.id).limit(BATCH)
            rows = _rows(self.source, query)
            if not rows:
                return
            self._insert(table, rows, progress)
            after = rows[-1]["id"]

    def _insert(
        self, table: Table, rows: list[dict[str, Any]], progress: Callable[[int], None]
    ) -> None:
        if not rows:
            return
        if "lease_owner" in table.c:
            for row in rows:
                row["lease_owner"] = row["lease_until"] = None
        with write_transaction(self.target) as conn:
            conn.execute(table.insert(), rows)
        progress(len(rows))

    def finish(self) -> int:
        """Set the target's id sequences past the copied ids and bring its search index up to
        date (SQLite targets; PostgreSQL scans instead); the articles indexed."""
        if self.target.dialect.name == "postgresql":
            with write_transaction(self.target) as conn:
                for table in TABLES:
                    if _has_id(table):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"coalesce(max(id), 0) + 1, false) FROM {table.name}"
                            )
                        )
        if not has_index(self.target):
            return 0
        indexed = 0
        while added := catch_up(self.target, at_most=BATCH * 4):
            indexed += added
        return indexed


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _is_prefix(src: Connection, dst: Connection, table: Table) -> bool:
    """Whether the target's rows could be the start of a copy of the source's."""
    have = _count(dst, table)
    if not have:
        return True
    if not _has_id(table):
        return have == _count(src, table)
    top = dst.execute(select(func.max(table.c.id))).scalar_one()
    upto = src.execute(select(func.count()).select_from(table).where(table.c.id <= top))
    return bool(upto.scalar_one() == have)


def _rows(engine: Engine, query: Select[Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
