"""The typer app: the global options and the commands of COMMANDS, built on demand."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from monitor.app.logs import setup_logging
from monitor.cli.common import state
from monitor.cli.names import COMMANDS


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


def build(only: str | None = None) -> typer.Typer:
    """The app with every command, or with `only` that one."""
    built = typer.Typer(
        help="Poll news feeds, match watch rules, and send one alert per story.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    built.callback()(_main)
    for name, (module, function) in COMMANDS.items():
        if only is None or name == only:
            command = getattr(importlib.import_module(f"monitor.cli.{module}"), function)
            built.command(name)(command)
    return built
