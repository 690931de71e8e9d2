"""`health`: whether this host's daemon is alive, for container healthchecks and monitors."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Annotated

import typer

from monitor.cli.common import err, load, out


def health(
    max_age: Annotated[
        float,
        typer.Option(
            "--max-age", help="Seconds since the daemon's last heartbeat (it beats every 5)."
        ),
    ] = 30,
    any_host: Annotated[
        bool, typer.Option("--any-host", help="Any daemon on the database, not only this host's.")
    ] = False,
) -> None:
    """Exit 0 if the database answers and a daemon on this host beat lately, 1 if not."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store.database import make_engine, sqlite_path
    from monitor.store.repository import Store

    settings = load()
    path = sqlite_path(settings.database)
    if path is not None and not path.exists():
        err.print(f"unhealthy: no database at {path} yet", markup=False)
        raise typer.Exit(1)
    host = None if any_host else socket.gethostname()
    store = Store(make_engine(settings.database))
    try:
        last = store.last_beat(host)
    except SQLAlchemyError as exc:
        err.print(
            f"unhealthy: the database does not answer: {exc.__class__.__name__}", markup=False
        )
        raise typer.Exit(1) from None
    finally:
        store.close()
    where = "any host" if any_host else host
    if last is None:
        err.print(f"unhealthy: no daemon running on {where}", markup=False)
        raise typer.Exit(1)
    owner, beat_at = last
    age = (datetime.now(UTC) - beat_at).total_seconds()
    if age > max_age:
        err.print(f"unhealthy: daemon {owner} last beat {age:.0f} s ago", markup=False)
        raise typer.Exit(1)
    out.print(f"healthy: daemon {owner} beat {age:.1f} s ago", markup=False)
