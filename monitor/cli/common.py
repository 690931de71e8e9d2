"""What every command shares: the consoles, the global options, loading the config, opening the
store, and turning library errors into exit codes (2: the input is wrong, 1: it failed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from monitor.core.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor.core.model import Settings
    from monitor.store.repository import Store

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class State:
    """The global options, set by the app's callback before any command runs."""

    config: Path = Path("config/monitor.yaml")


state = State()


def load() -> Settings:
    """The settings from `--config`; prints every problem and exits 2 if it has any."""
    # Imported here, as every command's heavier modules are, so `version` starts at once.
    from monitor.app.logs import hide
    from monitor.config import load_settings
    from monitor.core.secrets import channel_secrets

    try:
        settings = load_settings(state.config, check_channel_url=check_channel_url)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False)
        raise typer.Exit(2) from None
    hide(s for channel in settings.channels for s in channel_secrets(channel.url, channel.secret))
    return settings


# The console channel is our own plugin: nothing for apprise (a second of imports) to check.
CONSOLE = "console://"


def check_channel_url(url: str) -> str | None:
    """Why this URL cannot be a channel (see notify.channels), or None."""
    if url == CONSOLE:
        return None
    from monitor.notify.channels import check_channel_url as check

    return check(url)


def channel_warning(url: str) -> str | None:
    """What is risky about a usable channel URL (see notify.channels), or None."""
    if url == CONSOLE:
        return None
    from monitor.notify.channels import channel_warning as warning

    return warning(url)


def fail(exc: MonitorError) -> typer.Exit:
    """Print the error and return the exit (code 1) for the caller to raise."""
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(1)


@contextmanager
def existing_store(settings: Settings) -> Iterator[Store | None]:
    """The store, or None when the SQLite file does not exist yet (listing creates nothing)."""
    from monitor.store.database import sqlite_path
    from monitor.store.repository import Store

    path = sqlite_path(settings.database)
    if path is not None and not path.exists():
        yield None
        return
    try:
        store = Store.open(settings.database)
    except MonitorError as exc:
        raise fail(exc) from None
    try:
        yield store
    finally:
        store.close()


def since_start(text: str | None) -> datetime | None:
    """The start of the window `--since` gives (a duration back from now), or None."""
    from monitor.config import parse_duration

    if text is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
