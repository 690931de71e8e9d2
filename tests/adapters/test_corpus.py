"""feedparser's own ~2,200 test documents through the real fetch and parse path (item 7)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from monitor.core.errors import FetchError
from monitor.core.model import FetchSettings
from monitor.sources.http import fetch, make_client
from monitor.sources.parsing import ParserPool
from tests.support.corpus import Case, load_cases, serve
from tests.support.feed_server import FeedServer

pytestmark = pytest.mark.slow
KINDS = {"ok", "not_a_feed", "parse", "http", "redirects"}


async def outcome(client: object, pool: ParserPool, server: FeedServer, case: Case) -> str:
    try:
        result = await fetch(
            client,  # type: ignore[arg-type]
            server.url(f"/corpus/{case.name}"),
            max_bytes=1_000_000,
            timeout=10.0,
        )
        if result.status == 304:
            return "ok"
        await pool.parse(result.body, url=result.url, headers=result.headers)
    except FetchError as exc:
        return exc.kind
    return "ok"


async def test_every_corpus_document_is_fetched_and_parsed_or_classified(
    feed_server: FeedServer,
) -> None:
    """No document crashes or hangs the path; each ends "ok" or with a known error kind, and
    every well-formed one is read."""
    cases = load_cases()
    assert len(cases) > 2000
    serve(feed_server, cases)
    pool = ParserPool(workers=2, timeout=5.0, max_entries=1000)
    limit = asyncio.Semaphore(16)
    try:
        async with make_client(FetchSettings(allow_addresses=("127.0.0.1/32",))) as client:

            async def one(case: Case) -> str:
                async with limit:
                    return await outcome(client, pool, feed_server, case)

            results = await asyncio.gather(*(one(c) for c in cases))
    finally:
        await pool.aclose()
    by_case = dict(zip((c.name for c in cases), results, strict=True))
    counts = Counter(results)
    print("corpus outcomes:", dict(counts))
    assert set(counts) <= KINDS, counts
    # CDF (Microsoft's 1997 format) documents with a channel and no items carry no version:
    # "an XML document that is neither RSS nor Atom" is the right answer for them.
    failed_wellformed = sorted(
        n
        for n, r in by_case.items()
        if n.startswith("wellformed/") and r != "ok" and not n.startswith("wellformed/cdf/channel")
    )
    assert failed_wellformed == []
    assert {by_case[n] for n in by_case if n.startswith("wellformed/cdf/channel")} == {"parse"}
    assert pool.restarts == 0
