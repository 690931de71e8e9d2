"""Who may use the console, and the headers every answer carries.

Without `web.token` the console listens on loopback only (the config insists) and asks nobody
to log in, but still refuses another site's forms (CSRF) and other Host names (DNS rebinding).
With a token the API takes it as a bearer token and the pages a cookie set by the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from monitor.web.context import Context

COOKIE = "newsmonitor_session"
CSRF_HEADER = "x-csrf-token"
OPEN = ("/healthz", "/readyz", "/login", "/static/")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _sign(key: str, purpose: str) -> str:
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The cookie that proves the login form was given the token."""
    return _sign(token, "session")


def csrf_value(ctx: Context) -> str:
    """The value our forms and script send back with each POST."""
    return _sign(ctx.settings().web.token or ctx.key, "csrf")


def _bearer(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def _cookie(request: Request, token: str) -> bool:
    return hmac.compare_digest(request.cookies.get(COOKIE, ""), session_value(token))


def _loopback_host(request: Request) -> bool:
    host = (request.url.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def csrf_ok(request: Request, ctx: Context, form_value: str | None = None) -> bool:
    """Whether a POST made with the cookie (or with no login at all) came from our pages."""
    given = form_value if form_value is not None else request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(given, csrf_value(ctx))


class Guard(BaseHTTPMiddleware):
    """Authentication, CSRF for API POSTs and the security headers."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await self._check(request)
        if response is None:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    async def _check(self, request: Request) -> Response | None:
        ctx: Context = request.app.state.ctx
        token = ctx.settings().web.token
        path = request.url.path
        api = path.startswith("/api/") or path == "/metrics"
        if not token:
            if not _loopback_host(request):
                return JSONResponse({"error": "unknown host"}, status_code=400)
            bearer = False
        elif path.startswith(OPEN):
            return None
        else:
            bearer = _bearer(request, token)
            if not (bearer or _cookie(request, token)):
                if api:
                    return JSONResponse(
                        {"error": "a valid bearer token is required"},
                        status_code=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
        request.state.bearer = bearer
        if api and request.method == "POST" and not bearer and not csrf_ok(request, ctx):
            return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
        return None
