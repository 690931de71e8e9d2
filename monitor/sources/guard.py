"""The egress guard on the wire: resolve a host once, check every address, connect to that one.

Every TCP connection the fetch client opens goes through `GuardedBackend.connect_tcp`, so the
check covers every redirect hop and cannot be skipped by a caller. The address checked is the
address connected to: the name is resolved once, there, and the socket is opened to the resulting
IP (the Host header and TLS SNI still carry the name, as httpcore sets them from the URL), which
leaves no window for DNS rebinding (reliability.md T3). Links taken from feed content go through
`check_url`, with `CONTENT_POLICY` unless the caller has a reason for another.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from monitor.core.egress import EgressPolicy, IPAddress
from monitor.core.errors import FetchError
from monitor.sources.streams import AsyncioBackend

ALLOWED_SCHEMES = frozenset({"http", "https"})
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
# Article, image and enclosure URLs come from feed content, which anyone can write: they never get
# the private-network allowances an operator gives a feed (T2).
CONTENT_POLICY = EgressPolicy()


class EgressBlockedError(FetchError):
    """A URL, or an address its host resolves to, is not allowed by the egress policy."""

    def __init__(self, message: str) -> None:
        super().__init__("blocked", message)


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, through the system resolver, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def resolve_checked(
    host: str, port: int, policy: EgressPolicy, resolver: Resolver = system_resolve
) -> list[IPAddress]:
    """The addresses of `host`, all of them allowed by `policy`; raises if any one is not.

    One refused address refuses the host: a name that resolves to both a public and an internal
    address is a rebinding attempt or a misconfiguration, and either way not ours to reach.
    """
    try:
        addresses = list(await resolver(host, port))
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host} does not resolve ({type(exc).__name__})") from None
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            shown = reason if host == str(address) else f"{host}: {reason}"
            raise EgressBlockedError(shown)
    return addresses


class GuardedBackend(AsyncioBackend):
    """The asyncio backend, connecting only to addresses the policy allows."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver = system_resolve,
    ) -> None:
        self.policy = policy
        self.resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host` once, check every address, then connect to the checked addresses."""
        addresses = await resolve_checked(host, port, self.policy, self.resolver)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                stream = await super().connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
            else:
                return stream
        assert failure is not None  # resolve_checked returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: feeds are fetched over TCP only."""
        raise EgressBlockedError("unix sockets are not allowed")


class KeepAlivePool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, promising an idle connection to one waiting request only.

    httpcore offers the first idle connection to every request that arrives before the one it
    was promised to has started on it; all of those but one then fail with ConnectionNotAvailable
    and queue again, and each round checks every pooled connection. Under load that was several
    rounds a request.

    httpcore also asks every idle connection whether it has expired (its keep-alive ran out, or
    the server hung up: a poll of its socket) whenever a request is queued or a response closed.
    Here an idle connection is asked when it is about to be handed out, and all of them at most
    once a `SWEEP` seconds, which still closes the connections left over within a second or so.
    """

    SWEEP = 1.0
    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        # httpcore's own bookkeeping, as in AsyncConnectionPool (httpcore 1.0), but for the
        # promise and for when idle connections are checked.
        closing: list[httpcore.AsyncConnectionInterface] = []
        kept: list[httpcore.AsyncConnectionInterface] = []
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + self.SWEEP
        for connection in self._connections:
            if connection.is_closed():
                continue
            deferred = not sweep and connection.is_available() and connection.is_idle()
            (closing if not deferred and connection.has_expired() else kept).append(connection)
        surplus = len(kept) - self._max_keepalive_connections
        for connection in list(kept):
            if surplus <= 0:
                break
            if connection.is_idle():
                kept.remove(connection)
                closing.append(connection)
                surplus -= 1
        self._connections = kept
        promised = {id(r.connection) for r in self._requests if r.connection is not None}
        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            available = self._reusable(kept, closing, promised, origin)
            if available is None and len(kept) >= self._max_connections:
                idle = next((c for c in kept if id(c) not in promised and c.is_idle()), None)
                if idle is None:
                    continue
                kept.remove(idle)
                closing.append(idle)
            connection = available or self.create_connection(origin)
            if available is None:
                kept.append(connection)
            request.assign_to_connection(connection)
            promised.add(id(connection))
        return closing

    @staticmethod
    def _reusable(
        kept: list[httpcore.AsyncConnectionInterface],
        closing: list[httpcore.AsyncConnectionInterface],
        promised: set[int],
        origin: httpcore.Origin,
    ) -> httpcore.AsyncConnectionInterface | None:
        # The first free connection to `origin` that has not expired; expired ones met on the way
        # move from `kept` to `closing`.
        for connection in list(kept):
            if id(connection) in promised or not connection.can_handle_request(origin):
                continue
            if not connection.is_available():
                continue
            if not connection.has_expired():
                return connection
            kept.remove(connection)
            closing.append(connection)
        return None


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool built on a GuardedBackend."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        limits: httpx.Limits,
        resolver: Resolver = system_resolve,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # Made once for both pools: loading the CA bundle takes some 20 ms a time.
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, limits=limits, trust_env=False)
        # httpx offers no public way to hand its pool a network backend, so the pool it built
        # is replaced by the same pool on ours (tests/adapters/test_guard.py proves it is used).
        self._pool = KeepAlivePool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolver=resolver),
        )


def check_scheme(url: httpx.URL, previous: httpx.URL | None = None, *, hop: int = 0) -> None:
    """Raise FetchError "scheme" unless `url` is http(s) with a host and no https→http step."""
    origin = f"redirect {hop} from {display_url(previous)}" if previous is not None else "URL"
    if url.scheme not in ALLOWED_SCHEMES:
        raise FetchError(
            "scheme", f"{origin} points to {display_url(url)}; only http and https are allowed"
        )
    if not url.host:
        raise FetchError("scheme", f"{origin} has no host")
    if previous is not None and previous.scheme == "https" and url.scheme == "http":
        # A downgrade would let anyone on the path rewrite the feed (reliability.md T4).
        raise FetchError("scheme", f"{origin} downgrades https to http")


async def check_url(
    url: str, policy: EgressPolicy = CONTENT_POLICY, *, resolver: Resolver = system_resolve
) -> list[IPAddress]:
    """The addresses `url` may be fetched from; raises FetchError ("scheme", "blocked",
    "connect") when it must not be fetched at all.

    For URLs found in feed content (article links, enclosures) before anything fetches them.
    A caller that connects later should connect through a GuardedTransport all the same, since
    the name may resolve differently by then.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise FetchError("scheme", "not a valid http(s) URL") from None
    check_scheme(parsed)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        return await resolve_checked(parsed.host, port, policy, resolver)
    except httpcore.ConnectError as exc:
        raise FetchError("connect", str(exc)) from None


def display_url(url: httpx.URL | str) -> str:
    """Host, port and path of a URL, without userinfo or query, safe for logs and messages."""
    if isinstance(url, str):
        try:
            url = httpx.URL(url)
        except httpx.InvalidURL:
            return "an invalid URL"
    if url.scheme not in ALLOWED_SCHEMES:
        return f"a {url.scheme or 'relative'}: URL"
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{host}{port}{url.path}"
