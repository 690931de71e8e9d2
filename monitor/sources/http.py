"""Fetching a feed over HTTP: one pooled client, conditional GET, redirects by hand, hard caps."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from monitor.core.egress import EgressPolicy
from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings, Source
from monitor.sources.decode import ACCEPT_ENCODING, BoundedDecoder
from monitor.sources.guard import (
    Resolver,
    check_scheme,
    display_url,
    system_resolve,
)
from monitor.sources.proxy import guarded_transport

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """What one fetch returned: a 2xx with its decoded body, or a 304 with an empty body."""

    status: int
    body: bytes
    headers: dict[str, str]
    url: str
    etag: str | None
    last_modified: str | None
    redirects: tuple[str, ...]


class HTTPStatusError(FetchError):
    """The server answered with a status other than 2xx or 304 (kind "http")."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__("http", message)
        self.status = status
        self.retry_after = retry_after


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing.

    Feeds are public documents: a cookie one feed sets has no business in the next request, and
    httpx would otherwise parse every response's headers for Set-Cookie through http.cookiejar.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep no cookie from `response`."""


class _FeedClient(httpx.AsyncClient):
    """httpx's client with no cookie store."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("a feed client keeps no cookies")


def egress_policy(settings: FetchSettings, *, allow_private: bool | None = None) -> EgressPolicy:
    """The egress policy of `settings`; `allow_private` is a source's own override."""
    private = settings.allow_private_networks if allow_private is None else allow_private
    return EgressPolicy.build(allow_private=private, allow=settings.allow_addresses)


def make_client(
    settings: FetchSettings,
    *,
    allow_private: bool | None = None,
    resolver: Resolver = system_resolve,
) -> httpx.AsyncClient:
    """One pooled client under one egress policy; redirects are left to `fetch`.

    Every connection the client opens is checked by the egress guard (monitor.sources.guard);
    through a proxy, the proxy is a trusted hop and each target is checked before it is sent.
    """
    seconds = settings.timeout.total_seconds()
    size = max(1, settings.concurrency)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    policy = egress_policy(settings, allow_private=allow_private)
    return _FeedClient(
        # httpx's own reading of proxy variables would route around the guard; the transport
        # reads them itself when `fetch.trust_env` asks for it (monitor.sources.proxy).
        trust_env=False,
        follow_redirects=False,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        limits=limits,
        timeout=httpx.Timeout(seconds),
        transport=guarded_transport(
            policy, limits=limits, resolver=resolver, trust_env=settings.trust_env
        ),
    )


class Clients:
    """One pooled client per egress policy in use, and which source uses which.

    Separate pools mean a connection opened for a source allowed onto private networks is never
    reused for a source that is not.
    """

    def __init__(
        self,
        settings: FetchSettings,
        sources: Iterable[Source] = (),
        *,
        resolver: Resolver = system_resolve,
    ) -> None:
        self.default = make_client(settings, resolver=resolver)
        by_policy = {settings.allow_private_networks: self.default}
        self._by_source: dict[str, httpx.AsyncClient] = {}
        for source in sources:
            private = source.allow_private_networks
            if private is None:
                continue
            if private not in by_policy:
                by_policy[private] = make_client(settings, allow_private=private, resolver=resolver)
            self._by_source[source.name] = by_policy[private]
        self._all = tuple(by_policy.values())

    def for_source(self, name: str) -> httpx.AsyncClient:
        """The client that fetches the source called `name`."""
        return self._by_source.get(name, self.default)

    async def aclose(self) -> None:
        """Close every client and its connections."""
        for client in self._all:
            await client.aclose()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int,
    # The fetch wraps itself in asyncio.timeout; callers get a plain number in their contract.
    timeout: float,  # noqa: ASYNC109
    max_redirects: int = 5,
) -> FetchResult:
    """GET `url` within a total deadline of `timeout` seconds, following up to `max_redirects`."""
    current = _parse_url(url)
    check_scheme(current, None)
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # Per-operation limits catch a silent server early; the asyncio deadline below is what bounds
    # a server that trickles bytes just fast enough to reset them.
    op_timeout = httpx.Timeout(timeout)
    hops: list[str] = []
    seen = {str(current)}
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with _request(client, current, headers, op_timeout) as response:
                    if response.status_code not in _REDIRECT_CODES:
                        return await _result(
                            response, current, hops, etag, last_modified, max_bytes
                        )
                    target = _redirect_target(response, current, len(hops) + 1)
                hops.append(str(current))
                if len(hops) > max_redirects:
                    last = display_url(current)
                    raise FetchError(
                        "redirects", f"more than {max_redirects} redirects, the last from {last}"
                    )
                if str(target) in seen:
                    raise FetchError(
                        "redirects",
                        f"redirect loop: {display_url(current)} leads back to "
                        f"{display_url(target)}",
                    )
                seen.add(str(target))
                current = target
    except TimeoutError:
        raise FetchError(
            "timeout", f"{display_url(current)} did not complete within {timeout:g} s"
        ) from None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@asynccontextmanager
async def _request(
    client: httpx.AsyncClient, url: httpx.URL, headers: dict[str, str], limits: httpx.Timeout
) -> AsyncIterator[httpx.Response]:
    # The one place a hop goes on the wire; the client's GuardedTransport checks each connection.
    where = display_url(url)
    try:
        async with client.stream("GET", url, headers=headers, timeout=limits) as response:
            yield response
    except httpx.TimeoutException as exc:
        raise FetchError("timeout", f"{where}: {_describe(exc, 'timed out')}") from None
    except httpx.ConnectError as exc:
        raise FetchError("connect", f"{where}: {_describe(exc, 'connection failed')}") from None
    except httpx.RemoteProtocolError as exc:
        raise FetchError("http", f"{where}: {_describe(exc, 'protocol error')}") from None
    except httpx.DecodingError:
        raise FetchError("http", f"{where}: the body could not be decoded") from None
    except httpx.TransportError as exc:
        raise FetchError("connect", f"{where}: {_describe(exc, 'network error')}") from None


async def _result(
    response: httpx.Response,
    url: httpx.URL,
    hops: list[str],
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> FetchResult:
    headers = {key.lower(): value for key, value in response.headers.items()}
    status = response.status_code
    if status == 304:
        # A 304 has no body, but httpcore only returns a connection to the pool once the
        # response has been read to its end; closed unread, the connection is dropped and the
        # next fetch pays for a new one (guard check, connect, handshake).
        async for _ in response.aiter_raw():
            pass
        return FetchResult(
            status=304,
            body=b"",
            headers=headers,
            url=str(url),
            etag=headers.get("etag") or etag,
            last_modified=headers.get("last-modified") or last_modified,
            redirects=tuple(hops),
        )
    if not 200 <= status < 300:
        reason = response.reason_phrase or "error"
        raise HTTPStatusError(
            f"{display_url(url)} answered {status} {reason}",
            status=status,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    body = await _read_capped(response, url, max_bytes)
    return FetchResult(
        status=status,
        body=body,
        headers=headers,
        url=str(url),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        redirects=tuple(hops),
    )


async def _read_capped(response: httpx.Response, url: httpx.URL, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(url, max_bytes)
    decoder = BoundedDecoder(response.headers.get("content-encoding"))
    chunks: list[bytes] = []
    total = 0
    # Raw bytes, decoded here in bounded steps: a bomb is counted at its decoded size as it
    # inflates, never inflated whole first.
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            total += len(piece)
            if total > max_bytes:
                raise _too_large(url, max_bytes)
            chunks.append(piece)
    return b"".join(chunks)


def _too_large(url: httpx.URL, max_bytes: int) -> FetchError:
    # Made where it is raised: an error held in a local of the frame it is raised from is a
    # reference cycle (error, traceback, frame), which kept the body read so far, up to
    # max_bytes, alive until the cyclic collector ran (or the next reload, had one frozen it).
    return FetchError("too_large", f"{display_url(url)}: body exceeds {max_bytes} bytes")


def _redirect_target(response: httpx.Response, current: httpx.URL, hop: int) -> httpx.URL:
    location = response.headers.get("location", "").strip()
    where = display_url(current)
    if not location:
        raise FetchError(
            "redirects", f"redirect {hop} from {where} ({response.status_code}) has no Location"
        )
    try:
        target = current.join(location)
    except httpx.InvalidURL:
        raise FetchError(
            "redirects", f"redirect {hop} from {where} has an invalid Location"
        ) from None
    check_scheme(target, current, hop=hop)
    return target


def _parse_url(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL:
        raise FetchError("scheme", "not a valid http(s) URL") from None


def _describe(exc: Exception, fallback: str) -> str:
    # httpx messages quote the request URL for some errors; keep only messages that do not.
    text = str(exc).strip()
    if not text or "://" in text or "?" in text:
        return fallback
    return text
