"""The egress guard: every hop's resolved addresses checked, the checked address connected to."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.egress import DENIED, NEVER_ALLOWED, EgressPolicy, IPAddress
from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings, Source
from monitor.sources.guard import EgressBlockedError, check_url
from monitor.sources.http import Clients, fetch, make_client
from tests.support import loopback
from tests.support.feed_server import FeedServer, redirect, rss
from tests.support.loopback import StubResolver

FEED = rss([{"guid": "1", "title": "One"}])
LOCAL = FetchSettings(allow_addresses=("127.0.0.1/32",))
INTERNAL = "127.0.0.2"  # stands in for a host on the internal network


@pytest.fixture
def internal() -> Iterator[FeedServer]:
    """A server on 127.0.0.2 that a guarded fetch must never reach."""
    with FeedServer(host=INTERNAL) as srv:
        srv.set("/secret", FEED)
        yield srv


@pytest.fixture(autouse=True)
def fresh_connection_log() -> None:
    """Each test sees only its own connection attempts."""
    loopback.connections.clear()


def port_of(server: FeedServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def connected_to(host: str) -> list[tuple[str, int]]:
    return [c for c in loopback.connections if c[0] == host]


async def get(settings: FetchSettings, url: str, **kwargs: object) -> int:
    async with make_client(settings, **kwargs) as client:  # type: ignore[arg-type]
        result = await fetch(client, url, max_bytes=100_000, timeout=5.0)
    return result.status


async def blocked(settings: FetchSettings, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await get(settings, url, **kwargs)
    return caught.value


async def test_loopback_is_refused_by_default(feed_server: FeedServer) -> None:
    """With no allowance, a feed on 127.0.0.1 is refused before any connection is made."""
    feed_server.set("/feed.xml", FEED)
    error = await blocked(FetchSettings(), feed_server.url("/feed.xml"))
    assert error.kind == "blocked"
    assert "127.0.0.1 is not a public address" in error.message
    assert feed_server.hits("/feed.xml") == 0
    assert connected_to("127.0.0.1") == []


async def test_allow_addresses_opens_exactly_the_listed_range(
    feed_server: FeedServer, internal: FeedServer
) -> None:
    """allow_addresses 127.0.0.1/32 reaches 127.0.0.1 and still refuses 127.0.0.2."""
    feed_server.set("/feed.xml", FEED)
    assert await get(LOCAL, feed_server.url("/feed.xml")) == 200
    error = await blocked(LOCAL, internal.url("/secret"))
    assert error.kind == "blocked"
    assert internal.hits("/secret") == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.2]:{port}/secret",
        "http://0.0.0.0:{port}/secret",
        "http://100.100.100.200/",
    ],
)
async def test_redirect_to_a_blocked_address_never_connects(
    feed_server: FeedServer, internal: FeedServer, target: str
) -> None:
    """A redirect hop to an internal or metadata address is refused before it connects."""
    location = target.format(port=port_of(internal))
    feed_server.set_handler("/feed.xml", redirect(location))
    host = str(ipaddress.ip_address(location.split("/")[2].rsplit(":", 1)[0].strip("[]")))
    error = await blocked(LOCAL, feed_server.url("/feed.xml"))
    assert error.kind == "blocked"
    assert internal.requests == []
    assert connected_to(host) == [] and connected_to(INTERNAL) == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://x/"])
async def test_redirect_to_another_scheme_is_refused(
    feed_server: FeedServer, location: str
) -> None:
    """Only http and https hops are followed."""
    feed_server.set_handler("/feed.xml", redirect(location))
    error = await blocked(LOCAL, feed_server.url("/feed.xml"))
    assert error.kind == "scheme"


async def test_allow_private_networks_opens_loopback_but_not_metadata(
    internal: FeedServer,
) -> None:
    """allow_private_networks reaches 127.0.0.2; 169.254.169.254 stays blocked even then."""
    private = FetchSettings(allow_private_networks=True)
    assert await get(private, internal.url("/secret")) == 200
    metadata = StubResolver(["169.254.169.254"])
    error = await blocked(private, "http://metadata.test/", resolver=metadata)
    assert error.kind == "blocked"
    assert connected_to("169.254.169.254") == []


async def test_connects_to_the_checked_address_with_the_name_in_host(
    feed_server: FeedServer,
) -> None:
    """A name is resolved once by the guard and the connection goes to that IP, Host intact."""
    feed_server.set("/feed.xml", FEED)
    resolver = StubResolver(["127.0.0.1"])
    url = f"http://feeds.example.test:{port_of(feed_server)}/feed.xml"
    assert await get(LOCAL, url, resolver=resolver) == 200
    assert resolver.calls == ["feeds.example.test"]
    assert feed_server.requests[-1].headers["host"] == f"feeds.example.test:{port_of(feed_server)}"


async def test_dns_rebinding_to_an_internal_address_is_refused(
    internal: FeedServer,
) -> None:
    """A name that answers 127.0.0.1 once and 127.0.0.2 next never reaches 127.0.0.2 (F7)."""
    port = port_of(internal)
    internal.set("/feed.xml", FEED)
    # The URL carries the internal server's port, so a rebinding that got through would land on
    # it; the first answer, 127.0.0.1, has nothing on that port and the connect fails there.
    rebinding = StubResolver(["127.0.0.1"], [INTERNAL])
    async with make_client(LOCAL, resolver=rebinding) as client:
        url = f"http://rebind.test:{port}/feed.xml"
        with pytest.raises(FetchError, match="connect"):
            await fetch(client, url, max_bytes=100_000, timeout=5.0)
        with pytest.raises(EgressBlockedError):
            await fetch(client, url, max_bytes=100_000, timeout=5.0)
    assert connected_to("127.0.0.1") == [("127.0.0.1", port)]
    assert internal.requests == []
    assert connected_to(INTERNAL) == []


async def test_a_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    """Every A/AAAA record is checked: one internal address refuses the whole name."""
    mixed = StubResolver(["93.184.216.34", INTERNAL])
    error = await blocked(LOCAL, "http://mixed.test/", resolver=mixed)
    assert error.kind == "blocked" and INTERNAL in error.message
    assert connected_to("93.184.216.34") == []


async def test_a_source_may_open_private_networks_for_itself_only(internal: FeedServer) -> None:
    """allow_private_networks on one source opens it for that source, not for the others."""
    sources = [
        Source(name="intranet", url="", interval=LOCAL.interval, allow_private_networks=True),
        Source(name="public", url="", interval=LOCAL.interval),
    ]
    clients = Clients(LOCAL, sources)
    try:
        ok = await fetch(
            clients.for_source("intranet"), internal.url("/secret"), max_bytes=10**5, timeout=5
        )
        assert ok.status == 200
        with pytest.raises(EgressBlockedError):
            await fetch(
                clients.for_source("public"), internal.url("/secret"), max_bytes=10**5, timeout=5
            )
    finally:
        await clients.aclose()
    assert internal.hits("/secret") == 1


async def test_check_url_guards_links_from_feed_content() -> None:
    """check_url refuses content links to internal addresses and other schemes."""
    for url in ("http://127.0.0.1/", "https://169.254.169.254/", "http://10.0.0.1/x"):
        with pytest.raises(EgressBlockedError):
            await check_url(url)
    with pytest.raises(FetchError, match="scheme"):
        await check_url("file:///etc/passwd")
    public = StubResolver(["93.184.216.34"])
    assert await check_url("https://news.test/a", resolver=public) == [
        ipaddress.ip_address("93.184.216.34")
    ]


async def libc_numeric(host: str, port: int) -> list[IPAddress]:
    """What getaddrinfo makes of a numeric host, legacy IPv4 forms included (no DNS)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [ipaddress.IPv4Address(socket.inet_aton(host))]


BLOCKED_V4 = [
    "127.0.0.2",
    "169.254.169.254",
    "10.1.2.3",
    "100.64.0.1",
    "0.0.0.0",
    "100.100.100.200",
]


def _v4_encodings(address: str) -> st.SearchStrategy[str]:
    ip = ipaddress.IPv4Address(address)
    value = int(ip)
    octets = [int(o) for o in address.split(".")]
    forms = [
        str(value),
        hex(value),
        ".".join(f"0{o:o}" for o in octets),
        ".".join(hex(o) for o in octets),
        f"{octets[0]}.{value & 0xFFFFFF}",
        f"{octets[0]}.{octets[1]}.{value & 0xFFFF}",
        f"[::ffff:{address}]",
        f"[::ffff:{value >> 16:x}:{value & 0xFFFF:x}]",
        f"[64:ff9b::{value >> 16:x}:{value & 0xFFFF:x}]",
        f"[2002:{value >> 16:x}:{value & 0xFFFF:x}::1]",
        address,
    ]
    return st.sampled_from(forms)


ENCODED = st.sampled_from(BLOCKED_V4).flatmap(_v4_encodings)


@settings(max_examples=300, deadline=None)
@given(host=ENCODED, userinfo=st.sampled_from(["", "user@", "user:pw@", "127.0.0.1@"]))
async def test_address_encodings_of_blocked_targets_are_all_refused(
    host: str, userinfo: str
) -> None:
    """Decimal, octal, hex, short, IPv4-mapped, NAT64 and 6to4 spellings are all refused (F8).

    httpx itself rejects some spellings (dotted octets with leading zeros) as invalid URLs:
    refused too, as "scheme".
    """
    local = EgressPolicy.build(allow_private=False, allow=["127.0.0.1/32"])
    for policy in (EgressPolicy(), local):
        with pytest.raises(FetchError) as caught:
            await check_url(f"http://{userinfo}{host}:8080/", policy, resolver=libc_numeric)
        assert caught.value.kind in ("blocked", "scheme")


@settings(max_examples=500, deadline=None)
@given(address=st.ip_addresses())
def test_an_allowed_address_is_global_and_outside_the_denylist(address: IPAddress) -> None:
    """Whatever the address, the default policy allows it only if it is global and not denied."""
    if EgressPolicy().refusal(address) is None:
        plain = getattr(address, "ipv4_mapped", None) or address
        assert plain.is_global
        assert not any(plain.version == n.version and plain in n for n in DENIED + NEVER_ALLOWED)


@given(address=st.ip_addresses())
def test_private_allowance_never_opens_metadata_or_link_local(address: IPAddress) -> None:
    """allow_private_networks never opens an address in the never-allowed ranges."""
    plain = getattr(address, "ipv4_mapped", None) or address
    if any(plain.version == n.version and plain in n for n in NEVER_ALLOWED):
        assert EgressPolicy(allow_private=True).refusal(address) is not None


async def test_a_client_loads_the_ca_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every load of the CA bundle costs some 20 ms of a start: one per client, not one for
    httpx's pool and another for the guarded one that replaces it."""
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    async with make_client(LOCAL):
        pass
    assert len(loads) == 1
