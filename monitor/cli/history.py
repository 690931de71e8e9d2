"""The history commands of the command line: export, search and replay what is stored."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import socket
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from monitor.app.delivery import DeliveryReport
from monitor.app.export import FORMATS, write_rows
from monitor.app.replay import ReplayReport, Result, query_condition, watches_condition
from monitor.app.replay import replay as run_replay
from monitor.app.replay import search as find_hits
from monitor.cli import _existing_store, _load, app, err, out
from monitor.config import parse_duration
from monitor.core.errors import QuerySyntaxError
from monitor.core.model import Settings, Watch
from monitor.core.query import Matcher, compile_query

if TYPE_CHECKING:
    from monitor.store.repository import Store
    from monitor.store.search import StoredArticle


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


def _matcher_for(settings: Settings, watches: Sequence[Watch]) -> Matcher:
    """The daemon's own matcher, for just these watches."""
    from monitor.app.wiring import build_matcher

    return build_matcher(dataclasses.replace(settings, watches=tuple(watches)))


def _checked_query(query: str, settings: Settings) -> Watch:
    try:
        compile_query(query, settings.terms)
    except QuerySyntaxError as exc:
        err.print(f"invalid query: {exc.message}\n{exc.caret()}", markup=False)
        raise typer.Exit(2) from None
    return Watch(name="query", query=query, notify=())


def _marked(snippet: str) -> Text:
    """A snippet whose matching words the engine marked «like this», with them highlighted."""
    out = Text()
    for index, part in enumerate(re.split("[«»]", snippet)):
        out.append(part, style="bold reverse" if index % 2 else "")
    return out


def _hit_json(hit: Result) -> dict[str, Any]:
    article = hit.stored.article
    return {
        "id": hit.stored.id,
        "watch": hit.match.watch,
        "source": article.source,
        "title": article.title,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "fetched_at": hit.stored.fetched_at.isoformat(),
        "terms": list(hit.match.terms),
        "hits": [dataclasses.asdict(h) for h in hit.match.hits],
    }


def _print_hit(hit: Result) -> None:
    article = hit.stored.article
    when = article.published or hit.stored.fetched_at
    out.print(Text(f"{when:%Y-%m-%d %H:%M}  {article.source}  ", style="dim"), end="")
    out.print(Text(article.title, style="bold"))
    for why in hit.match.hits:
        out.print(Text(f"    {why.field}: ", style="dim"), _marked(why.snippet), sep="")
    out.print(
        Text(f"    {article.url or '-'}   matched: {', '.join(hit.match.terms)}", style="dim")
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A rule, in the watch query language.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only articles fetched in the last 7d, ...")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Find stored articles that a rule matches, newest first, with the found terms marked."""
    from monitor.store.search import catch_up, newest_first

    start = _since(since)
    settings = _load()
    watch = _checked_query(query, settings)
    with _existing_store(settings) as store:
        hits: list[Result] = []
        if store is not None:
            catch_up(store.engine)
            candidates = newest_first(
                store.engine,
                condition=query_condition(query, settings),
                since=start,
                source=source,
            )
            hits = list(find_hits(candidates, _matcher_for(settings, [watch]), limit=limit))
    if as_json:
        for hit in hits:
            out.print(json.dumps(_hit_json(hit), ensure_ascii=False), markup=False)
        return
    for hit in hits:
        _print_hit(hit)
    err.print(f"{len(hits)} article(s)" + (" (--limit reached)" if len(hits) == limit else ""))


@app.command()
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
    start = None if since in (None, "all") else _since(since)
    settings = _load()
    if query is not None:
        watches = [_checked_query(query, settings)]
        narrow = query_condition(query, settings)
    else:
        watches = [w for w in settings.watches if watch is None or w.name == watch]
        if not watches:
            known = ", ".join(w.name for w in settings.watches) or "none"
            raise typer.BadParameter(f"no watch {watch!r} (watches: {known})", param_hint="--watch")
        narrow = watches_condition(settings, [w.name for w in watches])
    matcher = _matcher_for(settings, watches)
    alerts, delivery = 0, DeliveryReport()
    with _existing_store(settings) as store:
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
        "samples": [_hit_json(hit) for hit in report.samples],
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
        _print_hit(hit)
