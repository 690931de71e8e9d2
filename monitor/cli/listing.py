"""The commands that list what the store holds: sources (polling state) and alerts (delivery)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.cli.common import err, existing_store, load, out
from monitor.core.model import Settings, Source
from monitor.core.records import PENDING, SourceStatus
from monitor.core.secrets import mask


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _jsonable(row: Any) -> dict[str, Any]:
    flat = asdict(row)
    # An alert record nests what the alert says; users script against one flat object.
    flat.update(flat.pop("alert", {}))
    if isinstance(row, SourceStatus):
        flat["url"] = mask(row.url, ())  # a feed URL may carry basic-auth credentials
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in flat.items()}


def sources(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show each source's polling state: last success, last error, next poll."""
    settings = load()
    with existing_store(settings) as store:
        if store is None:
            statuses = [_never_polled(s) for s in settings.sources]
        else:
            statuses = store.list_sources()
    if as_json:
        for status in statuses:
            out.print(json.dumps(_jsonable(status), ensure_ascii=False), markup=False)
        return
    table = Table(
        "source", "articles", "last success (UTC)", "failures", "last error", "next poll (UTC)"
    )
    for st in statuses:
        error = f"{st.last_error_kind}: {st.last_error}" if st.last_error else "-"
        table.add_row(
            st.name + ("" if st.active else " (removed)"),
            str(st.articles),
            _when(st.last_success_at),
            str(st.consecutive_failures),
            error,
            _when(st.next_poll_at) if st.next_poll_at else "at start",
        )
    out.print(table)


def _never_polled(source: Source) -> SourceStatus:
    return SourceStatus(
        name=source.name,
        url=source.url,
        active=True,
        title=None,
        articles=0,
        last_polled_at=None,
        last_success_at=None,
        next_poll_at=None,
        consecutive_failures=0,
        last_error_kind=None,
        last_error=None,
    )


def alerts(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 50,
    mark: Annotated[
        tuple[int, str] | None,
        typer.Option(
            "--mark",
            metavar="ID relevant|irrelevant",
            help="Mark alert ID (as listed) relevant or not, for the watch's precision.",
        ),
    ] = None,
) -> None:
    """Show the newest alerts and their delivery state per channel (or mark one with --mark)."""
    settings = load()
    if mark is not None:
        _mark(settings, *mark)
        return
    with existing_store(settings) as store:
        records = store.list_alerts(limit=limit) if store is not None else []
    if as_json:
        for r in records:
            out.print(json.dumps(_jsonable(r), ensure_ascii=False), markup=False)
        return
    if not records:
        out.print("no alerts yet", markup=False)
        return
    table = Table(
        "when (UTC)",
        "watch",
        "channel",
        "status",
        "source",
        "title",
        "matched",
        "why",
        "also reported by",
    )
    for r in records:
        status = r.status if r.status != PENDING or not r.attempts else f"retry ({r.attempts})"
        status += " (digest copy)" if r.digest_copy else " (follow-up)" if r.stage > 0 else ""
        table.add_row(
            _when(r.created_at),
            r.alert.watch,
            r.channel,
            status,
            r.alert.source,
            r.alert.title,
            ", ".join(r.alert.terms),
            "\n".join(f"{h.field}: {h.snippet}" for h in r.alert.hits),
            ", ".join(r.alert.also_reported_by) or "-",
        )
    out.print(table)


def _mark(settings: Settings, alert_id: int, verdict: str) -> None:
    if verdict not in ("relevant", "irrelevant"):
        raise typer.BadParameter("use relevant or irrelevant", param_hint="--mark")
    with existing_store(settings) as store:
        watch = None
        if store is not None:
            relevant = verdict == "relevant"
            watch = store.mark(alert_id, relevant=relevant, now=datetime.now(UTC))
    if watch is None:
        err.print(f"no alert {alert_id}", markup=False)
        raise typer.Exit(1)
    out.print(f"alert {alert_id} ({watch}) marked {verdict}", markup=False)
