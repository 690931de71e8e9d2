"""The newsmonitor command line: parse arguments, call the library, print, set the exit code."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from monitor import __version__
from monitor.app.logs import hide, setup_logging
from monitor.config import load_settings
from monitor.core.errors import ConfigError, MonitorError
from monitor.core.model import Article, Settings, Source
from monitor.core.records import SourceStatus
from monitor.core.secrets import mask, masked_url, url_secrets
from monitor.notify.channels import channel_warning, check_channel_url, send_test_message

if TYPE_CHECKING:
    from monitor.store.repository import Store

app = typer.Typer(
    help="Poll news feeds, match watch rules, and send one alert per story.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    config: Path = Path("config/monitor.yaml")


state = _State()


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


def _load() -> Settings:
    try:
        settings = load_settings(state.config, check_channel_url=check_channel_url)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False)
        raise typer.Exit(2) from None
    hide(secret for channel in settings.channels for secret in url_secrets(channel.url))
    return settings


def _fail(exc: MonitorError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(1)


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@app.command()
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Poll every source once, deliver what is due, exit.")
    ] = False,
) -> None:
    """Run the daemon in the foreground (SIGTERM or Ctrl-C stops it cleanly)."""
    from monitor.app.daemon import serve

    settings = _load()
    try:
        result = asyncio.run(serve(settings, once=once))
    except MonitorError as exc:  # the store unreachable, locked by another daemon, ...
        raise _fail(exc) from None
    if result is not None:
        outcomes, report = result
        failed = [o for o in outcomes if not o.ok]
        new = sum(o.new_articles for o in outcomes)
        err.print(
            f"polled {len(outcomes)} source(s): {len(failed)} failed, {new} new article(s); "
            f"alerts sent {report.sent}, to retry {report.retried}, dead {report.dead}",
            markup=False,
        )
        for o in failed:
            err.print(f"  {o.source}: {o.error}", markup=False)


@app.command()
def check() -> None:
    """Validate the config, run the watches' examples and print a summary; writes nothing."""
    from monitor.app.wiring import build_matcher
    from monitor.core.rulecheck import check_examples

    settings = _load()
    examples = check_examples(settings)
    if examples.failures:
        for failure in examples.failures:
            err.print(failure, markup=False)
        err.print(
            f"{len(examples.failures)} of {examples.total} watch example(s) fail", markup=False
        )
        raise typer.Exit(2)
    out.print(f"config OK: {', '.join(settings.files)}", markup=False)
    out.print(f"database: {_redacted(settings.database)}", markup=False)
    out.print(f"sources: {len(settings.sources)}", markup=False)
    for s in settings.sources:
        tags = f" [{', '.join(s.tags)}]" if s.tags else ""
        out.print(
            f"  {s.name}: {mask(s.url, ())} every {_duration(s.interval.total_seconds())}{tags}",
            markup=False,
        )
    out.print(f"channels: {len(settings.channels)}", markup=False)
    for c in settings.channels:
        on = "on" if c.enabled and c.url else ("off (url is empty)" if not c.url else "off")
        out.print(f"  {c.name}: {on}", markup=False)
        warning = channel_warning(c.url) if c.enabled and c.url else None
        if warning:
            out.print(f"    warning: {warning}", markup=False)
    out.print(f"term lists: {', '.join(sorted(settings.terms)) or 'none'}", markup=False)
    out.print(f"watches: {len(settings.watches)}", markup=False)
    active = {c.name for c in settings.channels if c.enabled}
    for w in settings.watches:
        targets = ", ".join(ch if ch in active else f"{ch} (off)" for ch in w.notify)
        out.print(f"  {w.name} -> {targets}: {w.query}", markup=False)
        if not active.intersection(w.notify):
            out.print(
                "    warning: every channel of this watch is off; matches are kept, not sent",
                markup=False,
            )
    unfiltered = build_matcher(settings).unfiltered
    if unfiltered:
        out.print(
            "watches checked against every article (no term to prefilter on: only NOT or only "
            f"regular expressions): {', '.join(unfiltered)}",
            markup=False,
        )
    if examples.total:
        out.print(f"examples: all {examples.total} hold", markup=False)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@contextmanager
def _existing_store(settings: Settings) -> Iterator[Store | None]:
    """The store, or None when the SQLite file does not exist yet (listing creates nothing)."""
    from monitor.store.database import sqlite_path
    from monitor.store.repository import Store

    path = sqlite_path(settings.database)
    if path is not None and not path.exists():
        yield None
        return
    try:
        store = Store.open(settings.database)
    except MonitorError as exc:
        raise _fail(exc) from None
    try:
        yield store
    finally:
        store.close()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _jsonable(row: Any) -> dict[str, Any]:
    flat = asdict(row)
    # An alert record nests what the alert says; users script against one flat object.
    flat.update(flat.pop("alert", {}))
    if isinstance(row, SourceStatus):
        flat["url"] = mask(row.url, ())  # a feed URL may carry basic-auth credentials
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in flat.items()}


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show each source's polling state: last success, last error, next poll."""
    settings = _load()
    with _existing_store(settings) as store:
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


@app.command()
def alerts(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 50,
) -> None:
    """Show the newest alerts and their delivery state per channel."""
    settings = _load()
    with _existing_store(settings) as store:
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
        status = r.status if r.status != "pending" or not r.attempts else f"retry ({r.attempts})"
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


@app.command("test-rule")
def test_rule(
    query: Annotated[str | None, typer.Argument(help="The query to try.")] = None,
    watch: Annotated[
        str | None, typer.Option("--watch", help="Try this watch's query instead.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Try it on this text.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A text file, or JSONL documents (one per line); - for stdin."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON for --text or a text file too (JSONL always is).")
    ] = False,
) -> None:
    """Say whether a query (or a watch's) matches some text, and why; exit 0 either way."""
    from monitor.core.errors import QuerySyntaxError
    from monitor.core.query import Matcher, compile_query
    from monitor.core.query.tryout import DocumentError, json_document, lines, result, text_document

    settings = _load()
    if (query is None) == (watch is None):
        raise typer.BadParameter("give a QUERY or --watch NAME, not both")
    if (text is None) == (file is None):
        raise typer.BadParameter("give --text or --file")
    if watch is not None:
        query = next((w.query for w in settings.watches if w.name == watch), None)
        if query is None:
            names = ", ".join(w.name for w in settings.watches) or "none"
            raise typer.BadParameter(f"no watch {watch!r} (watches: {names})", param_hint="--watch")
    assert query is not None  # one of the two is set, checked above
    try:
        compiled = compile_query(query, settings.terms)
    except QuerySyntaxError as exc:
        err.print(f"error: column {exc.column}: {exc.message}\n{exc.caret()}", markup=False)
        raise typer.Exit(2) from None
    tags = {s.name: s.tags for s in settings.sources}
    matcher = Matcher([(watch or "query", compiled)], tags=tags)
    docs: list[tuple[Any, Article, tuple[str, ...] | None]] = []
    bad = 0
    jsonl = False
    if file is None:
        docs.append(("text", text_document(text or ""), None))
    else:
        raw = sys.stdin.read() if str(file) == "-" else _read_text(file)
        jsonl = file.suffix == ".jsonl" or raw.lstrip().startswith("{")
        if not jsonl:
            docs.append(("text", text_document(raw), None))
        for number, line in enumerate(raw.splitlines() if jsonl else [], 1):
            if not line.strip():
                continue
            try:
                docs.append(json_document(line, number))
            except DocumentError as exc:
                err.print(f"{file}:{number}: {exc}", markup=False)
                bad += 1
    for doc_id, article, doc_tags in docs:
        outcome = result(doc_id, matcher.match(article, doc_tags))
        # Documents in, JSON out, one line each: the results line up with the input lines.
        if as_json or jsonl:
            out.print(json.dumps(outcome, ensure_ascii=False), markup=False)
        else:
            for line in lines(outcome):
                out.print(line, markup=False)
    if bad:
        raise typer.Exit(2)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"error: {path}: {exc}", markup=False)
        raise typer.Exit(2) from None


@app.command()
def demo(
    duration: Annotated[
        float,
        typer.Option("--duration", help="Stop after this many seconds (0: run until Ctrl-C)."),
    ] = 0,
) -> None:
    """Serve bundled sample feeds on 127.0.0.1 and run the daemon on them, alerts to the console."""
    from monitor.app.demo import run_demo

    settings = _load()
    try:
        asyncio.run(run_demo(settings, duration=duration))
    except MonitorError as exc:
        raise _fail(exc) from None


@app.command("notify-test")
def notify_test(
    channel: Annotated[str, typer.Argument(help="The name of a channel in the config.")],
) -> None:
    """Send a test message through one channel; exit 1 with the reason if it fails."""
    settings = _load()
    found = {c.name: c for c in settings.channels}
    target = found.get(channel)
    if target is None:
        err.print(f"error: no channel {channel!r} (defined: {', '.join(found) or 'none'})")
        raise typer.Exit(2)
    shown = masked_url(target.url)
    if not (target.enabled and target.url):
        err.print(f"error: channel {channel} is off", markup=False)
        raise typer.Exit(2)
    timeout = settings.delivery.timeout.total_seconds()
    outcome = asyncio.run(send_test_message(target, send_timeout=timeout))
    if outcome.ok:
        out.print(f"sent a test message to {channel} ({shown})", markup=False)
        return
    verdict = "will not work until fixed" if outcome.verdict == "dead" else "may be temporary"
    err.print(f"failed to send to {channel} ({shown}): {outcome.error} ({verdict})", markup=False)
    raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the newsmonitor version."""
    out.print(__version__, markup=False)


def main() -> None:
    """Console-script entry point."""
    app()


# Registers the history commands on `app`; imported last, as they use the helpers above.
from monitor.cli import history as cli_history  # noqa: E402, F401
