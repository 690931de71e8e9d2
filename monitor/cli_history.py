"""The history commands of the command line: export the stored articles, matches and alerts."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from monitor.cli import _existing_store, _load, app, err
from monitor.config import parse_duration
from monitor.export import FORMATS, write_rows


def _since(text: str | None) -> datetime | None:
    """The start of the window `--since` gives (a duration back from now), or None."""
    if text is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None


def _choice(value: str, allowed: tuple[str, ...], hint: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint=hint)
    return value


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "jsonl",
    what: Annotated[
        str, typer.Option("--what", help="articles, matches, or alerts (with delivery status).")
    ] = "alerts",
    since: Annotated[
        str | None, typer.Option("--since", help="Only the last 7d, 12h, ... (default: all).")
    ] = None,
    watch: Annotated[
        str | None, typer.Option("--watch", help="Only what this watch matched.")
    ] = None,
) -> None:
    """Write stored articles, matches or alerts to standard output as CSV or JSON Lines."""
    from monitor.store.history import COLUMNS, KINDS, export_rows

    _choice(fmt, FORMATS, "--format")
    _choice(what, KINDS, "--what")
    start = _since(since)
    settings = _load()
    with _existing_store(settings) as store:
        rows = export_rows(store.engine, what, since=start, watch=watch) if store else iter(())
        count = write_rows(rows, COLUMNS[what], fmt, sys.stdout)
    err.print(f"exported {count} {what}", markup=False)
