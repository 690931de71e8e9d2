"""The commands that run or check the daemon: run, serve, check, demo and version."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor import __version__
from monitor.cli.common import err, fail, load, out
from monitor.core.errors import MonitorError


def run(
    once: Annotated[
        bool, typer.Option("--once", help="Poll every source once, deliver what is due, exit.")
    ] = False,
) -> None:
    """Run the daemon in the foreground (SIGTERM or Ctrl-C stops it cleanly)."""
    import asyncio

    from monitor.app.daemon import serve
    from monitor.web.server import beside

    settings = load()
    try:
        result = asyncio.run(serve(settings, once=once, beside=beside))
    except MonitorError as exc:  # the store unreachable, locked by another daemon, ...
        raise fail(exc) from None
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


def serve() -> None:
    """Serve the web console on the database, without polling or sending (web.listen)."""
    from monitor.web.server import serve_alone

    settings = load()
    try:
        serve_alone(settings)
    except MonitorError as exc:  # the port taken, the store unreachable, web.listen off
        raise fail(exc) from None


def check() -> None:
    """Validate the config, run the watches' examples and print a summary; writes nothing."""
    from monitor.app.watches import build_matcher
    from monitor.cli.common import channel_warning
    from monitor.core.rulecheck import check_examples
    from monitor.core.secrets import mask

    settings = load()
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


def _redacted(url: str) -> str:
    from monitor.core.secrets import mask

    return mask(url, ())


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def demo(
    duration: Annotated[
        float,
        typer.Option("--duration", help="Stop after this many seconds (0: run until Ctrl-C)."),
    ] = 0,
) -> None:
    """Serve bundled sample feeds on 127.0.0.1 and run the daemon on them, alerts to the console."""
    import asyncio

    from monitor.app.demo import run_demo

    settings = load()
    try:
        asyncio.run(run_demo(settings, duration=duration))
    except MonitorError as exc:
        raise fail(exc) from None


def version() -> None:
    """Print the newsmonitor version."""
    out.print(__version__, markup=False)
