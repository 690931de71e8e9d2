"""Draining the outbox: claim due rows, render, send through apprise, record the outcome."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.app import failpoints
from monitor.app.wiring import DeliveryConfig
from monitor.core import phrases
from monitor.core.model import DeliverySettings, MessageTemplate, Notice, OperatorSettings
from monitor.core.payloads import Envelope
from monitor.core.records import DEAD, PENDING, SENT
from monitor.core.schedule import retry_delay
from monitor.notify import pacing, wire
from monitor.notify.channels import ChannelSet, SendOutcome

if TYPE_CHECKING:
    from monitor.core.records import AlertRecord, NoticeRecord
    from monitor.store.repository import Store

log = logging.getLogger(__name__)
BATCH = 50
# Short, and renewed while a pass runs, so that rows a killed sender held are free again
# within LEASE (another PostgreSQL instance, or a restart, picks them up).
LEASE = timedelta(seconds=20)
FAILING, RECOVERED = "channel-failing", "channel-recovered"
EMPTY_DIGEST = "digest-empty"
NO_DIGEST = "not sent: its digest was removed from the config, and the alert went out at once"
# A schedule time missed by up to this much while no daemon ran still gets its empty digest.
EMPTY_DIGEST_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """Counts from one pass over the due outbox rows."""

    sent: int = 0
    retried: int = 0
    dead: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            sent=self.sent + other.sent,
            retried=self.retried + other.retried,
            dead=self.dead + other.dead,
        )


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
        operator: OperatorSettings | None = None,
        templates: Mapping[str, MessageTemplate] | None = None,
        pacer: pacing.Pacer | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.clock = clock
        self.rng = rng or random.Random()
        self._stopping = False
        self.heartbeat = LEASE / 4
        self.use(
            DeliveryConfig(
                settings=settings,
                operator=operator or OperatorSettings(),
                templates=templates or {},
                pacer=pacer or pacing.Pacer([], []),
            ),
            channels,
        )
        self._healthy: set[str] = set()  # known to have no failure counted: skip the write
        self._digests_seen: dict[tuple[str, str | None], datetime] = {}  # (channel, watch): at
        self._started = clock()

    def use(self, config: DeliveryConfig, channels: ChannelSet) -> None:
        """Deliver with this config and these channels from the next pass on."""
        self.channels = channels
        self.settings = config.settings
        self.operator = config.operator
        self.templates = config.templates
        self.pacer = config.pacer

    def stop(self) -> None:
        """Start no new send; sends in flight finish, claimed rows are left for the next run."""
        self._stopping = True

    async def bury_strays(self) -> None:
        """Dead-letter alerts waiting for channels that are no longer configured or are off."""
        names = self.channels.names()
        buried = await asyncio.to_thread(
            self.store.bury_strays,
            names,
            error="the channel is no longer configured or is off",
            now=self.clock(),
        )
        if buried:
            log.warning("%d alert(s) dead: their channel is no longer configured or is off", buried)

    async def deliver_due(self) -> DeliveryReport:
        """Send every outbox row due now once, channels in parallel."""
        await self.bury_strays()
        reports = await asyncio.gather(*(self.deliver_channel(n) for n in self.channels.names()))
        return sum(reports, DeliveryReport())

    async def deliver_channel(self, channel: str) -> DeliveryReport:
        """Send the rows due now for one channel, oldest first, each at most once.

        Rows are claimed as due by the pass's start, so a retry scheduled during the pass waits
        for the next one however short its backoff. Channels have passes of their own, so a
        slow or hung channel holds up nobody else.
        """
        heartbeat = asyncio.create_task(self._renew(channel))
        try:
            return await self._pass(channel)
        finally:
            heartbeat.cancel()

    async def _renew(self, channel: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            await asyncio.to_thread(
                self.store.renew_leases, self.owner, self.clock() + LEASE, channel=channel
            )

    async def _pass(self, channel: str) -> DeliveryReport:
        total = DeliveryReport()
        started = self.clock()
        await self._queue_empty_digests(channel, started)
        for notice in await asyncio.to_thread(
            self.store.notices.claim,
            self.owner,
            started,
            lease=LEASE,
            limit=BATCH,
            channel=channel,
        ):
            if self._stopping:
                break
            await self._send_notice(notice)
        while not self._stopping:
            claimed = await asyncio.to_thread(
                self.store.claim_deliveries,
                self.owner,
                self.clock(),
                lease=LEASE,
                limit=BATCH,
                due_by=started,
                channel=channel,
            )
            if not claimed:
                break
            await self._copy_for_digest(channel, claimed)
            todo = pacing.plan(self.pacer, channel, claimed, self.clock())
            for until, ids in todo.later.items():
                await asyncio.to_thread(self.store.defer, ids, owner=self.owner, until=until)
            for row_id in todo.dropped:
                await asyncio.to_thread(
                    self.store.mark_dead, row_id, owner=self.owner, error=NO_DIGEST
                )
            for (kind, _, watch), rows in todo.groups.items():
                if self._stopping:
                    break
                shown = pacing.one_per_story(rows)
                title = pacing.heading(
                    self.pacer, kind, channel, watch, len(shown), self.channels.locale(channel)
                )
                total += await self._send_group(channel, title, rows, shown)
            for row in todo.now:
                if self._stopping:
                    break
                total += await self._send_paced(row)
        return total

    async def _copy_for_digest(self, channel: str, claimed: list[AlertRecord]) -> None:
        """Keep a copy for the digest of each first alert whose digest comes besides instant
        alerts, before the alert itself is sent: the copy is committed, then the alert goes."""
        firsts = [
            r.id for r in claimed if r.stage == 0 and self.pacer.besides(r.alert.watch, channel)
        ]
        if firsts:
            await asyncio.to_thread(self.store.add_digest_copies, firsts)

    async def _queue_empty_digests(self, channel: str, now: datetime) -> None:
        """Queue "no new alerts" for each digest of `channel` that is due with nothing in it
        and is asked to be sent even so; it goes out as a notice, with the same retries."""
        since = self._started - EMPTY_DIGEST_GRACE
        for due in self.pacer.empty_digests(channel, since, now):
            key = (due.channel, due.watch)
            if self._digests_seen.get(key) == due.at:
                continue
            self._digests_seen[key] = due.at
            local = due.previous.astimezone(self.pacer.zone) if due.previous else None
            after = f"{local:%Y-%m-%d %H:%M %Z}" if local else ""
            body = {
                (False, False): phrases.DIGEST_EMPTY_BODY,
                (True, False): phrases.DIGEST_EMPTY_WATCH_BODY,
                (False, True): phrases.DIGEST_EMPTY_SINCE_BODY,
                (True, True): phrases.DIGEST_EMPTY_WATCH_SINCE_BODY,
            }[(bool(due.watch), bool(after))]
            notice = Notice(
                kind=EMPTY_DIGEST,
                about=f"{due.watch or ''}@{due.at.isoformat()}",
                title=phrases.DIGEST_EMPTY,
                body=body.format(watch=due.watch, since=after),
            )
            await asyncio.to_thread(
                self.store.notices.enqueue_if_empty,
                notice,
                channel=channel,
                watch=due.watch,
                besides=self.pacer.own_digest,
                since=due.previous,
                until=due.at,
                now=now,
            )

    async def _send_paced(self, row: AlertRecord) -> DeliveryReport:
        """Send one alert, unless its watch's rate limit is used up: then hold it for the
        overflow summary at the start of the next window."""
        window = self.pacer.rate_window(row.alert.watch, self.clock())
        if window is not None:
            most, start, end = window
            sent = await asyncio.to_thread(
                self.store.sent_count, row.alert.watch, row.channel, start
            )
            if sent >= most:
                await asyncio.to_thread(self.store.defer, [row.id], owner=self.owner, until=end)
                return DeliveryReport()
        return await self._send(row)

    async def _send_group(
        self, channel: str, title: str, rows: list[AlertRecord], shown: list[AlertRecord]
    ) -> DeliveryReport:
        """Several alerts as one message showing `shown`; they are sent, retried or dead
        together."""
        message = self.channels.compose_group(
            channel, title, [r.alert for r in shown], [_envelope(r) for r in shown]
        )
        outcome = await self.channels.send(channel, message)
        await self._health(channel, outcome)
        total = DeliveryReport()
        if outcome.ok:
            failpoints.hit("after-send")
            for row in rows:
                await asyncio.to_thread(
                    self.store.mark_sent, row.id, owner=self.owner, now=self.clock()
                )
            log.info("sent %d alerts to %s as one message: %s", len(rows), channel, title)
            return DeliveryReport(sent=len(rows))
        delay = self._backoff(max(r.attempts for r in rows) + 1, outcome)
        for row in rows:
            total += await self._failed(row, outcome, delay=delay)
        return total

    async def _send(self, row: AlertRecord) -> DeliveryReport:
        message = self.channels.compose(
            row.channel, row.alert, self.templates.get(row.alert.watch), _envelope(row)
        )
        outcome = await self.channels.send(row.channel, message)
        if outcome.ok:
            failpoints.hit("after-send")
            await asyncio.to_thread(
                self.store.mark_sent, row.id, owner=self.owner, now=self.clock()
            )
            log.info("sent alert %d (%s) to %s", row.id, row.alert.watch, row.channel)
            await self._health(row.channel, outcome)
            return DeliveryReport(sent=1)
        await self._health(row.channel, outcome)
        return await self._failed(row, outcome)

    def _backoff(self, attempts: int, outcome: SendOutcome) -> timedelta:
        delay = retry_delay(
            attempts, base=self.settings.retry_base, cap=self.settings.retry_max, rng=self.rng
        )
        if outcome.retry_after is not None:
            # The channel said when it will take messages again; sooner would only fail.
            delay = max(delay, timedelta(seconds=outcome.retry_after))
        return delay

    async def _health(self, channel: str, outcome: SendOutcome) -> None:
        """Count the send towards the channel's health; the operator hears of a change."""
        op = self.operator
        if not (op.channels and op.channel_failures) or (outcome.ok and channel in self._healthy):
            return
        n = op.channel_failures
        failing = Notice(
            kind=FAILING,
            about=channel,
            title=phrases.CHANNEL_FAILING.format(channel=channel),
            body=phrases.CHANNEL_FAILING_BODY.format(count=n, channel=channel, error=outcome.error),
        )
        recovered = Notice(
            kind=RECOVERED,
            about=channel,
            title=phrases.CHANNEL_RECOVERED.format(channel=channel),
            body=phrases.CHANNEL_RECOVERED_BODY.format(channel=channel, count=n),
        )
        kind = await asyncio.to_thread(
            self.store.notices.channel_result,
            channel,
            ok=outcome.ok,
            error=outcome.error,
            threshold=n,
            notify=[c for c in op.channels if c != channel and c in self.channels],
            failing=failing,
            recovered=recovered,
            now=self.clock(),
        )
        if outcome.ok:
            self._healthy.add(channel)
        else:
            self._healthy.discard(channel)
        if kind is not None:
            log.warning("channel %s: %s (operator notified)", channel, kind)

    async def _send_notice(self, notice: NoticeRecord) -> None:
        message = self.channels.compose_notice(
            notice.channel, notice.kind, notice.title, notice.body
        )
        outcome = await self.channels.send(notice.channel, message)
        notices, now, attempts = self.store.notices, self.clock(), notice.attempts + 1
        if outcome.ok:
            await asyncio.to_thread(
                notices.finish, notice.id, owner=self.owner, status=SENT, now=now
            )
            log.info("sent operator notice %d (%s) to %s", notice.id, notice.kind, notice.channel)
        elif outcome.verdict == wire.DEAD or attempts >= self.settings.max_attempts:
            await asyncio.to_thread(
                notices.finish,
                notice.id,
                owner=self.owner,
                status=DEAD,
                now=now,
                error=outcome.error,
            )
            log.error("operator notice %d to %s dead: %s", notice.id, notice.channel, outcome.error)
        else:
            await asyncio.to_thread(
                notices.finish,
                notice.id,
                owner=self.owner,
                status=PENDING,
                now=now,
                error=outcome.error,
                next_attempt_at=now + self._backoff(attempts, outcome),
            )

    async def _failed(
        self, row: AlertRecord, outcome: SendOutcome, *, delay: timedelta | None = None
    ) -> DeliveryReport:
        error = outcome.error or "send failed"
        attempts = row.attempts + 1
        if outcome.verdict == wire.DEAD or attempts >= self.settings.max_attempts:
            await asyncio.to_thread(self.store.mark_dead, row.id, owner=self.owner, error=error)
            why = "refused for good" if outcome.verdict == wire.DEAD else f"{attempts} attempts"
            log.error("alert %d to %s dead (%s): %s", row.id, row.channel, why, error)
            return DeliveryReport(dead=1)
        delay = delay or self._backoff(attempts, outcome)
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
        return DeliveryReport(retried=1)


def _envelope(row: AlertRecord) -> Envelope:
    return Envelope(id=row.id, story_id=row.story_id, attempt=row.attempts + 1)
