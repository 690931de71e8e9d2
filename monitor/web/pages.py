"""The pages: overview, alerts, a story, sources, the rule playground, precision per watch.

Rendered on the server with Jinja2 (autoescaped), readable without JavaScript.
"""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor.core.records import AlertRecord
from monitor.core.snippets import snippets, to_html
from monitor.store.console import ChannelState
from monitor.web import api, playground
from monitor.web.auth import COOKIE, csrf_ok, csrf_value, session_value
from monitor.web.context import Context
from monitor.web.highlight import with_terms
from monitor.web.plot import stacked_bars

MAX_FORM = 4096
env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
env.filters["snippet_html"] = lambda snippet: Markup(to_html(snippet))
env.globals["snippets"] = snippets
env.globals["with_terms"] = with_terms


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page, with what every page shows (the CSRF value for its forms, the login state)."""
    ctx: Context = request.app.state.ctx
    html = env.get_template(name).render(
        csrf=csrf_value(ctx),
        token_set=bool(ctx.settings().web.token),
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _days(n: int, today: date) -> list[str]:
    return [(today - timedelta(days=n - 1 - i)).isoformat() for i in range(n)]


def overview(request: Request) -> HTMLResponse:
    ctx: Context = request.app.state.ctx
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    series: dict[str, dict[str, int]] = {}
    past = ctx.past_days.rows(ctx.store, today, 30)
    for watch, day, count in [*past, *ctx.store.alerts_per_day(today)]:
        series.setdefault(watch, {})[day] = count
    return render(
        request,
        "overview.html",
        plot=stacked_bars(_days(30, now.date()), series),
        total=sum(sum(s.values()) for s in series.values()),
        channels=_channels(ctx, now),
        now=now,
        troubled=ctx.store.troubled_sources(),
    )


def _channels(ctx: Context, now: datetime) -> list[ChannelState]:
    """The configured channels (quiet ones too) and any other the outbox still holds."""
    states = {c.channel: c for c in ctx.store.channel_states(now)}
    for channel in ctx.settings().channels:
        states.setdefault(
            channel.name,
            ChannelState(
                channel=channel.name,
                pending=0,
                oldest_due=None,
                dead=0,
                consecutive_failures=0,
                failing=False,
            ),
        )
    return sorted(states.values(), key=lambda c: c.channel)


def alerts(request: Request) -> HTMLResponse:
    ctx: Context = request.app.state.ctx
    try:
        query = api.alerts_query(request)
    except api.BadRequest as exc:
        return render(request, "error.html", 400, message=str(exc))
    page = ctx.store.alerts_page(**query)
    matches = ctx.store.match_ids([r.id for r in page])
    channels = ctx.store.alert_channels(list(set(matches.values())))
    # One entry per alert, whatever its channels: each shows its delivery state per channel.
    first: dict[int, AlertRecord] = {}
    for r in page:
        first.setdefault(matches[r.id], r)
    records = list(first.values())
    verdicts = ctx.store.verdicts([r.id for r in records])
    filters = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    more = len(page) == query["limit"]
    return render(
        request,
        "alerts.html",
        records=records,
        delivery={r.id: channels.get(matches.get(r.id, -1), []) for r in records},
        verdicts=verdicts,
        filters=filters,
        watches=[w.name for w in ctx.settings().watches],
        next_page=urlencode({**filters, "cursor": page[-1].id}) if more else None,
        this_page=request.url.path + ("?" + request.url.query if request.url.query else ""),
    )


async def mark(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    form = await _form(request)
    if not csrf_ok(request, ctx, form.get("csrf", "")):
        return render(request, "error.html", 403, message="The form expired; reload the page.")
    alert_id = int(request.path_params["alert_id"])
    relevant = form.get("relevant") == "yes"
    try:
        await run_in_threadpool(api.mark, ctx, alert_id, relevant)
    except LookupError as exc:
        return render(request, "error.html", 404, message=str(exc))
    back = form.get("next", "/alerts")
    if not back.startswith("/") or back.startswith("//"):
        back = "/alerts"
    return RedirectResponse(back, status_code=303)


def story(request: Request) -> HTMLResponse:
    ctx: Context = request.app.state.ctx
    articles = ctx.store.story(int(request.path_params["story_id"]))
    if not articles:
        return render(request, "error.html", 404, message="No such story.")
    times = [a.published or a.fetched_at for a in articles]
    first, last = min(times), max(times)
    span = (last - first).total_seconds() or 1.0
    placed = [
        (a, t, 40 + 640 * (t - first).total_seconds() / span)
        for a, t in zip(articles, times, strict=True)
    ]
    return render(
        request,
        "story.html",
        story_id=request.path_params["story_id"],
        placed=placed,
        outlets=sorted({a.source for a in articles}),
        first=first,
        last=last,
    )


def sources(request: Request) -> HTMLResponse:
    return render(request, "sources.html", sources=api.source_rows(request.app.state.ctx))


def tryout(request: Request) -> HTMLResponse:
    ctx: Context = request.app.state.ctx
    query = request.query_params.get("q", "")[: playground.MAX_QUERY + 1]
    values: dict[str, Any] = {"query": query, "found": None, "error": None}
    if query:
        checked = playground.syntax(query, ctx.settings())
        if checked["ok"]:
            found = playground.run(ctx.store, ctx.settings(), query)
            today = datetime.now(UTC).date()
            values.update(
                found=found,
                plot=stacked_bars(_days(found.days, today), {"matches": dict(found.by_day)}),
                yaml=playground.watch_yaml(query),
            )
        else:
            values["error"] = checked
    return render(request, "playground.html", max_query=playground.MAX_QUERY, **values)


def watches(request: Request) -> HTMLResponse:
    return render(request, "watches.html", watches=api.watch_rows(request.app.state.ctx))


def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", next=request.query_params.get("next", "/"), failed=False)


async def login(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    form = await _form(request)
    token = ctx.settings().web.token
    back = form.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    if not token or not hmac.compare_digest(form.get("token", ""), token):
        return render(request, "login.html", 401, next=back, failed=True)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def _form(request: Request) -> dict[str, str]:
    # URL-encoded forms only, read by hand: no multipart parser needed, and bounded.
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    return {k: v[0] for k, v in parsed.items()}


ROUTES = [
    Route("/", overview),
    Route("/alerts", alerts),
    Route("/alerts/{alert_id:int}/feedback", mark, methods=["POST"]),
    Route("/stories/{story_id:int}", story),
    Route("/sources", sources),
    Route("/playground", tryout),
    Route("/watches", watches),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
