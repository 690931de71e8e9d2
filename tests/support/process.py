"""Running the newsmonitor command as a real process, as a user or a service manager would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"


def env(slack_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for a daemon subprocess: the loopback guard loaded, Slack redirected."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMONITOR_")}
    out["PYTHONPATH"] = os.pathsep.join([str(SITE), str(ROOT)])
    if slack_url:
        out["NEWSMONITOR_TEST_SLACK_URL"] = slack_url
    out.update(extra)
    return out


def command(config: Path, *args: str) -> list[str]:
    """The argv for `newsmonitor -c CONFIG ARGS...` with this interpreter."""
    return [sys.executable, "-m", "monitor", "-c", str(config), *args]


def run(
    config: Path, *args: str, slack_url: str | None = None, timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run one command to completion and capture its output."""
    return subprocess.run(
        command(config, *args),
        env=env(slack_url, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def start(
    config: Path, *args: str, slack_url: str | None = None, log: Path, **extra: str
) -> subprocess.Popen[str]:
    """Start a long-running command; its stdout and stderr go to `log`."""
    with log.open("w") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command(config, *args),
            env=env(slack_url, **extra),
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )


def wait_for(predicate: Callable[[], bool], *, timeout: float = 20, what: str = "") -> None:
    """Poll `predicate` until it holds or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
