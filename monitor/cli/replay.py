"""The replay command: run the watches (or a rule) over stored articles, report what they match
and, asked to, send the alerts those matches never raised."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from monitor.app.delivery import DeliveryReport
from monitor.app.replay import ReplayReport, query_condition, watches_condition
from monitor.app.replay import replay as run_replay
from monitor.cli.common import err, existing_store, load, out, since_start
from monitor.cli.history import checked_query, hit_json, matcher_for, print_hit
from monitor.core.model import Settings
from monitor.core.query import Matcher

if TYPE_CHECKING:
    from monitor.store.repository import Store
    from monitor.store.search import StoredArticle


def replay(
    since: Annotated[
        str | None, typer.Option("--since", help="Articles fetched in the last 30d, ... (all).")
    ] = "30d",
    watch: Annotated[str | None, typer.Option("--watch", help="Only this watch.")] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="An ad-hoc rule instead of the watches.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the alerts these matches never raised.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Run the watches (or a rule) over stored articles: counts per day and source, samples."""
    from monitor.store.search import catch_up, count_since, newest_first, oldest_first

    if watch and query:
        raise typer.BadParameter("give --watch or --query, not both", param_hint="--query")
    if notify and query:
        raise typer.BadParameter("alerts belong to watches: use --watch", param_hint="--notify")
    start = None if since in (None, "all") else since_start(since)
    settings = load()
    if query is not None:
        watches = [checked_query(query, settings)]
        narrow = query_condition(query, settings)
    else:
        watches = [w for w in settings.watches if watch is None or w.name == watch]
        if not watches:
            known = ", ".join(w.name for w in settings.watches) or "none"
            raise typer.BadParameter(f"no watch {watch!r} (watches: {known})", param_hint="--watch")
        narrow = watches_condition(settings, [w.name for w in watches])
    matcher = matcher_for(settings, watches)
    alerts, delivery = 0, DeliveryReport()
    with existing_store(settings) as store:
        if store is None:
            report = ReplayReport()
        else:
            if narrow is not None:
                catch_up(store.engine)
                articles = newest_first(store.engine, condition=narrow, since=start, source=source)
                total = None
            else:
                articles = oldest_first(store.engine, since=start, source=source)
                total = count_since(store.engine, since=start, source=source)
            report = _replay_with_progress(articles, matcher, total, keep=notify, quiet=as_json)
            if notify:
                alerts, delivery = _notify(store, settings, report)
    if as_json:
        summary = _report_json(report)
        if notify:
            summary.update(alerts=alerts, sent=delivery.sent, retried=delivery.retried)
        out.print(json.dumps(summary, ensure_ascii=False), markup=False)
        return
    _print_report(report)
    if notify:
        out.print(
            f"alerts never sent before: {alerts} queued; sent now {delivery.sent}, "
            f"to retry {delivery.retried}, dead {delivery.dead}",
            markup=False,
        )


def _replay_with_progress(
    articles: Iterable[StoredArticle],
    matcher: Matcher,
    total: int | None,
    *,
    keep: bool,
    quiet: bool,
) -> ReplayReport:
    columns = [
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("articles"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err, transient=True, disable=quiet) as bar:
        task = bar.add_task("replay", total=total)
        return run_replay(articles, matcher, keep=keep, progress=lambda n: bar.advance(task, n))


def _notify(store: Store, settings: Settings, report: ReplayReport) -> tuple[int, DeliveryReport]:
    """Queue the alerts the replay's matches never raised, then send what is due."""
    from monitor.app.delivery import Deliverer
    from monitor.core.pipeline import routes
    from monitor.notify.channels import ChannelSet
    from monitor.store.history import record_replayed

    now = datetime.now(UTC)
    found = sorted(report.found, key=lambda hit: hit[0])  # oldest article first
    alerts = record_replayed(
        store.engine, found, routes(settings.watches, settings.channels), now=now
    )
    channels = ChannelSet(settings.channels, send_timeout=settings.delivery.timeout.total_seconds())
    deliverer = Deliverer(
        store,
        channels,
        settings.delivery,
        owner=f"{socket.gethostname()}:{os.getpid()}:replay",
        clock=lambda: datetime.now(UTC),
    )
    return alerts, asyncio.run(deliverer.deliver_due())


def _report_json(report: ReplayReport) -> dict[str, Any]:
    return {
        "scanned": report.scanned,
        "matches": report.hits,
        "by_day": dict(sorted(report.by_day.items())),
        "by_source": dict(report.by_source.most_common()),
        "by_watch": dict(report.by_watch.most_common()),
        "samples": [hit_json(hit) for hit in report.samples],
    }


def _print_report(report: ReplayReport) -> None:
    out.print(f"scanned {report.scanned} article(s): {report.hits} match(es)", markup=False)
    if not report.hits:
        return
    for title, counts in (
        ("by watch", report.by_watch.most_common()),
        ("by day (UTC)", sorted(report.by_day.items())),
        ("by source", report.by_source.most_common()),
    ):
        table = Table(title, "matches", title_justify="left")
        for name, count in counts:
            table.add_row(name, str(count))
        out.print(table)
    out.print("sample hits:", markup=False)
    for hit in report.samples:
        out.print(Text(f"[{hit.match.watch}] ", style="bold"), end="")
        print_hit(hit)
