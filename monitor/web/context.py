"""What every request handler reads: the store, the settings in force, the daemon's counters."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from monitor.app.metrics import Metrics
from monitor.core.model import Settings
from monitor.core.secrets import mask, url_secrets
from monitor.store.repository import Store

PAST_TTL = 600.0  # seconds a count of past days' alerts is reused


class PastDays:
    """Alerts per watch per day before today, read once per day or every 10 minutes: they
    change only when retention or a late follow-up touches them, and counting a month of a
    busy outbox costs more than a page may."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: date | None = None
        self._at = 0.0
        self._rows: list[tuple[str, str, int]] = []

    def rows(self, store: Store, today: datetime, days: int) -> list[tuple[str, str, int]]:
        """(watch, day, alerts) for the `days` - 1 days before `today` (a midnight)."""
        with self._lock:
            if self._key != today.date() or time.monotonic() - self._at > PAST_TTL:
                self._rows = store.alerts_per_day(today - timedelta(days=days - 1), until=today)
                self._key, self._at = today.date(), time.monotonic()
            return self._rows


@dataclass(slots=True, kw_only=True)
class Context:
    """One console's view of the service. `daemon` is False under `newsmonitor serve`, which
    runs no scheduler, so its counters stay at zero and readiness skips the tick check."""

    store: Store
    settings: Callable[[], Settings]
    metrics: Metrics = field(default_factory=Metrics)
    daemon: bool = False
    past_days: PastDays = field(default_factory=PastDays)
    # Signs CSRF values when no token is set: forms must still come from our own pages.
    key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    def secret_free(self, text: str | None) -> str | None:
        """The text with every channel URL's credentials and the web token masked."""
        if text is None:
            return None
        settings = self.settings()
        found = {s for channel in settings.channels for s in url_secrets(channel.url)}
        if settings.web.token:
            found.add(settings.web.token)
        return mask(text, found)
