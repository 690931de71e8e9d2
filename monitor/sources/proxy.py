"""Fetching through the operator's forward proxy, when `fetch.trust_env` is on.

Through a proxy the daemon connects to the proxy, never to the feed's host, so the connect-time
check of monitor.sources.guard would only ever see the proxy (reliability.md T21). The rule here,
as in Miniflux:

- The proxy is a trusted hop. The operator named it (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY), so it
  may sit on loopback or a private network whatever the egress policy says; link-local and
  cloud metadata addresses stay closed to it, as to everything.
- The target of every request, each redirect hop included, is still checked before the request
  is sent: `fetch` checks its scheme, and here its host must resolve and every address must be
  allowed by the policy, exactly as for a direct connection. A name that does not resolve here is
  not fetched. The proxy resolves the name again itself, so this check cannot close the DNS
  rebinding window: a proxy that can reach internal hosts should refuse them too.
- Hosts in NO_PROXY are fetched directly, through the guard.
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.request
from collections.abc import Mapping

import httpcore
import httpx

from monitor.core.egress import EgressPolicy, IPAddress
from monitor.core.errors import FetchError
from monitor.sources.guard import (
    GuardedBackend,
    GuardedTransport,
    KeepAlivePool,
    Resolver,
    resolve_checked,
)

# Every address but those no configuration may open (monitor.core.egress.NEVER_ALLOWED).
TRUSTED_HOP = EgressPolicy(allow=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")))
_SCHEMES = ("http", "https")


class _ProxyPool(KeepAlivePool, httpcore.AsyncHTTPProxy):
    """httpcore's proxy pool, with the guard's promise of one idle connection per request."""


class ProxiedTransport(httpx.AsyncHTTPTransport):
    """Requests through one forward proxy, each target checked by `policy` before it is sent."""

    def __init__(
        self,
        proxy: httpx.Proxy,
        policy: EgressPolicy,
        *,
        limits: httpx.Limits,
        resolver: Resolver,
        ssl_context: ssl.SSLContext,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        self.policy = policy
        self.resolver = resolver
        # As in GuardedTransport: httpx's pool rebuilt on a guarded backend, here one that only
        # ever connects to the proxy.
        self._pool = _ProxyPool(
            proxy_url=httpcore.URL(
                scheme=proxy.url.raw_scheme,
                host=proxy.url.raw_host,
                port=proxy.url.port,
                target=proxy.url.raw_path,
            ),
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            proxy_ssl_context=proxy.ssl_context,
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(TRUSTED_HOP),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the target's host against the policy, then send the request to the proxy."""
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            await resolve_checked(url.host, port, self.policy, self.resolver)
        except httpcore.ConnectError as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        return await super().handle_async_request(request)


class ProxyRouter(httpx.AsyncBaseTransport):
    """Each request to the proxy for its scheme, or directly when NO_PROXY names its host.

    A route is a transport, or the reason the configured proxy cannot be used, which fails the
    fetch rather than quietly going around the proxy.
    """

    def __init__(
        self,
        direct: httpx.AsyncBaseTransport,
        routes: Mapping[str, httpx.AsyncBaseTransport | str],
        environment: Mapping[str, str],
    ) -> None:
        self._direct = direct
        self._routes = dict(routes)
        self._environment = dict(environment)

    def _bypassed(self, url: httpx.URL) -> bool:
        return no_proxy(url.host, self._environment.get("no", ""))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` by its route."""
        route = self._routes.get(request.url.scheme)
        if route is None or self._bypassed(request.url):
            return await self._direct.handle_async_request(request)
        if isinstance(route, str):
            raise FetchError("connect", route)
        return await route.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the direct transport and every proxied one."""
        await self._direct.aclose()
        for route in self._routes.values():
            if not isinstance(route, str):
                await route.aclose()


def no_proxy(host: str, entries: str) -> bool:
    """Whether NO_PROXY `entries` name `host`, as curl reads them: comma-separated names, each
    covering its subdomains (a leading dot changes nothing), IP addresses or networks, `*` for
    every host."""
    host = host.lower().rstrip(".")
    try:
        address: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in entries.lower().split(","):
        name = entry.strip().lstrip(".").rstrip(".")
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
        if address is not None and "/" in name:
            try:
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _proxy(value: str, variable: str) -> httpx.Proxy | str:
    # curl and httpx read "proxy.corp:3128" as an http:// proxy; so do we.
    text = value if "://" in value else f"http://{value}"
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return f"{variable} is not a valid proxy URL"
    if url.scheme not in _SCHEMES or not url.host:
        # Never quote the value: it may carry the proxy's password.
        return f"{variable} names a {url.scheme} proxy; only http and https proxies can be used"
    return httpx.Proxy(url)


def guarded_transport(
    policy: EgressPolicy,
    *,
    limits: httpx.Limits,
    resolver: Resolver,
    trust_env: bool,
) -> httpx.AsyncBaseTransport:
    """The transport of one client: direct through the guard, or with `trust_env` by the
    proxies the environment names (read once, here)."""
    ssl_context = httpx.create_ssl_context(trust_env=trust_env)
    direct = GuardedTransport(policy, limits=limits, resolver=resolver, ssl_context=ssl_context)
    if not trust_env:
        return direct
    environment = urllib.request.getproxies_environment()
    routes: dict[str, httpx.AsyncBaseTransport | str] = {}
    for scheme in _SCHEMES:
        variable = f"{scheme.upper()}_PROXY" if environment.get(scheme) else "ALL_PROXY"
        value = environment.get(scheme) or environment.get("all")
        if not value:
            continue
        proxy = _proxy(value, variable)
        routes[scheme] = (
            proxy
            if isinstance(proxy, str)
            else ProxiedTransport(
                proxy, policy, limits=limits, resolver=resolver, ssl_context=ssl_context
            )
        )
    return ProxyRouter(direct, routes, environment) if routes else direct
