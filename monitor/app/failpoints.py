"""Named crash points for crash-recovery tests: the process SIGKILLs itself at the named point.

`NEWSMONITOR_FAILPOINT=after-enqueue` fires right after a poll's outbox rows commit, and
`after-send` right after a channel accepted a message, before it is marked sent. Unset, every
point is inert (one dictionary lookup).
"""

from __future__ import annotations

import os
import signal

ENV = "NEWSMONITOR_FAILPOINT"
POINTS = ("after-enqueue", "after-send")


def hit(name: str) -> None:
    """Kill this process at once, as a power cut or the OOM killer would, if `name` is armed."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
