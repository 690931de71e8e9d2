"""A SIGHUP that comes while the daemon is still starting: kept for later, not fatal.

Python leaves SIGHUP at its default action, which ends the process, until the daemon installs
its reload handler; on a loaded machine that is seconds after exec (imports, the config, the
database). A reload asked for in that time (`systemctl reload` right after a start, a config
push) killed the daemon. Importing this module, which `monitor.cli` does before its heavy
imports, installs a handler that only remembers the signal; the daemon, once running, takes
`pending()` as one reload request.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_received = False


def _remember(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True


def pending() -> bool:
    """Whether a SIGHUP came since this module was imported (or since the last call)."""
    global _received
    was, _received = _received, False
    return was


if threading.current_thread() is threading.main_thread():  # signal.signal works only there
    signal.signal(signal.SIGHUP, _remember)
