"""The JSON API under /api/v1: alerts, stories, sources, watches, search, replay, feedback.

Handlers are plain functions: Starlette runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from monitor.core.records import DEAD, PENDING, SENT, AlertRecord
from monitor.core.snippets import as_json, snippets
from monitor.web import playground
from monitor.web.context import Context

MAX_LIMIT = 200
STATUSES = (PENDING, SENT, DEAD)
_SINCE = re.compile(r"(\d{1,5})([dhm])")


class BadRequest(ValueError):
    """A parameter that cannot be used; answered with 400 and the message."""


def since_param(value: str | None, now: datetime) -> datetime | None:
    """`7d`, `12h`, `30m` back from now, or an ISO 8601 time (UTC if it has no zone)."""
    if not value:
        return None
    found = _SINCE.fullmatch(value)
    if found:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[found.group(2)]
        return now - timedelta(**{unit: int(found.group(1))})
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest("since: use 7d, 12h, 30m or an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter, clamped to [low, high]."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise BadRequest(f"{name}: must be a whole number")
    return max(low, min(int(raw), high))


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def alert_json(ctx: Context, record: AlertRecord, verdict: bool | None = None) -> dict[str, Any]:
    """One alert x channel as the API shows it; no channel URL, errors masked."""
    alert = record.alert
    return {
        "id": record.id,
        "watch": alert.watch,
        "channel": record.channel,
        "status": record.status,
        "attempts": record.attempts,
        "created_at": _iso(record.created_at),
        "sent_at": _iso(record.sent_at),
        "last_error": ctx.secret_free(record.last_error),
        "story_id": record.story_id,
        "follow_up": alert.follow_up,
        "source": alert.source,
        "title": alert.title,
        "summary": alert.summary,
        "url": alert.url,
        "published": _iso(alert.published),
        "terms": list(alert.terms),
        "hits": [dataclasses.asdict(h) for h in alert.hits],
        "snippets": [as_json(snippet) for snippet in snippets(alert.hits)],
        "also_reported_by": list(alert.also_reported_by),
        "relevant": verdict,
    }


def alerts_query(request: Request) -> dict[str, Any]:
    """The filters of an alerts listing, checked."""
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status: use one of {', '.join(STATUSES)}")
    return {
        "watch": params.get("watch") or None,
        "channel": params.get("channel") or None,
        "status": status,
        "since": since_param(params.get("since"), datetime.now(UTC)),
        "before": int_param(request, "cursor", 0, low=0, high=2**62) or None,
        "limit": int_param(request, "limit", 50, low=1, high=MAX_LIMIT),
    }


def alerts(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    query = alerts_query(request)
    records = ctx.store.alerts_page(**query)
    verdicts = ctx.store.verdicts([r.id for r in records])
    more = len(records) == query["limit"]
    return JSONResponse(
        {
            "alerts": [alert_json(ctx, r, verdicts.get(r.id)) for r in records],
            "next_cursor": records[-1].id if records and more else None,
        }
    )


def story(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    found = ctx.store.story(int(request.path_params["story_id"]))
    if not found:
        return JSONResponse({"error": "no such story"}, status_code=404)
    return JSONResponse(
        {
            "id": request.path_params["story_id"],
            "outlets": sorted({a.source for a in found}),
            "articles": [
                {
                    "id": a.article_id,
                    "source": a.source,
                    "title": a.title,
                    "url": a.url,
                    "published": _iso(a.published),
                    "fetched_at": _iso(a.fetched_at),
                }
                for a in found
            ],
        }
    )


def sources(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    return JSONResponse({"sources": source_rows(ctx)})


def source_rows(ctx: Context) -> list[dict[str, Any]]:
    """Every source's polling state and health, with articles per day over a week."""
    now = datetime.now(UTC)
    week = ctx.store.articles_per_source(now - timedelta(days=7))
    troubled = {t["name"]: t for t in ctx.store.troubled_sources()}
    return [
        {
            "name": s.name,
            "active": s.active,
            "title": s.title,
            "failing": bool(troubled.get(s.name, {}).get("failing")),
            "silent": bool(troubled.get(s.name, {}).get("silent")),
            "articles": s.articles,
            "articles_per_day": round(week.get(s.name, 0) / 7, 1),
            "last_polled_at": _iso(s.last_polled_at),
            "last_success_at": _iso(s.last_success_at),
            "next_poll_at": _iso(s.next_poll_at),
            "consecutive_failures": s.consecutive_failures,
            "last_error_kind": s.last_error_kind,
            "last_error": ctx.secret_free(s.last_error),
        }
        for s in ctx.store.list_sources()
    ]


def watch_rows(ctx: Context) -> list[dict[str, Any]]:
    """Every configured watch with its volume and precision over 30 days."""
    since = datetime.now(UTC) - timedelta(days=30)
    volumes = ctx.store.watch_volumes(since)
    rows = []
    for w in ctx.settings().watches:
        matched, alerted = volumes.get(w.name, (0, 0))
        precision = ctx.store.precision(w.name, since)
        rows.append(
            {
                "name": w.name,
                "query": w.query,
                "channels": list(w.notify),
                "matches_30d": matched,
                "alerts_30d": alerted,
                "marked_30d": precision.marked,
                "relevant_30d": precision.relevant,
                "precision_30d": precision.precision,
                "noise_words": [list(p) for p in precision.noise_words],
            }
        )
    return rows


def watches(request: Request) -> JSONResponse:
    return JSONResponse({"watches": watch_rows(request.app.state.ctx)})


def _query(request: Request) -> tuple[Context, str]:
    ctx: Context = request.app.state.ctx
    query = request.query_params.get("q", "")
    checked = playground.syntax(query, ctx.settings())
    if not checked["ok"]:
        raise BadRequest(f"q: column {checked['column']}: {checked['message']}")
    return ctx, query


def check(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    return JSONResponse(playground.syntax(request.query_params.get("q", ""), ctx.settings()))


def search(request: Request) -> JSONResponse:
    ctx, query = _query(request)
    limit = int_param(request, "limit", 20, low=1, high=MAX_LIMIT)
    days = int_param(request, "days", 30, low=1, high=playground.MAX_DAYS)
    found = playground.run(ctx.store, ctx.settings(), query, days=days, limit=limit)
    return JSONResponse(tryout_json(found))


def replay(request: Request) -> JSONResponse:
    ctx, query = _query(request)
    days = int_param(request, "days", 30, low=1, high=playground.MAX_DAYS)
    return JSONResponse(tryout_json(playground.run(ctx.store, ctx.settings(), query, days=days)))


def tryout_json(found: playground.Tryout) -> dict[str, Any]:
    """A tryout as the search and replay answers give it."""
    return {
        "query": found.query,
        "days": found.days,
        "matches": found.matched,
        "stories": found.stories,
        "scanned": found.scanned,
        "partial": found.partial,
        "estimated": found.estimated,
        "candidates": found.candidates,
        "volume_by_day": dict(sorted(found.by_day.items())),
        "hits": [
            {
                "id": hit.stored.id,
                "source": hit.stored.article.source,
                "title": hit.stored.article.title,
                "url": hit.stored.article.url,
                "published": _iso(hit.stored.article.published),
                "fetched_at": _iso(hit.stored.fetched_at),
                "terms": list(hit.match.terms),
                "hits": [dataclasses.asdict(h) for h in hit.match.hits],
                "snippets": [as_json(snippet) for snippet in snippets(hit.match.hits)],
            }
            for hit in found.hits
        ],
    }


async def feedback(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("relevant"), bool):
        raise BadRequest('send {"relevant": true} or {"relevant": false}')
    alert_id = int(request.path_params["alert_id"])
    return JSONResponse(await run_in_threadpool(mark, ctx, alert_id, body["relevant"]))


def mark(ctx: Context, alert_id: int, relevant: bool) -> dict[str, Any]:
    """Record a verdict; raises LookupError when there is no such alert."""
    watch = ctx.store.mark(alert_id, relevant=relevant, now=datetime.now(UTC))
    if watch is None:
        raise LookupError(f"no alert {alert_id}")
    return {"id": alert_id, "watch": watch, "relevant": relevant}


ROUTES = [
    Route("/api/v1/alerts", alerts),
    Route("/api/v1/alerts/{alert_id:int}/feedback", feedback, methods=["POST"]),
    Route("/api/v1/stories/{story_id:int}", story),
    Route("/api/v1/sources", sources),
    Route("/api/v1/watches", watches),
    Route("/api/v1/search", search),
    Route("/api/v1/replay", replay),
    Route("/api/v1/check", check),
]
