"""Trying a query on stored history, bounded in input length and in time, so a request can
never wedge the process: the first matches newest first and the volume per day."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.app.replay import Result, query_condition
from monitor.app.wiring import build_matcher
from monitor.core.errors import QuerySyntaxError
from monitor.core.model import Settings, Watch
from monitor.core.query import Matcher, compile_query
from monitor.core.query.index import explain
from monitor.store.repository import Store
from monitor.store.search import catch_up, newest_first

MAX_QUERY = 500  # characters; a watch query longer than this is not a draft any more
BUDGET = 1.0  # seconds of matching per request; past it the answer says it is partial
MAX_DAYS = 30
SHARE = 0.6  # of the budget spent matching when the index can count the rest
CATCH_UP = 2000  # articles indexed at most before a query runs
# Tryouts at once: each may take its whole budget of CPU, which the daemon shares.
_running = threading.BoundedSemaphore(2)


class Busy(Exception):
    """Too many tryouts at once; answered with 503."""


@dataclass(slots=True, kw_only=True)
class Tryout:
    """What a query found: the first hits, counts per day, stories, and whether it ran out."""

    query: str
    days: int
    hits: list[Result] = field(default_factory=list)
    by_day: Counter[str] = field(default_factory=Counter)
    matched: int = 0
    stories: int = 0
    scanned: int = 0
    partial: bool = False
    # Partial, but the index's counts scaled by the share of read candidates that matched.
    estimated: bool = False
    candidates: int | None = None
    seconds: float = 0.0


def syntax(query: str, settings: Settings) -> dict[str, Any]:
    """`{"ok": true}`, or the syntax error with its 1-based column."""
    if len(query) > MAX_QUERY:
        return {"ok": False, "message": f"longer than {MAX_QUERY} characters", "column": 1}
    if not query.strip():
        return {"ok": False, "message": "empty query", "column": 1}
    try:
        compile_query(query, settings.terms)
    except QuerySyntaxError as exc:
        return {"ok": False, "message": exc.message, "column": exc.column}
    return {"ok": True}


def run(
    store: Store,
    settings: Settings,
    query: str,
    *,
    days: int = MAX_DAYS,
    limit: int = 50,
    budget: float = BUDGET,
    now: datetime | None = None,
) -> Tryout:
    """Match `query` over the last `days` of articles, newest first, for at most `budget`
    seconds; the caller has checked its syntax."""
    started = time.monotonic()
    if not _running.acquire(timeout=budget):
        raise Busy("the playground is busy with other queries; try again in a moment")
    try:
        return _run(
            store, settings, query, days=days, limit=limit, budget=budget, now=now, started=started
        )
    finally:
        _running.release()


def _run(
    store: Store,
    settings: Settings,
    query: str,
    *,
    days: int,
    limit: int,
    budget: float,
    now: datetime | None,
    started: float,
) -> Tryout:
    days = max(1, min(days, MAX_DAYS))
    out = Tryout(query=query, days=days)
    watch = Watch(name="playground", query=query, notify=())
    matcher = build_matcher(dataclasses.replace(settings, watches=(watch,)))
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    # The daemon's index job keeps up every second; a bounded catch-up covers `serve` and a
    # fresh database without ever making a request wait for a whole backlog.
    catch_up(store.engine, at_most=CATCH_UP)
    condition = query_condition(query, settings)
    until = since + timedelta(days=days)
    # The index counts the candidates per day beside the matching (SQLite works outside the
    # interpreter's lock), in case the matching runs out of time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = None
        if condition is not None:
            counting = pool.submit(store.candidates_per_day, condition, since, until)
        matched_ids = _match(
            out,
            store,
            matcher,
            condition,
            since,
            limit,
            started + budget * (SHARE if counting is not None else 1.0),
        )
        out.stories = store.story_count(matched_ids)
        counted = counting.result() if counting is not None and out.partial else None
    if counted is not None and out.scanned:
        _estimate(out, counted)
    out.seconds = time.monotonic() - started
    return out


def _match(
    out: Tryout,
    store: Store,
    matcher: Matcher,
    condition: str | None,
    since: datetime,
    limit: int,
    deadline: float,
) -> list[int]:
    """Match the candidates newest first until `deadline`; the ids of those that matched."""
    candidates = newest_first(store.engine, condition=condition, since=since, source=None)
    matched_ids: list[int] = []
    for stored in candidates:
        if out.scanned and time.monotonic() > deadline:
            out.partial = True
            break
        out.scanned += 1
        lookup, found = matcher.matching(stored.article)
        if not found:
            continue
        out.matched += 1
        matched_ids.append(stored.id)
        when = stored.article.published or stored.fetched_at
        out.by_day[when.strftime("%Y-%m-%d")] += 1
        if len(out.hits) < limit:
            out.hits.append(Result(stored=stored, match=explain(matcher.watches[found[0]], lookup)))
    return matched_ids


def _estimate(out: Tryout, days: dict[str, int]) -> None:
    """Scale the index's candidates by the share of those read that matched, and the stories
    by the share of stories among the matches read."""
    share = out.matched / out.scanned
    per_story = out.stories / out.matched if out.matched else 1.0
    out.candidates = sum(days.values())
    out.by_day = Counter({day: round(n * share) for day, n in days.items() if n})
    out.matched = max(out.matched, round(out.candidates * share))
    out.stories = max(out.stories, round(out.matched * per_story))
    out.estimated = True


def watch_yaml(query: str) -> str:
    """The watch to paste into a config file (a JSON string is a valid YAML scalar)."""
    return f"watches:\n  - name: my-watch\n    query: {json.dumps(query, ensure_ascii=False)}\n"
