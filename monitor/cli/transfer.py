"""`migrate --to URL`: move the whole history to another database, SQLite to PostgreSQL mostly."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated

import typer

from monitor.cli.common import err, fail, load, out
from monitor.core.errors import MonitorError, StoreError


def migrate(
    to: Annotated[str, typer.Option("--to", help="The database URL to copy the history into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Empty a target that holds other data first.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The counts as one JSON object.")] = False,
) -> None:
    """Copy the config's database into an empty one, in batches; run again to resume."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from monitor.store.database import DaemonLock, sqlite_path
    from monitor.store.transfer import TABLES, Transfer

    settings = load()
    try:
        target = make_url(to)
    except ArgumentError:
        raise typer.BadParameter("not a database URL", param_hint="--to") from None
    if target.get_backend_name() not in ("sqlite", "postgresql"):
        raise typer.BadParameter("use a sqlite:// or postgresql+psycopg:// URL", param_hint="--to")
    if make_url(settings.database) == target:
        raise typer.BadParameter("that is the config's own database", param_hint="--to")
    path = sqlite_path(settings.database)
    lock = DaemonLock(path) if path is not None else None
    try:
        if lock is not None:
            lock.acquire()  # no daemon may write the source while it is copied
        transfer = Transfer(settings.database, to)
    except MonitorError as exc:
        if lock is not None:
            lock.release()
        raise fail(exc) from None
    try:
        copied = transfer.check_target(force=force)
        if copied:
            err.print(f"resuming: {copied} row(s) were copied before", markup=False)
        before = {c.table: c for c in transfer.counts()}
        with Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=as_json,
        ) as bar:
            tasks = {
                t.name: bar.add_task(
                    t.name, total=max(0, before[t.name].source - before[t.name].target)
                )
                for t in TABLES
            }
            for table in TABLES:
                transfer.copy(table, partial(bar.advance, tasks[table.name]))
        indexed = transfer.finish()
        counts = transfer.counts()
    except (MonitorError, SQLAlchemyError) as exc:
        if isinstance(exc, SQLAlchemyError):  # the first line: the rest repeats rows' text
            exc = StoreError(f"the copy failed: {str(exc).splitlines()[0]}")
        raise fail(exc) from None
    finally:
        transfer.close()
        if lock is not None:
            lock.release()
    ok = all(c.source == c.target for c in counts)
    if as_json:
        tables = [{"table": c.table, "source": c.source, "target": c.target} for c in counts]
        out.print(json.dumps({"tables": tables, "indexed": indexed, "ok": ok}), markup=False)
    else:
        width = max(len(c.table) for c in counts)
        out.print(f"{'table':<{width}}  {'source':>9}  {'target':>9}", markup=False)
        for c in counts:
            mark = "" if c.source == c.target else "  MISMATCH"
            out.print(f"{c.table:<{width}}  {c.source:>9}  {c.target:>9}{mark}", markup=False)
        if indexed:
            out.print(f"search index: {indexed} article(s) indexed", markup=False)
        out.print("copied: every table matches" if ok else "copy incomplete", markup=False)
    if not ok:
        raise typer.Exit(1)
