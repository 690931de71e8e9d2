"""Every read and write the daemon and the CLI make, each in one short transaction.

`Store` is composed of one mixin per concern (sources and polls, alerts, leases, daemons), each a
`StoreBase` sharing its engine and transactions; operator notices hang off it as `store.notices`.
"""

from __future__ import annotations

from sqlalchemy import Engine

from monitor.store.alerts import Alerts
from monitor.store.console import Console
from monitor.store.daemons import Daemons
from monitor.store.database import make_engine, migrate
from monitor.store.feedback import Feedback
from monitor.store.leases import Leases
from monitor.store.notices import Notices
from monitor.store.pages import Pages
from monitor.store.sources import Sources


class Store(Sources, Alerts, Leases, Feedback, Console, Daemons):
    """The newsmonitor database; one instance per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.notices = Notices(self)
        self.pages = Pages(self)

    @classmethod
    def open(cls, url: str) -> Store:
        """Migrate the database at `url` to the newest schema and open it."""
        migrate(url)
        return cls(make_engine(url))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
