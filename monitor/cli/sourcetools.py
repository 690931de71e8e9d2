"""`newsmonitor sources discover|import|export`: finding a site's feeds, and OPML in and out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path

import typer

from monitor.cli.common import err, fail, load, out, state
from monitor.core.errors import MonitorError
from monitor.core.model import FetchSettings
from monitor.sources.discovery import Fetching, Found, discover
from monitor.sources.feeds import ParsedFeed
from monitor.sources.http import make_client
from monitor.sources.opml import read_opml, source_name, sources_yaml, write_opml
from monitor.sources.parsing import ParserPool

_SEARCH_KINDS = ("google_news", "bing_news")


def _fetch_settings() -> tuple[FetchSettings, set[str]]:
    """The config's fetch settings and source names, or the defaults when there is no config."""
    if not Path(state.config).exists():
        return FetchSettings(), set()
    settings = load()
    return settings.fetch, {s.name for s in settings.sources}


def discover_command(url: str, as_json: bool) -> None:
    """List the feeds `url` advertises, each with a ready YAML line."""
    fetch_settings, taken = _fetch_settings()
    try:
        found = asyncio.run(_discover(url, fetch_settings))
    except MonitorError as exc:
        raise fail(exc) from None
    if not found:
        err.print(f"{url} advertises no feed and none is at the common feed paths", markup=False)
        raise typer.Exit(1)
    for item in found:
        key = "sitemap" if item.kind == "sitemap" else "url"
        name = source_name(item.title, item.url, taken)
        line = f"- {{name: {name}, {key}: {json.dumps(item.url)}}}"
        if as_json:
            row = {"url": item.url, "kind": item.kind, "title": item.title, "found": item.how}
            out.print(json.dumps({**row, "yaml": line}, ensure_ascii=False), markup=False)
        else:
            title = f" {item.title!r}" if item.title else ""
            out.print(f"# {item.kind}{title} ({item.how})", markup=False)
            out.print(line, markup=False)


async def _discover(url: str, settings: FetchSettings) -> list[Found]:
    parser = ParserPool(
        workers=1,
        timeout=settings.parse_timeout.total_seconds(),
        max_entries=settings.max_entries,
    )
    client = make_client(settings)

    async def parse(body: bytes, where: str, headers: Mapping[str, str]) -> ParsedFeed:
        return await parser.parse(body, url=where, headers=headers)

    caps = Fetching(
        max_bytes=settings.max_bytes,
        timeout=settings.timeout.total_seconds(),
        max_redirects=settings.max_redirects,
    )
    try:
        return await discover(client, url, parse, caps, sitemaps=True)
    finally:
        await client.aclose()
        await parser.aclose()


def import_command(file: Path, tags: list[str], output: Path | None, force: bool) -> None:
    """Write the feeds of an OPML file as a sources file for `include:`."""
    try:
        feeds = read_opml(file.read_bytes())
    except OSError as exc:
        err.print(f"error: cannot read {file}: {exc.strerror}", markup=False)
        raise typer.Exit(1) from None
    except MonitorError as exc:
        err.print(f"error: {file}: {exc}", markup=False)
        raise typer.Exit(2) from None
    if not feeds:
        err.print(f"error: {file}: no feed (no outline with an http(s) xmlUrl)", markup=False)
        raise typer.Exit(2)
    _, taken = _fetch_settings()
    text = sources_yaml(feeds, tags=tags, taken=taken)
    if output is None:
        out.print(text, markup=False, end="")
        return
    if output.exists() and not force:
        err.print(f"error: {output} exists; --force overwrites it", markup=False)
        raise typer.Exit(1)
    output.write_text(text, encoding="utf-8")
    err.print(f"wrote {len(feeds)} source(s) to {output}", markup=False)


def export_command() -> None:
    """Print the configured feeds (search feeds included) as OPML 2.0."""
    settings = load()
    feeds = [
        (s.name, s.url, s.tags)
        for s in settings.sources
        if s.kind == "feed" or s.kind in _SEARCH_KINDS
    ]
    out.print(write_opml(feeds, title="newsmonitor sources"), markup=False, end="")
