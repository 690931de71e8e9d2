"""The console as one ASGI application: routes, the guard, errors as JSON or pages."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.web import api, health, pages, playground
from monitor.web.auth import Guard
from monitor.web.context import Context


def _bad_request(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, status_code=400)
    return pages.render(request, "error.html", 400, message=str(exc))


def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, status_code=404)
    return pages.render(request, "error.html", 404, message=str(exc))


def _busy(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "2"})
    return pages.render(request, "error.html", 503, message=str(exc))


def build_app(ctx: Context) -> Starlette:
    """The console over `ctx`; its gauges read the database at each scrape."""
    ctx.metrics.registry.register(health.StoreGauges(ctx))
    routes = [
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/metrics", health.metrics),
        *api.ROUTES,
        *pages.ROUTES,
        Mount("/static", app=StaticFiles(directory=Path(__file__).parent / "static")),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard)],
        exception_handlers={
            api.BadRequest: _bad_request,
            LookupError: _not_found,
            playground.Busy: _busy,
        },
    )
    app.state.ctx = ctx
    return app
