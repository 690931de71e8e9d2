"""Parsing in worker processes with a hard time limit: a parser that hangs is killed, not waited on.

A regex running in a thread cannot be interrupted (feedparser's author-field ReDoS takes seconds
of CPU for 32 KB of input; reliability.md T8), so feeds are parsed in a small pool of worker
processes, one feed at a time each. A worker that does not answer within the time limit is
killed and a fresh one takes its place; its feed fails with kind "parse_timeout". Each worker
also runs under an address-space limit, so an entity bomb that slipped past the body cap fails
with kind "too_large" instead of swapping the machine. With two workers the second core parses
too, while the event loop keeps fetching.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import resource
import signal
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import repeat
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from monitor.core.errors import FetchError
from monitor.core.model import Article, Entry, PageRule, StorySettings
from monitor.sources.articles import Page, extract_page
from monitor.sources.feeds import NotAFeedError, ParsedFeed, parse_feed
from monitor.sources.memory import fix_mmap_threshold, trim
from monitor.sources.pages import parse_page
from monitor.sources.sitemaps import SitemapIndex, parse_sitemap

if TYPE_CHECKING:
    from monitor.core.stories.index import Prepared, StoryIndex

log = logging.getLogger(__name__)
MEMORY_LIMIT = 1024 * 1024 * 1024
STARTUP_TIMEOUT = 60.0
_PAGE = "page"  # a request to extract an article page rather than parse a feed
_PREPARE = "prepare"  # a request for new articles' story features
_CONTEXT = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
# Entries cross the pipe as columns, a tuple of values per Entry field. Pickled dataclasses
# are rebuilt one by one through a Python __setstate__; columns unpickle as plain tuples and
# are set on new entries by the fields' slot descriptors, in C, bypassing __init__ as
# unpickling does. The daemon's process, which unpickles every reply, pays a third as much.
_ENTRY_COLUMNS = tuple(attrgetter(f.name) for f in fields(Entry))
_ENTRY_SETTERS = tuple(getattr(Entry, f.name).__set__ for f in fields(Entry))
# A feed with no charset declared and bytes that are not UTF-8: read once as a worker starts,
# it loads the XML reader and every codec the charset guess tries (some 80 modules, 2 MiB).
_WARM_UP = (
    b'<rss version="2.0"><channel><item><guid>1</guid><title>'
    + bytes(range(0x80, 0x100))
    + b"</title><pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)


def _limit_memory(limit: int) -> None:
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(conn: Connection, memory_limit: int) -> None:
    """A worker's loop: parse each request, answer with a plain tuple, until told to stop."""
    # The daemon handles Ctrl-C and SIGTERM itself; it stops its workers on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _limit_memory(memory_limit)
    fix_mmap_threshold()
    load()
    conn.send("ready")  # imports are done: the parse time limit starts with real work only
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        if request[0] == _PAGE:
            answer = _page_answer(*request[1:])
        elif request[0] == _PREPARE:
            answer = _prepare_answer(*request[1:])
        else:
            answer = _answer(*request)
        try:
            conn.send(answer)
        except OSError:  # the daemon died (kill -9) while this worker parsed: nobody waits
            return
        # A large feed or page leaves its peak in the heap (13 MiB for a 2 MB feed), which a
        # worker would keep until it is replaced; give it back before the next request.
        del request, answer
        trim()


def load() -> None:
    """Load what a worker's requests use, before it takes one: otherwise the first page, or the
    first feed whose charset must be guessed, loads it inside its time limit, and the worker's
    memory steps up in the middle of its life, which a soak cannot tell from a leak."""
    # Loaded here, not at the top: the daemon's own process never extracts pages.
    importlib.import_module("trafilatura")
    _answer(_WARM_UP, "http://127.0.0.1/", {}, 1)


def _parse(
    body: bytes,
    url: str,
    headers: dict[str, str],
    max_entries: int,
    kind: str = "feed",
    rule: PageRule | None = None,
) -> ParsedFeed:
    """A sitemap or a list page by its own reader, anything else as a feed."""
    if kind == "sitemap":
        return parse_sitemap(body, url=url, headers=headers, max_entries=max_entries)
    if kind == "page" and rule is not None:
        return parse_page(body, url=url, headers=headers, rule=rule, max_entries=max_entries)
    return parse_feed(body, url=url, headers=headers, max_entries=max_entries)


def _answer(*request: Any) -> tuple[Any, ...]:
    # Exceptions do not pickle reliably across versions; a tuple always does.
    try:
        return ("ok", *_wire(_parse(*request)))
    except SitemapIndex as exc:
        return ("sitemap_index", exc.message, exc.feed_urls)
    except NotAFeedError as exc:
        return ("not_a_feed", exc.message, exc.feed_urls)
    except FetchError as exc:
        return ("error", exc.kind, exc.message)
    except MemoryError:
        return ("error", "too_large", "parsing the feed needed more memory than allowed")
    except Exception as exc:  # a parser bug on hostile input is that feed's failure, no more
        return ("error", "parse", f"the parser failed: {type(exc).__name__}")


def _page_answer(body: bytes, url: str, content_type: str) -> tuple[Any, ...]:
    try:
        return ("page", extract_page(body, url=url, content_type=content_type))
    except FetchError as exc:
        return ("error", exc.kind, exc.message)
    except MemoryError:
        return ("error", "too_large", "reading the page needed more memory than allowed")
    except Exception as exc:  # an extractor bug on hostile input fails that page, no more
        return ("error", "parse", f"the extractor failed: {type(exc).__name__}")


_INDEXES: dict[str, StoryIndex] = {}  # a worker's own, one per story mode, for `prepare`


def _prepare_answer(mode: str, articles: tuple[Article, ...]) -> tuple[Any, ...]:
    # Loaded on first use: numpy is not needed to parse.
    from monitor.core.stories.index import StoryIndex

    index = _INDEXES.get(mode)
    if index is None:
        index = _INDEXES[mode] = StoryIndex(StorySettings(mode=mode))
    try:
        return ("prepared", [index.prepare(article) for article in articles])
    except MemoryError:
        return ("error", "too_large", "reading the articles needed more memory than allowed")
    except Exception as exc:  # a bug on hostile text fails that poll's features, no more
        return ("error", "parse", f"story features failed: {type(exc).__name__}")


@dataclass(slots=True, eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def _exchange(worker: _Worker, request: tuple[Any, ...], timeout: float) -> tuple[Any, ...] | None:
    worker.conn.send(request)
    if not worker.conn.poll(timeout):
        return None
    reply: tuple[Any, ...] = worker.conn.recv()
    return reply


class ParserPool:
    """Up to `workers` parser processes, started on first use, each feed limited to `timeout` s."""

    def __init__(
        self,
        *,
        workers: int,
        timeout: float,
        max_entries: int,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        self.timeout = timeout
        self.max_entries = max_entries
        self.memory_limit = memory_limit
        self.restarts = 0
        self._slots = asyncio.Semaphore(max(1, workers))
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()

    async def parse(
        self,
        body: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        kind: str = "feed",
        rule: PageRule | None = None,
    ) -> ParsedFeed:
        """The parsed feed (or sitemap, with `kind`, or list page, with `rule`); raises
        FetchError as parse_feed does, or "parse_timeout"."""
        return _result(await self._ask((body, url, dict(headers), self.max_entries, kind, rule)))

    async def extract(self, body: bytes, *, url: str, content_type: str) -> Page:
        """An article page's text (monitor.sources.articles), under the same time limit."""
        reply = await self._ask((_PAGE, body, url, content_type))
        if reply[0] == "page":
            page: Page = reply[1]
            return page
        raise FetchError(reply[1], reply[2])

    async def prepare(self, articles: Sequence[Article], *, mode: str) -> list[Prepared]:
        """New articles' story features (StoryIndex.prepare) for an index in `mode`, computed
        in a worker under the same time limit; raises FetchError."""
        reply = await self._ask((_PREPARE, mode, tuple(articles)))
        if reply[0] == "prepared":
            prepared: list[Prepared] = reply[1]
            return prepared
        raise FetchError(reply[1], reply[2])

    async def _ask(self, request: tuple[Any, ...]) -> tuple[Any, ...]:
        async with self._slots:
            worker = self._idle.pop() if self._idle else await asyncio.to_thread(self._start)
            try:
                reply = await asyncio.to_thread(_exchange, worker, request, self.timeout)
            except (EOFError, OSError):
                self._discard(worker)
                self.restarts += 1
                raise FetchError("parse", "the parser process died while parsing") from None
            except BaseException:
                self._discard(worker)  # cancelled mid-parse: its answer would be stale
                raise
            if reply is None:
                self._discard(worker)
                self.restarts += 1
                raise FetchError(
                    "parse_timeout", f"parsing took longer than {self.timeout:g} s; stopped"
                )
            self._idle.append(worker)
        return reply

    def _start(self) -> _Worker:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(
            target=_serve,
            args=(child, self.memory_limit),
            name="newsmonitor-parser",
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        # A new interpreter imports the parsers first, which takes a second or more on a busy
        # machine; that must not count against the first feed's parse time.
        try:
            ready = parent.poll(STARTUP_TIMEOUT) and parent.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            worker.kill()
            raise FetchError("parse", "a parser process did not start")
        self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def aclose(self) -> None:
        """Stop every worker: ask politely, then kill what is left."""
        workers, self._idle = list(self._all), []
        self._all.clear()
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        await asyncio.to_thread(_join_all, workers)


def _join_all(workers: list[_Worker]) -> None:
    for worker in workers:
        worker.process.join(timeout=2)
        if worker.process.is_alive():
            worker.kill()
        else:
            worker.conn.close()


def _wire(parsed: ParsedFeed) -> tuple[Any, ...]:
    """A parsed feed as `_unwire` takes it: plain values and tuples."""
    entries = parsed.entries
    columns = tuple(tuple(map(column, entries)) for column in _ENTRY_COLUMNS)
    return parsed.title, parsed.warning, parsed.ttl, len(entries), columns


def _unwire(title: str, warning: str | None, ttl: Any, count: int, columns: Any) -> ParsedFeed:
    entries = tuple(map(object.__new__, repeat(Entry, count)))
    for set_field, values in zip(_ENTRY_SETTERS, columns, strict=True):
        deque(map(set_field, entries, values), maxlen=0)  # runs the setters, keeps nothing
    return ParsedFeed(title=title, entries=entries, warning=warning, ttl=ttl)


def _result(reply: tuple[Any, ...]) -> ParsedFeed:
    status = reply[0]
    if status == "ok":
        return _unwire(*reply[1:])
    if status == "not_a_feed":
        raise NotAFeedError(reply[1], feed_urls=tuple(reply[2]))
    if status == "sitemap_index":
        raise SitemapIndex(reply[1], feed_urls=tuple(reply[2]))
    raise FetchError(reply[1], reply[2])
