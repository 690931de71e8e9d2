"""The commands that list what the store holds: sources (polling state) and alerts (delivery)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.cli import sourcetools
from monitor.cli.common import err, existing_store, load, out
from monitor.core.model import Settings, Source
from monitor.core.records import PENDING, AlertRecord, SourceStatus
from monitor.core.secrets import mask
from monitor.core.snippets import as_json as snippet_json
from monitor.core.snippets import snippets


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _jsonable(row: Any) -> dict[str, Any]:
    flat = asdict(row)
    # An alert record nests what the alert says; users script against one flat object.
    flat.update(flat.pop("alert", {}))
    if isinstance(row, AlertRecord):
        flat["snippets"] = [snippet_json(s) for s in snippets(row.alert.hits)]
    if isinstance(row, SourceStatus):
        flat["url"] = mask(row.url, ())  # a feed URL may carry basic-auth credentials
        if row.resolved_url:
            flat["resolved_url"] = mask(row.resolved_url, ())
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in flat.items()}


def _pages(outcomes: dict[str, dict[str, Any]]) -> str:
    # "12 fetched, 3 robots": how many pages were read, and how many not and why.
    return ", ".join(f"{v['count']} {k}" for k, v in outcomes.items()) or "-"


def sources(
    action: Annotated[
        str | None,
        typer.Argument(
            help="discover URL: the feeds a site advertises; import FILE.opml: its feeds as a "
            "sources file; export --opml: the configured feeds as OPML. None: the state.",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Argument(help="The URL or OPML file.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    opml: Annotated[bool, typer.Option("--opml", help="export: as OPML 2.0.")] = False,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="import: a tag for every source.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="import: write this file.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="import: overwrite --output.")] = False,
) -> None:
    """Show each source's polling state: last success, last error, next poll; or discover a
    site's feeds, import an OPML file, export the sources as OPML."""
    if action is not None:
        _source_tool(
            action, target, as_json=as_json, opml=opml, tags=tag or [], output=output, force=force
        )
        return
    settings = load()
    pages: dict[str, dict[str, dict[str, Any]]] = {}
    with existing_store(settings) as store:
        if store is None:
            statuses = [_never_polled(s) for s in settings.sources]
        else:
            statuses = store.list_sources()
            pages = store.pages.outcomes()
    if as_json:
        for status in statuses:
            row = {**_jsonable(status), "pages": pages.get(status.name, {})}
            out.print(json.dumps(row, ensure_ascii=False), markup=False)
        return
    table = Table(
        "source",
        "articles",
        "last success (UTC)",
        "failures",
        "last error",
        "next poll (UTC)",
        "article pages",
    )
    for st in statuses:
        error = f"{st.last_error_kind}: {st.last_error}" if st.last_error else "-"
        # A page given as `url` is polled through the feed it advertises: say which.
        via = f"\nvia {mask(st.resolved_url, ())}" if st.resolved_url else ""
        table.add_row(
            st.name + ("" if st.active else " (removed)") + via,
            str(st.articles),
            _when(st.last_success_at),
            str(st.consecutive_failures),
            error,
            _when(st.next_poll_at) if st.next_poll_at else "at start",
            _pages(pages.get(st.name, {})),
        )
    out.print(table)


def _source_tool(
    action: str,
    target: str | None,
    *,
    as_json: bool,
    opml: bool,
    tags: list[str],
    output: Path | None,
    force: bool,
) -> None:
    if action == "discover" and target:
        sourcetools.discover_command(target, as_json)
    elif action == "import" and target:
        sourcetools.import_command(Path(target), tags, output, force)
    elif action == "export" and opml and not target:
        sourcetools.export_command()
    else:
        raise typer.BadParameter(
            "use: sources discover URL | sources import FILE.opml | sources export --opml",
            param_hint="ACTION",
        )


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
            "\n".join(f"{s.field}: {s.marked()}" for s in snippets(r.alert.hits)),
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
