"""The commands that read the stored history: export and search; and the hit printing and
ad-hoc rules that replay shares with search."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.text import Text

from monitor.app.export import FORMATS, write_rows
from monitor.app.replay import Result, query_condition
from monitor.app.replay import search as find_hits
from monitor.cli.common import err, existing_store, load, out, since_start
from monitor.core.errors import QuerySyntaxError
from monitor.core.model import Settings, Watch
from monitor.core.query import Matcher, compile_query
from monitor.core.snippets import Snippet, as_json, snippets


def _choice(value: str, allowed: tuple[str, ...], hint: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint=hint)
    return value


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
    start = since_start(since)
    settings = load()
    with existing_store(settings) as store:
        rows = export_rows(store.engine, what, since=start, watch=watch) if store else iter(())
        count = write_rows(rows, COLUMNS[what], fmt, sys.stdout)
    err.print(f"exported {count} {what}", markup=False)


def matcher_for(settings: Settings, watches: Sequence[Watch]) -> Matcher:
    """The daemon's own matcher, for just these watches."""
    from monitor.app.watches import build_matcher

    return build_matcher(dataclasses.replace(settings, watches=tuple(watches)))


def checked_query(query: str, settings: Settings) -> Watch:
    """An ad-hoc rule as a watch of its own; prints the syntax error and exits 2."""
    try:
        compile_query(query, settings.terms)
    except QuerySyntaxError as exc:
        err.print(f"invalid query: {exc.message}\n{exc.caret()}", markup=False)
        raise typer.Exit(2) from None
    return Watch(name="query", query=query, notify=())


def _marked(snippet: Snippet) -> Text:
    """A snippet with its matched words highlighted."""
    out = Text()
    for part, lit in snippet.parts():
        out.append(" ".join(part.split()) if not lit else part, style="bold reverse" if lit else "")
    return out


def hit_json(hit: Result) -> dict[str, Any]:
    """A hit as the JSON object --json prints."""
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
        "snippets": [as_json(s) for s in snippets(hit.match.hits)],
    }


def print_hit(hit: Result) -> None:
    """A hit as lines for people: when, source, title, why it matched, its URL."""
    article = hit.stored.article
    when = article.published or hit.stored.fetched_at
    out.print(Text(f"{when:%Y-%m-%d %H:%M}  {article.source}  ", style="dim"), end="")
    out.print(Text(article.title, style="bold"))
    for why in snippets(hit.match.hits):
        out.print(Text(f"    {why.field}: ", style="dim"), _marked(why), sep="")
    out.print(
        Text(f"    {article.url or '-'}   matched: {', '.join(hit.match.terms)}", style="dim")
    )


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

    start = since_start(since)
    settings = load()
    watch = checked_query(query, settings)
    with existing_store(settings) as store:
        hits: list[Result] = []
        if store is not None:
            catch_up(store.engine)
            candidates = newest_first(
                store.engine,
                condition=query_condition(query, settings),
                since=start,
                source=source,
            )
            hits = list(find_hits(candidates, matcher_for(settings, [watch]), limit=limit))
    if as_json:
        for hit in hits:
            out.print(json.dumps(hit_json(hit), ensure_ascii=False), markup=False)
        return
    for hit in hits:
        print_hit(hit)
    err.print(f"{len(hits)} article(s)" + (" (--limit reached)" if len(hits) == limit else ""))
