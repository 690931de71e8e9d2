"""Bounded cost per fetch (G11): bombs, endless and lying bodies, and parsing under a hard limit."""

from __future__ import annotations

import gc
import gzip
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import httpx
import pytest

from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings
from monitor.sources import parsing
from monitor.sources.decode import STEP, BoundedDecoder
from monitor.sources.fastpath import parse_fast
from monitor.sources.feeds import parse_feed
from monitor.sources.http import fetch, make_client
from monitor.sources.parsing import ParserPool
from tests.support import hostile, loopback
from tests.support.feed_server import FeedServer, rss

LOCAL = FetchSettings(allow_addresses=("127.0.0.1/32",))
CAP = 1024 * 1024


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(LOCAL) as c:
        yield c


@pytest.fixture
async def pool() -> AsyncIterator[ParserPool]:
    parsers = ParserPool(workers=2, timeout=1.0, max_entries=50)
    yield parsers
    await parsers.aclose()


async def fetch_error(client: httpx.AsyncClient, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(client, url, max_bytes=CAP, timeout=5.0)
    return caught.value


@pytest.mark.parametrize(
    ("encoding", "bomb"),
    [("gzip", hostile.gzip_bomb), ("br", hostile.brotli_bomb)],
)
async def test_compression_bomb_stops_at_the_cap_without_inflating_whole(
    feed_server: FeedServer, client: httpx.AsyncClient, encoding: str, bomb: object
) -> None:
    """A gzip or brotli bomb fails "too_large" and memory stays within a few caps (F3)."""
    body = bomb()  # type: ignore[operator]
    feed_server.set_handler("/bomb", hostile.encoded(body, encoding))
    tracemalloc.start()
    try:
        error = await fetch_error(client, feed_server.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.kind == "too_large"
    assert peak < 3 * CAP + len(body)


async def test_endless_body_stops_at_the_cap(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A body without Content-Length that never ends fails "too_large" (F2)."""
    feed_server.set_handler("/endless", hostile.endless())
    error = await fetch_error(client, feed_server.url("/endless"))
    assert error.kind == "too_large"


async def test_an_oversized_body_goes_with_its_error(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    """The body read up to the cap is freed once its "too_large" error is dropped, not at the
    cyclic collector's next pass (nor the next reload, if a reload froze it)."""
    feed_server.set_handler("/endless", hostile.endless())

    async def kind() -> str:
        try:
            await fetch(client, feed_server.url("/endless"), max_bytes=CAP, timeout=5.0)
        except FetchError as exc:
            return exc.kind
        return "fetched"

    gc.disable()
    tracemalloc.start()
    try:
        assert await kind() == "too_large"
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held < CAP // 2


async def test_short_lying_length_reads_only_what_was_declared(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    """Content-Length 100 followed by 5 MiB gives at most 100 bytes, and no hang (F4)."""
    feed_server.set_handler("/lie", hostile.lying_length(declared=100, body=b"<" * (5 * CAP)))
    result = await fetch(client, feed_server.url("/lie"), max_bytes=CAP, timeout=5.0)
    assert len(result.body) <= 100


async def test_long_lying_length_is_a_protocol_error(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    """A body that ends before its declared length fails "http", not a truncated success."""
    feed_server.set_handler("/lie", hostile.lying_length(declared=50_000, body=rss([])))
    error = await fetch_error(client, feed_server.url("/lie"))
    assert error.kind == "http"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_decoder_gives_back_the_body_in_bounded_pieces(encoding: str) -> None:
    """Each encoding round-trips, fed in small chunks, and no piece exceeds STEP."""
    original = rss([{"guid": str(i), "title": f"Item {i}"} for i in range(3000)])
    packed = {
        "gzip": gzip.compress,
        "deflate": __import__("zlib").compress,
        "br": brotli.compress,
    }[encoding](original)
    decoder = BoundedDecoder(encoding)
    pieces = [p for i in range(0, len(packed), 1000) for p in decoder.feed(packed[i : i + 1000])]
    assert b"".join(pieces) == original
    assert max(len(p) for p in pieces) <= STEP


def test_unknown_or_stacked_encodings_are_refused() -> None:
    """A coding we cannot decode is an error, not a body passed on undecoded."""
    for value in ("zstd", "gzip, br"):
        with pytest.raises(FetchError, match="Content-Encoding"):
            BoundedDecoder(value)


async def test_author_redos_is_killed_and_the_pool_carries_on(pool: ParserPool) -> None:
    """A parse that runs past the limit kills its worker; the next feed parses normally (F10)."""
    with pytest.raises(FetchError) as caught:
        await pool.parse(hostile.author_redos(), url="http://127.0.0.1/", headers={})
    assert caught.value.kind == "parse_timeout"
    assert pool.restarts == 1
    parsed = await pool.parse(rss([{"guid": "1", "title": "Fine"}]), url="http://x/", headers={})
    assert [e.title for e in parsed.entries] == ["Fine"]


def test_a_worker_whose_daemon_died_mid_parse_leaves_quietly(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """After a kill -9 of the daemon, a worker's answer has nowhere to go: it ends without a
    traceback in the daemon's log (a soak counted one as an unhandled exception)."""
    ours, theirs = parsing._CONTEXT.Pipe()
    worker = parsing._CONTEXT.Process(target=parsing._serve, args=(theirs, parsing.MEMORY_LIMIT))
    worker.start()
    theirs.close()
    assert ours.recv() == "ready"
    items = [
        {"guid": str(i), "title": f"Item {i}", "description": "text " * 50} for i in range(300)
    ]
    ours.send((rss(items), "http://127.0.0.1/feed", {}, 300))
    ours.close()  # the daemon is gone before the parse ends
    worker.join(30)
    assert worker.exitcode == 0
    assert "Traceback" not in capfd.readouterr().err


async def test_a_new_workers_start_up_does_not_count_against_the_limit() -> None:
    """A worker's start (a fresh interpreter importing the parsers) is not parse time: a pool
    whose limit is shorter than that start still parses a small feed."""
    pool = ParserPool(workers=1, timeout=0.2, max_entries=50)
    try:
        parsed = await pool.parse(
            rss([{"guid": "1", "title": "Quick"}]), url="http://x/", headers={}
        )
    finally:
        await pool.aclose()
    assert [e.title for e in parsed.entries] == ["Quick"]
    assert pool.restarts == 0


async def test_a_worker_gives_back_what_a_large_feed_took() -> None:
    """A worker lives for many feeds: the heap a 2 MB feed needed goes back to the system
    before the next request, not at the worker's replacement (it kept 13 MiB)."""
    item = {"description": "text " * 300, "title": "title " + "word " * 50}
    big = rss([{**item, "link": f"http://news.test/{i}"} for i in range(1200)])
    parsers = ParserPool(workers=1, timeout=30.0, max_entries=50)
    try:
        await parsers.parse(rss([]), url="http://news.test/feed", headers={})
        (worker,) = parsers._all
        before = _vmrss_mb(worker.process.pid)
        for _ in range(3):
            await parsers.parse(big, url="http://news.test/feed", headers={})
        # The worker trims after it answers: a small request's answer comes after that trim.
        await parsers.parse(rss([]), url="http://news.test/feed", headers={})
        assert _vmrss_mb(worker.process.pid) - before < 6
    finally:
        await parsers.aclose()


def _vmrss_mb(pid: int | None) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def test_entity_bombs_parse_quickly_into_nothing(pool: ParserPool) -> None:
    """Billion laughs and quadratic blowup do not expand: the titles come back short (F9)."""
    for body in (hostile.billion_laughs(), hostile.quadratic_blowup()):
        parsed = await pool.parse(body, url="http://127.0.0.1/", headers={})
        # Expanded, the titles would be 3 GB and 100 MB long; the entities stay unexpanded.
        assert all(len(e.title) <= len(body) and "lollol" not in e.title for e in parsed.entries)
    assert pool.restarts == 0


async def test_external_entities_are_never_resolved(pool: ParserPool, tmp_path: Path) -> None:
    """An XXE entity naming a file or a DTD on a server reads neither (F9)."""
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-7f3a")
    loopback.connections.clear()
    with FeedServer() as dtd_server:
        dtd_server.set("/evil.dtd", '<!ENTITY leak "DTD-CANARY">')
        for body in (hostile.xxe(str(canary)), hostile.external_dtd(dtd_server.url("/evil.dtd"))):
            parsed = await pool.parse(body, url="http://127.0.0.1/", headers={})
            text = " ".join(f"{e.title} {e.summary}" for e in parsed.entries) + parsed.title
            assert "CANARY" not in text
        assert dtd_server.requests == []


async def test_entries_are_capped() -> None:
    """A feed with more entries than max_entries gives the first ones and a warning (F16)."""
    body = rss([{"guid": str(i), "title": f"Item {i}"} for i in range(2000)])
    # 2,000 items take feedparser about a second; the limit is generous so a busy machine passes.
    pool = ParserPool(workers=1, timeout=30.0, max_entries=50)
    try:
        parsed = await pool.parse(body, url="http://127.0.0.1/", headers={})
    finally:
        await pool.aclose()
    assert [e.guid for e in parsed.entries] == [str(i) for i in range(50)]
    assert parsed.warning is not None and "2000 entries" in parsed.warning


async def test_not_a_feed_keeps_its_alternate_links_across_the_process_boundary(
    pool: ParserPool,
) -> None:
    """An HTML page's advertised feed URL survives the trip back from the worker."""
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head>'
    with pytest.raises(FetchError) as caught:
        await pool.parse(page, url="http://news.test/", headers={"content-type": "text/html"})
    assert caught.value.kind == "not_a_feed"
    assert getattr(caught.value, "feed_urls", ()) == ("http://news.test/rss",)


async def test_a_parsed_feed_comes_back_from_the_worker_as_it_was_parsed(pool: ParserPool) -> None:
    """Every field of every entry, the title, the warning and the schedule cross the process
    boundary unchanged, from the fast path and from feedparser alike."""
    published = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    items = [
        {
            "guid": f"g{i}",
            "title": f"Story {i}",
            "link": f"https://news.test/{i}",
            "description": "<p>Lead <b>text</b></p>",
            "content": "<p>Full text</p>" if i % 2 else "",
            "published": published - timedelta(minutes=i),
        }
        for i in range(60)
    ]
    fast = rss(items).replace(b"<channel>", b"<channel><language>ko</language><ttl>30</ttl>")
    slow = rss([{"guid": "1", "title": "No link"}, {"guid": "2", "title": "Nor this"}])
    for body in (fast, slow):
        parsed = await pool.parse(body, url="http://127.0.0.1/", headers={})
        assert parsed == parse_feed(body, url="http://127.0.0.1/", headers={}, max_entries=50)
    assert parsed.entries[0].link is None
    assert parse_fast(fast, link=lambda value: value) is not None
    assert parse_fast(slow, link=lambda value: value) is None
    fast_parsed = parse_feed(fast, url="http://127.0.0.1/", headers={}, max_entries=50)
    assert fast_parsed.warning and fast_parsed.ttl and fast_parsed.entries[0].lang == "ko"
