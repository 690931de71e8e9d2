"""What every request handler reads: the store, the settings in force, the daemon's counters."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.app.metrics import Metrics
from monitor.core.model import Settings
from monitor.core.secrets import mask, url_secrets
from monitor.store.repository import Store


@dataclass(slots=True, kw_only=True)
class Context:
    """One console's view of the service. `daemon` is False under `newsmonitor serve`, which
    runs no scheduler, so its counters stay at zero and readiness skips the tick check."""

    store: Store
    settings: Callable[[], Settings]
    metrics: Metrics = field(default_factory=Metrics)
    daemon: bool = False
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
