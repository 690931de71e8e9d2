"""Signals that reach the command before the daemon is up."""

from __future__ import annotations

import subprocess
import sys

from tests.support import process

SCRIPT = """
import os, signal
import monitor.cli
os.kill(os.getpid(), signal.SIGHUP)
from monitor.app import hangup
print(hangup.pending(), hangup.pending())
"""


def test_a_sighup_during_start_up_is_kept_for_the_daemon_not_fatal() -> None:
    """Once the command line is imported, a SIGHUP no longer ends the process (its default):
    it is remembered, once, as a reload for the daemon to make when it runs."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=process.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
