"""Draining the outbox: claim due rows, render, send through apprise, record the outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor import failpoints
from monitor.model import DeliverySettings
from monitor.notify.channels import ChannelSet
from monitor.pipeline import retry_delay
from monitor.render import render

if TYPE_CHECKING:
    from monitor.store.records import AlertRecord
    from monitor.store.repository import Store

log = logging.getLogger(__name__)
BATCH = 50
# Short, and renewed while a pass runs, so that rows a killed sender held are free again
# within LEASE (another PostgreSQL instance, or a restart, picks them up).
LEASE = timedelta(seconds=20)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """Counts from one pass over the due outbox rows."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


class Deliverer:
    """Sends due alerts; the store, channels and clock are handed in."""

    def __init__(
        self,
        store: Store,
        channels: ChannelSet,
        settings: DeliverySettings,
        *,
        owner: str,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.settings = settings
        self.owner = owner
        self.clock = clock
        self.rng = rng or random.Random()
        self._stopping = False
        self.heartbeat = LEASE / 4

    def stop(self) -> None:
        """Start no new send; sends in flight finish, claimed rows are left for the next run."""
        self._stopping = True

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            await asyncio.to_thread(self.store.renew_leases, self.owner, self.clock() + LEASE)

    async def deliver_due(self) -> DeliveryReport:
        """Send every outbox row due now once, channels in parallel.

        Rows are claimed as of the pass's start, so a retry scheduled during the pass waits for
        the next one however short its backoff.
        """
        heartbeat = asyncio.create_task(self._renew())
        try:
            return await self._pass()
        finally:
            heartbeat.cancel()

    async def _pass(self) -> DeliveryReport:
        total = DeliveryReport()
        started = self.clock()
        while not self._stopping:
            claimed = await asyncio.to_thread(
                self.store.claim_deliveries,
                self.owner,
                self.clock(),
                lease=LEASE,
                limit=BATCH,
                due_by=started,
            )
            if not claimed:
                break
            by_channel: dict[str, list[AlertRecord]] = defaultdict(list)
            for row in claimed:
                by_channel[row.channel].append(row)
            reports = await asyncio.gather(
                *(self._drain_channel(rows) for rows in by_channel.values())
            )
            total = DeliveryReport(
                sent=total.sent + sum(r.sent for r in reports),
                retried=total.retried + sum(r.retried for r in reports),
                dead=total.dead + sum(r.dead for r in reports),
            )
        return total

    async def _drain_channel(self, rows: list[AlertRecord]) -> DeliveryReport:
        sent = retried = dead = 0
        for row in rows:
            if self._stopping:
                break
            outcome = await self._send(row)
            if outcome == "sent":
                sent += 1
            elif outcome == "retry":
                retried += 1
            else:
                dead += 1
        return DeliveryReport(sent=sent, retried=retried, dead=dead)

    async def _send(self, row: AlertRecord) -> str:
        if row.channel not in self.channels:
            error = f"channel {row.channel!r} is no longer configured or is off"
            await asyncio.to_thread(self.store.mark_dead, row.id, owner=self.owner, error=error)
            log.warning("alert %d dead: %s", row.id, error)
            return "dead"
        message = render(row.alert, self.channels.body_format(row.channel))
        outcome = await self.channels.send(row.channel, message)
        if outcome.ok:
            failpoints.hit("after-send")
            await asyncio.to_thread(
                self.store.mark_sent, row.id, owner=self.owner, now=self.clock()
            )
            log.info("sent alert %d (%s) to %s", row.id, row.alert.watch, row.channel)
            return "sent"
        error = outcome.error or "send failed"
        attempts = row.attempts + 1
        if attempts >= self.settings.max_attempts:
            await asyncio.to_thread(self.store.mark_dead, row.id, owner=self.owner, error=error)
            log.error(
                "alert %d to %s dead after %d attempts: %s", row.id, row.channel, attempts, error
            )
            return "dead"
        delay = retry_delay(
            attempts, base=self.settings.retry_base, cap=self.settings.retry_max, rng=self.rng
        )
        await asyncio.to_thread(
            self.store.mark_retry,
            row.id,
            owner=self.owner,
            error=error,
            next_attempt_at=self.clock() + delay,
        )
        log.warning(
            "alert %d to %s failed (attempt %d, next in %ds): %s",
            row.id,
            row.channel,
            attempts,
            int(delay.total_seconds()),
            error,
        )
        return "retry"
