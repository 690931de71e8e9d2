"""fetch.trust_env: feeds through the operator's forward proxy, a trusted hop, with every target
still checked by the egress policy before it is sent."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.core.egress import IPAddress
from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings
from monitor.sources.guard import Resolver, system_resolve
from monitor.sources.http import Clients, fetch, make_client
from monitor.sources.proxy import no_proxy
from tests.support.feed_server import FeedServer, redirect, rss
from tests.support.loopback import StubResolver
from tests.support.proxy import ForwardProxy

FEED = rss([{"guid": "1", "title": "One"}])
PUBLIC = StubResolver(["93.184.216.34"])  # what a public feed host resolves to
TRUSTING = FetchSettings(trust_env=True)
OPERATIONS = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
OPENSSL_SELF_SIGNED = [
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=feeds.example.com",
    "-addext",
    "subjectAltName=DNS:feeds.example.com",
]
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the proxy variables a test sets are seen."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy(feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    """A forward proxy on 127.0.0.1, named by HTTP_PROXY, that reaches feeds.example.com (the
    local feed server)."""
    feed_server.set("/feed.xml", FEED)
    with ForwardProxy(hosts={"feeds.example.com": feed_server.base_url}) as running:
        monkeypatch.setenv("HTTP_PROXY", running.url)
        yield running


async def get(settings: FetchSettings, url: str, resolver: Resolver = PUBLIC) -> int:
    async with make_client(settings, resolver=resolver) as client:
        result = await fetch(client, url, max_bytes=100_000, timeout=5.0)
    return result.status


async def refused(settings: FetchSettings, url: str, resolver: Resolver = PUBLIC) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await get(settings, url, resolver)
    return caught.value


async def test_a_feed_goes_through_the_proxy_on_loopback_as_a_trusted_hop(
    proxy: ForwardProxy, feed_server: FeedServer
) -> None:
    """With trust_env, a public feed is fetched through a proxy on 127.0.0.1, which the policy
    alone (no private networks) would refuse to connect to."""
    assert await get(TRUSTING, "http://feeds.example.com/feed.xml") == 200
    assert proxy.requests == [("GET", "http://feeds.example.com/feed.xml")]
    assert feed_server.requests[-1].headers["host"] == "feeds.example.com"


async def test_proxy_variables_are_ignored_without_trust_env(
    proxy: ForwardProxy, feed_server: FeedServer
) -> None:
    """By default HTTP_PROXY is ignored: the fetch connects directly, through the guard."""
    local = FetchSettings(allow_addresses=("127.0.0.1/32",))
    assert await get(local, feed_server.url("/feed.xml"), system_resolve) == 200
    assert proxy.requests == []
    error = await refused(FetchSettings(), "http://feeds.example.com/feed.xml")
    assert error.kind == "connect"  # 93.184.216.34 itself, refused by the loopback guard
    assert proxy.requests == []


@pytest.mark.parametrize(
    ("address", "allow_private"),
    [("127.0.0.2", False), ("10.1.2.3", False), ("169.254.169.254", True), ("fd00:ec2::254", True)],
)
async def test_an_internal_target_is_refused_before_the_proxy_is_asked(
    proxy: ForwardProxy, address: str, allow_private: bool
) -> None:
    """A feed host resolving to an internal address is blocked before the request; link-local
    and metadata addresses stay blocked even with allow_private_networks."""
    settings = FetchSettings(trust_env=True, allow_private_networks=allow_private)
    error = await refused(settings, "http://internal.example/secret", StubResolver([address]))
    assert error.kind == "blocked"
    assert proxy.requests == []


async def test_a_target_that_does_not_resolve_here_is_not_sent(proxy: ForwardProxy) -> None:
    """A name the daemon cannot resolve cannot be checked, so it is not handed to the proxy."""

    async def nowhere(host: str, port: int) -> list[IPAddress]:
        raise OSError("no such name")

    error = await refused(TRUSTING, "http://feeds.example.com/feed.xml", nowhere)
    assert error.kind == "connect"
    assert proxy.requests == []


async def test_a_redirect_to_an_internal_address_is_refused_through_the_proxy(
    proxy: ForwardProxy, feed_server: FeedServer
) -> None:
    """Each redirect hop is checked as the first was: a hop to a name resolving to 127.0.0.2
    never reaches the proxy."""
    feed_server.set_handler("/moved.xml", redirect("http://internal.example/secret"))
    resolver = StubResolver(["93.184.216.34"], ["127.0.0.2"])
    error = await refused(TRUSTING, "http://feeds.example.com/moved.xml", resolver)
    assert error.kind == "blocked"
    assert proxy.requests == [("GET", "http://feeds.example.com/moved.xml")]


async def test_no_proxy_hosts_are_fetched_directly_through_the_guard(
    proxy: ForwardProxy, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host in NO_PROXY skips the proxy, and its direct connection is checked by the guard."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8, .example.org")
    url = feed_server.url("/feed.xml")
    error = await refused(TRUSTING, url, system_resolve)
    assert error.kind == "blocked"
    local = FetchSettings(trust_env=True, allow_addresses=("127.0.0.1/32",))
    assert await get(local, url, system_resolve) == 200
    assert proxy.requests == []
    assert feed_server.hits("/feed.xml") == 1


async def test_a_proxy_of_another_kind_fails_the_fetch_without_leaking_its_password(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socks5:// proxy fails the fetch, rather than going around the proxy, and its URL,
    password included, is not in the message."""
    monkeypatch.setenv("HTTP_PROXY", "socks5://user:hunter2@127.0.0.1:1080")
    error = await refused(TRUSTING, "http://feeds.example.com/feed.xml")
    assert error.kind == "connect"
    assert "HTTP_PROXY" in error.message and "hunter2" not in error.message
    assert proxy.requests == []


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for feeds.example.com, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_feeds_tunnel_through_the_proxy_with_tls_end_to_end(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An https:// feed goes through ALL_PROXY by CONNECT, TLS runs with the feed's host, and the
    CA of SSL_CERT_FILE is trusted only with trust_env."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(FEED)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + FEED)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        with ForwardProxy(hosts={"feeds.example.com": f"https://127.0.0.1:{port}"}) as proxy:
            monkeypatch.setenv("ALL_PROXY", proxy.url)
            assert await get(TRUSTING, "https://feeds.example.com/feed.xml") == 200
            assert proxy.requests == [("CONNECT", "feeds.example.com:443")]
            monkeypatch.delenv("SSL_CERT_FILE")
            error = await refused(TRUSTING, "https://feeds.example.com/feed.xml")
            assert error.kind == "connect"  # the certificate is not trusted without the file
    finally:
        server.close()
        await server.wait_closed()


async def test_proxy_credentials_go_to_the_proxy_only(
    proxy: ForwardProxy, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """user:password in the proxy URL becomes Proxy-Authorization, which the feed never sees."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://desk:s3cret@"))
    assert await get(TRUSTING, "http://feeds.example.com/feed.xml") == 200
    assert proxy.headers[-1]["proxy-authorization"].startswith("Basic ")
    assert "proxy-authorization" not in feed_server.requests[-1].headers


async def test_the_documented_example_turns_the_proxy_on_for_the_daemon(
    proxy: ForwardProxy, tmp_path: Path
) -> None:
    """The `fetch.trust_env: true` of docs/operations.md loads, and the daemon's clients then
    use the proxy."""
    match = re.search(r"## Behind a proxy.*?```yaml\n(.*?)```", OPERATIONS, re.DOTALL)
    assert match is not None
    config = tmp_path / "monitor.yaml"
    config.write_text("database: sqlite:///x.db\n" + match.group(1))
    settings = load_settings(config)
    assert settings.fetch.trust_env is True
    clients = Clients(settings.fetch, resolver=PUBLIC)
    try:
        result = await fetch(
            clients.default, "http://feeds.example.com/feed.xml", max_bytes=10**5, timeout=5
        )
    finally:
        await clients.aclose()
    assert result.status == 200
    assert proxy.requests == [("GET", "http://feeds.example.com/feed.xml")]


@pytest.mark.parametrize(
    ("host", "entries", "bypassed"),
    [
        ("feeds.example.com", "example.com", True),
        ("feeds.example.com", ".example.com", True),
        ("example.com", ".example.com", True),
        ("notexample.com", "example.com", False),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("feeds.example.com", "*", True),
        ("feeds.example.com", "", False),
        ("FEEDS.Example.COM", " other.org , EXAMPLE.com", True),
    ],
)
def test_no_proxy_reads_names_suffixes_networks_and_star(
    host: str, entries: str, bypassed: bool
) -> None:
    """NO_PROXY entries match as curl reads them."""
    assert no_proxy(host, entries) is bypassed
