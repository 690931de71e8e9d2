"""The notify-test command: send one test message through a channel of the config."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from monitor.cli.common import err, load, out
from monitor.core.secrets import masked_url
from monitor.notify.channels import send_test_message


def notify_test(
    channel: Annotated[str, typer.Argument(help="The name of a channel in the config.")],
) -> None:
    """Send a test message through one channel; exit 1 with the reason if it fails."""
    settings = load()
    found = {c.name: c for c in settings.channels}
    target = found.get(channel)
    if target is None:
        err.print(f"error: no channel {channel!r} (defined: {', '.join(found) or 'none'})")
        raise typer.Exit(2)
    shown = masked_url(target.url)
    if not (target.enabled and target.url):
        err.print(f"error: channel {channel} is off", markup=False)
        raise typer.Exit(2)
    timeout = settings.delivery.timeout.total_seconds()
    language = settings.delivery.language
    outcome = asyncio.run(send_test_message(target, send_timeout=timeout, language=language))
    if outcome.ok:
        out.print(f"sent a test message to {channel} ({shown})", markup=False)
        return
    verdict = "will not work until fixed" if outcome.verdict == "dead" else "may be temporary"
    err.print(f"failed to send to {channel} ({shown}): {outcome.error} ({verdict})", markup=False)
    raise typer.Exit(1)
