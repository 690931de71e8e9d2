"""The test-rule command: try a query (or a watch's) on some text and say why it matches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli.common import err, load, out
from monitor.core.model import Article


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

    settings = load()
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
