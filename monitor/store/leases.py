"""Leases across the tables a daemon claims rows of: renewing and handing them back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, update

from monitor.store.base import StoreBase
from monitor.store.schema import notices, outbox, sources


class Leases(StoreBase):
    """The heartbeat of a live daemon and the release of what a stopping one holds."""

    def renew_leases(self, owner: str, until: datetime, *, channel: str | None = None) -> None:
        """Extend the outbox and notice leases `owner` holds (for one channel or all) to
        `until`: the heartbeat of a live sender."""
        with self._write() as conn:
            for table in (outbox, notices):
                cond = [table.c.lease_owner == owner]
                if channel is not None:
                    cond.append(table.c.channel == channel)
                conn.execute(update(table).where(*cond).values(lease_until=until))

    def release_leases(self, owner: str | None = None) -> None:
        """Hand back leases held by `owner` (by anyone when None, for a sole SQLite daemon)."""
        with self._write() as conn:
            for table in (sources, outbox, notices):
                cond: ColumnElement[bool] = table.c.lease_owner.is_not(None)
                if owner is not None:
                    cond = and_(cond, table.c.lease_owner == owner)
                conn.execute(update(table).where(cond).values(lease_until=None, lease_owner=None))
