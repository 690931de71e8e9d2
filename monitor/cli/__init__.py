"""The newsmonitor command line: parse arguments, call the library, print, set the exit code.

This module builds the typer app from the command modules; the order of registration is the
order of `--help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.app.logs import setup_logging
from monitor.cli import daemon, health, history, listing, notify, replay, rules, transfer
from monitor.cli.common import state

app = typer.Typer(
    help="Poll news feeds, match watch rules, and send one alert per story.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            envvar="NEWSMONITOR_CONFIG",
            help="Main config file.",
            show_default=True,
        ),
    ] = Path("config/monitor.yaml"),
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            envvar="NEWSMONITOR_LOG_LEVEL",
            help="debug, info, warning or error.",
        ),
    ] = "info",
) -> None:
    """Self-hosted news monitoring: feeds in, alerts out, history in SQLite or PostgreSQL."""
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise typer.BadParameter("use debug, info, warning or error", param_hint="--log-level")
    setup_logging(log_level)
    state.config = config


app.command()(daemon.run)
app.command()(daemon.check)
app.command()(listing.sources)
app.command()(listing.alerts)
app.command("test-rule")(rules.test_rule)
app.command()(daemon.demo)
app.command("notify-test")(notify.notify_test)
app.command()(daemon.version)
app.command()(history.export)
app.command()(history.search)
app.command()(replay.replay)
app.command()(health.health)
app.command()(transfer.migrate)


def main() -> None:
    """Console-script entry point."""
    app()
