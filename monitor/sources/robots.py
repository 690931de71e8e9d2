"""robots.txt for article pages: read once per host, kept for a day, asked before each page.

The rules follow RFC 9309: a robots.txt that is missing (any 4xx) allows everything; one that
cannot be read (5xx, a network error, a timeout) disallows everything until it is tried again,
sooner than a day. Feeds themselves are not checked: a publisher offers a feed to be polled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from monitor.core.errors import FetchError
from monitor.sources.http import FetchResult, HTTPStatusError

ROBOTS_MAX_BYTES = 512 * 1024  # what Google reads of a robots.txt
KEEP = timedelta(days=1)
RETRY = timedelta(minutes=10)

_NOTHING = ("User-agent: *", "Disallow: /")
Fetcher = Callable[[str], Awaitable[FetchResult]]


class Robots:
    """The robots.txt rules of each host, fetched through `fetcher` (a guarded fetch) once per
    `KEEP`, for the `agent` this daemon names itself."""

    def __init__(self, fetcher: Fetcher, *, agent: str, clock: Callable[[], datetime]) -> None:
        self.fetcher = fetcher
        self.agent = agent
        self.clock = clock
        self.fetches = 0
        self._rules: dict[str, tuple[datetime, RobotFileParser]] = {}
        self._pending: dict[str, asyncio.Future[RobotFileParser]] = {}

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch `url`."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        rules = await self._for(origin)
        return rules.can_fetch(self.agent, url)

    async def _for(self, origin: str) -> RobotFileParser:
        now = self.clock()
        kept = self._rules.get(origin)
        if kept is not None and kept[0] > now:
            return kept[1]
        pending = self._pending.get(origin)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[RobotFileParser] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules, keep = await self._read(origin)
            self._rules[origin] = (self.clock() + keep, rules)
            future.set_result(rules)
            return rules
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a waiter may not exist
            raise
        finally:
            del self._pending[origin]

    async def _read(self, origin: str) -> tuple[RobotFileParser, timedelta]:
        rules = RobotFileParser()
        self.fetches += 1
        try:
            result = await self.fetcher(f"{origin}/robots.txt")
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                rules.parse([])  # no rules: everything allowed
                return rules, KEEP
            rules.parse(_NOTHING)
            return rules, RETRY
        except FetchError:
            rules.parse(_NOTHING)
            return rules, RETRY
        rules.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return rules, KEEP
