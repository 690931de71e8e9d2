"""monitor.sources.http against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import httpcore
import httpx
import pytest

from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings
from monitor.sources.http import (
    FetchResult,
    HTTPStatusError,
    fetch,
    make_client,
    parse_retry_after,
)
from tests.support import loopback
from tests.support.feed_server import FeedServer, Handler, drip, redirect, rss

FEED = rss([{"guid": "1", "title": "One"}])
LOCAL = FetchSettings(user_agent="newsmonitor-test/1", allow_addresses=("127.0.0.1/32",))


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(LOCAL) as c:
        yield c


async def get(client: httpx.AsyncClient, url: str, **kwargs: object) -> FetchResult:
    options: dict[str, object] = {"max_bytes": 1_000_000, "timeout": 5.0, **kwargs}
    return await fetch(client, url, **options)  # type: ignore[arg-type]


async def fetch_error(client: httpx.AsyncClient, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await get(client, url, **kwargs)
    return caught.value


def raw_handler(status: int, headers: dict[str, str], body: bytes = b"") -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    return handle


async def test_ok_returns_body_headers_and_validators(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A 200 returns the body, lower-case headers, the ETag and Last-Modified, and no redirects."""
    server.set("/feed.xml", FEED, headers={"Content-Type": "application/rss+xml", "X-Thing": "a"})
    result = await get(client, server.url("/feed.xml"))
    assert result.status == 200
    assert result.body == FEED
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.headers["x-thing"] == "a"
    assert result.etag and result.etag == result.headers["etag"]
    assert result.last_modified == result.headers["last-modified"]
    assert result.url == server.url("/feed.xml")
    assert result.redirects == ()


async def test_client_sends_user_agent_and_feed_accept(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """The client identifies itself with the configured User-Agent and asks for feed types."""
    server.set("/feed.xml", FEED)
    await get(client, server.url("/feed.xml"))
    headers = server.requests[0].headers
    assert headers["user-agent"] == "newsmonitor-test/1"
    assert "application/rss+xml" in headers["accept"]
    assert "application/atom+xml" in headers["accept"]


async def test_conditional_get_gets_304(server: FeedServer, client: httpx.AsyncClient) -> None:
    """A second fetch with the first one's validators sends them and gets a bodiless 304."""
    server.set("/feed.xml", FEED)
    first = await get(client, server.url("/feed.xml"))
    second = await get(
        client, server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.status == 304
    assert second.body == b""
    assert second.etag == first.etag
    sent = server.requests[1].headers
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified
    assert "if-none-match" not in server.requests[0].headers


async def test_unchanged_feeds_reuse_the_kept_alive_connection() -> None:
    """304s leave their connection in the pool: polling unchanged feeds opens no connection."""
    with FeedServer(protocol="HTTP/1.1") as server:
        server.set("/feed.xml", FEED)
        async with make_client(LOCAL) as client:
            first = await get(client, server.url("/feed.xml"))
            loopback.connections.clear()
            for _ in range(3):
                again = await get(client, server.url("/feed.xml"), etag=first.etag)
                assert again.status == 304
            await get(client, server.url("/feed.xml"))
    assert not loopback.connections


async def test_a_kept_alive_connection_the_server_closed_is_not_reused() -> None:
    """A server that hangs up an idle connection (without saying so) costs a new connection,
    not a failed fetch."""

    def answer_and_hang_up(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(len(FEED)))
        request.end_headers()
        request.wfile.write(FEED)
        request.close_connection = True

    with FeedServer(protocol="HTTP/1.1") as server:
        server.set_handler("/feed.xml", answer_and_hang_up)
        async with make_client(LOCAL) as client:
            for _ in range(3):
                assert (await get(client, server.url("/feed.xml"))).body == FEED
                await asyncio.sleep(0.1)


async def test_an_idle_connection_is_promised_to_one_request_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests arriving together each get a connection of their own, none turned away."""
    turned_away = 0
    send = httpcore.AsyncHTTPConnection.handle_async_request

    async def counted(self: httpcore.AsyncHTTPConnection, request: httpcore.Request) -> object:
        nonlocal turned_away
        try:
            return await send(self, request)
        except httpcore.ConnectionNotAvailable:
            turned_away += 1
            raise

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "handle_async_request", counted)
    with FeedServer(protocol="HTTP/1.1") as server:
        server.set("/feed.xml", FEED)
        url = server.url("/feed.xml")
        async with make_client(LOCAL) as client:
            results = await asyncio.gather(*(get(client, url) for _ in range(64)))
    assert [r.status for r in results] == [200] * 64
    assert turned_away == 0


async def test_304_without_validators_carries_given_ones_forward(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A 304 that omits ETag and Last-Modified keeps the ones the caller sent."""
    server.set_handler("/feed.xml", raw_handler(304, {}))
    result = await get(
        client, server.url("/feed.xml"), etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT"
    )
    assert (result.status, result.etag, result.last_modified) == (
        304,
        '"v1"',
        "Mon, 01 Jan 2024 00:00:00 GMT",
    )


async def test_cookies_a_feed_sets_are_not_sent_back(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A feed fetcher keeps no cookies: a Set-Cookie never comes back in a later request."""
    server.set("/a.xml", FEED, headers={"Set-Cookie": "session=abc; Path=/"})
    server.set("/b.xml", FEED)
    await get(client, server.url("/a.xml"))
    await get(client, server.url("/b.xml"))
    await get(client, server.url("/a.xml"))
    assert [r.headers.get("cookie") for r in server.requests] == [None, None, None]


async def test_redirect_chain_is_followed_and_recorded(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """Redirects are followed (relative Location resolved) and each redirecting hop is listed."""
    server.set_handler("/old", redirect("/moved", status=301))
    server.set_handler("/moved", redirect(server.url("/feed.xml"), status=307))
    server.set("/feed.xml", FEED)
    result = await get(client, server.url("/old"))
    assert result.status == 200
    assert result.body == FEED
    assert result.url == server.url("/feed.xml")
    assert result.redirects == (server.url("/old"), server.url("/moved"))


async def test_redirect_loop_is_refused(server: FeedServer, client: httpx.AsyncClient) -> None:
    """A redirect loop fails with kind "redirects" before max_redirects is used up."""
    server.set_handler("/a", redirect("/b"))
    server.set_handler("/b", redirect("/a"))
    error = await fetch_error(client, server.url("/a"), max_redirects=10)
    assert error.kind == "redirects"
    assert "loop" in error.message
    assert server.hits("/a") == 1


async def test_too_many_redirects(server: FeedServer, client: httpx.AsyncClient) -> None:
    """More hops than max_redirects fail with kind "redirects"."""
    for i in range(4):
        server.set_handler(f"/r{i}", redirect(f"/r{i + 1}"))
    server.set("/r4", FEED)
    error = await fetch_error(client, server.url("/r0"), max_redirects=3)
    assert error.kind == "redirects"
    assert server.hits("/r4") == 0
    assert (await get(client, server.url("/r0"), max_redirects=4)).body == FEED


async def test_redirect_to_file_scheme_is_refused(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A redirect to file:///etc/passwd fails with kind "scheme", naming the redirecting hop."""
    server.set_handler("/feed.xml", redirect("file:///etc/passwd"))
    error = await fetch_error(client, server.url("/feed.xml"))
    assert error.kind == "scheme"
    assert "/feed.xml" in error.message
    assert "passwd" not in error.message


async def test_non_http_url_is_refused(client: httpx.AsyncClient) -> None:
    """Only http and https URLs are fetched at all."""
    for url in ("ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "/etc/passwd"):
        assert (await fetch_error(client, url)).kind == "scheme"


async def test_https_to_http_downgrade_is_refused() -> None:
    """A redirect from https to http fails with kind "scheme"."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://feeds.example.test/rss"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as mock:
        error = await fetch_error(mock, "https://feeds.example.test/rss")
    assert error.kind == "scheme"
    assert "downgrade" in error.message


async def test_declared_length_over_cap_is_refused_up_front(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A Content-Length above max_bytes fails with kind "too_large"."""
    server.set("/big", b"x" * 5000)
    error = await fetch_error(client, server.url("/big"), max_bytes=4096)
    assert error.kind == "too_large"
    assert (await get(client, server.url("/big"), max_bytes=5000)).body == b"x" * 5000


async def test_undeclared_length_over_cap_is_cut(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A body with no Content-Length is cut off once it passes max_bytes."""
    server.set_handler("/big", raw_handler(200, {"Content-Type": "text/xml"}, b"x" * 200_000))
    error = await fetch_error(client, server.url("/big"), max_bytes=50_000)
    assert error.kind == "too_large"


async def test_gzip_bomb_is_measured_decoded(server: FeedServer, client: httpx.AsyncClient) -> None:
    """A small gzip body that inflates past max_bytes fails with kind "too_large"."""
    packed = gzip.compress(b"\0" * 2_000_000)
    assert len(packed) < 10_000
    server.set("/bomb", packed, headers={"Content-Encoding": "gzip"})
    error = await fetch_error(client, server.url("/bomb"), max_bytes=100_000)
    assert error.kind == "too_large"


async def test_gzip_body_is_returned_decoded(server: FeedServer, client: httpx.AsyncClient) -> None:
    """A gzip body within the cap comes back decompressed."""
    server.set("/feed.xml", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert (await get(client, server.url("/feed.xml"))).body == FEED


async def test_dripping_server_hits_total_deadline(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A server sending a byte every 0.2 s is cut at the 1 s total deadline."""
    server.set_handler("/slow", drip(b"x" * 100, interval=0.2))
    started = time.monotonic()
    error = await fetch_error(client, server.url("/slow"), timeout=1.0)
    elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    assert 0.9 <= elapsed < 2.0


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    """A closed port fails with kind "connect"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = await fetch_error(client, f"http://127.0.0.1:{port}/feed.xml")
    assert error.kind == "connect"


@pytest.mark.parametrize("status", [404, 500])
async def test_error_status_is_http_error(
    server: FeedServer, client: httpx.AsyncClient, status: int
) -> None:
    """A 404 or 500 fails with kind "http", the status on the error and in the message."""
    server.set("/feed.xml", "nope", status=status)
    error = await fetch_error(client, server.url("/feed.xml"))
    assert isinstance(error, HTTPStatusError)
    assert error.kind == "http"
    assert error.status == status
    assert str(status) in error.message
    assert error.retry_after is None


async def test_retry_after_seconds_is_exposed(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A 503 with Retry-After: 120 exposes retry_after == 120."""
    server.set("/feed.xml", "busy", status=503, headers={"Retry-After": "120"})
    error = await fetch_error(client, server.url("/feed.xml"))
    assert isinstance(error, HTTPStatusError)
    assert (error.status, error.retry_after) == (503, 120)


def test_retry_after_http_date_is_seconds_from_now() -> None:
    """Retry-After as an HTTP date becomes the seconds until then; junk becomes None."""
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    later = "Mon, 01 Jan 2024 12:02:00 GMT"
    assert parse_retry_after(later, now=now) == 120
    assert parse_retry_after(later, now=now + timedelta(hours=1)) == 0
    assert parse_retry_after("soon", now=now) is None


async def test_messages_hide_userinfo_and_query(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    """Error messages name host and path but never credentials or the query string."""
    secret_url = server.url("/feed.xml").replace("http://", "http://bob:hunter2@")
    error = await fetch_error(client, secret_url + "?token=s3cr3t")
    assert "/feed.xml" in error.message
    assert "hunter2" not in str(error)
    assert "s3cr3t" not in str(error)


async def test_unknown_path_is_404(server: FeedServer, client: httpx.AsyncClient) -> None:
    """The feed server answers 404 for a path nobody set, and records the request."""
    error = await fetch_error(client, server.url("/nothing?x=1"))
    assert isinstance(error, HTTPStatusError) and error.status == 404
    assert server.hits("/nothing") == 1
    assert server.requests[0].path == "/nothing?x=1"


async def test_feed_server_stops_cleanly_mid_response(client: httpx.AsyncClient) -> None:
    """Closing the feed server during a slow response is quick and leaves no thread behind."""
    before = set(threading.enumerate())
    with FeedServer(protocol="HTTP/1.1") as srv:
        srv.set_handler("/slow", drip(b"x" * 100, interval=5.0))
        pending = asyncio.ensure_future(get(client, srv.url("/slow"), timeout=30.0))
        for _ in range(200):
            if srv.hits("/slow"):
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await asyncio.to_thread(srv.close)
        assert time.monotonic() - started < 1.0
    with pytest.raises(FetchError):
        await pending
    leftover = [t for t in set(threading.enumerate()) - before if t.name.startswith("FeedServer")]
    assert leftover == []
    assert not any(t.name.startswith("Thread-") for t in set(threading.enumerate()) - before)
