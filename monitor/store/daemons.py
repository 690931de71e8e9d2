"""Live daemons: each one's heartbeat row, and the leases that beat keeps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from monitor.store.base import StoreBase
from monitor.store.schema import daemons, sources


class Daemons(StoreBase):
    """A daemon says it lives (and renews its poll leases) in one short transaction."""

    def beat(self, owner: str, host: str, now: datetime, *, lease_until: datetime) -> None:
        """Record that `owner` lives at `now`, and extend the source leases it holds."""
        with self._write() as conn:
            # A row a poll is committing is skipped, not waited on: waiting, in another order
            # than the commit's, made PostgreSQL abort beats as deadlocks. That commit ends
            # the lease anyway. (SQLite, one writer at a time, has no row locks to skip.)
            held = select(sources.c.id).where(sources.c.lease_owner == owner).order_by(sources.c.id)
            ids = conn.execute(held.with_for_update(skip_locked=True)).scalars().all()
            if ids:
                conn.execute(
                    update(sources)
                    .where(sources.c.id.in_(ids), sources.c.lease_owner == owner)
                    .values(lease_until=lease_until)
                )
            found = conn.execute(
                update(daemons).where(daemons.c.owner == owner).values(beat_at=now)
            ).rowcount
            if not found:
                conn.execute(
                    daemons.insert().values(owner=owner, host=host, started_at=now, beat_at=now)
                )

    def forget_daemon(self, owner: str) -> None:
        """Remove a stopping daemon's row."""
        with self._write() as conn:
            conn.execute(delete(daemons).where(daemons.c.owner == owner))

    def last_beat(self, host: str | None = None) -> tuple[str, datetime] | None:
        """The daemon (on `host`, or anywhere) that beat last, and when; None if none did."""
        query = select(daemons.c.owner, daemons.c.beat_at).order_by(daemons.c.beat_at.desc())
        if host is not None:
            query = query.where(daemons.c.host == host)
        with self._read() as conn:
            row = conn.execute(query.limit(1)).first()
        return None if row is None else (row.owner, row.beat_at)
