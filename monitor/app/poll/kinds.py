"""From a fetched response to entries, by the kind of source: a feed (or the feed an HTML page
advertises), a sitemap and the children of a sitemap index, a list page; and the publisher's
URL behind an aggregator's redirect links. After this, every kind takes the feeds' path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from monitor.core.errors import FetchError
from monitor.core.model import Entry, FetchSettings, Source
from monitor.core.pipeline import Decision
from monitor.core.stories import article_keys
from monitor.sources.discovery import Fetching, advertised, common_path
from monitor.sources.feeds import NotAFeedError, ParsedFeed
from monitor.sources.http import FetchResult, fetch
from monitor.sources.parsing import ParserPool
from monitor.sources.searchfeeds import OriginCache, resolve_origins
from monitor.sources.sitemaps import MAX_CHILDREN, SitemapIndex

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import httpx

    from monitor.core.records import ClaimedSource

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """What a response gave: its entries, the response they came from (the feed a page led to,
    else the one fetched), and the feed URL to poll from now on (None: the source's own)."""

    parsed: ParsedFeed
    result: FetchResult
    resolved_url: str | None


class SourceReader:
    """Reads each kind of source through the parser workers; remembers publisher URLs."""

    def __init__(self, parser: ParserPool) -> None:
        self.parser = parser
        self.origins = OriginCache()

    async def read(
        self,
        source: ClaimedSource,
        spec: Source | None,
        result: FetchResult,
        client: httpx.AsyncClient,
        fetching: FetchSettings,
    ) -> Read:
        """The entries of `result`, as `spec` (the configured source; None: a feed) says."""
        kind = spec.kind if spec is not None else "feed"
        parse = self.parser.parse
        if kind == "page" and spec is not None:
            parsed = await parse(
                result.body, url=result.url, headers=result.headers, kind="page", rule=spec.page
            )
            return Read(parsed=parsed, result=result, resolved_url=None)
        if kind == "sitemap":
            try:
                parsed = await parse(
                    result.body, url=result.url, headers=result.headers, kind="sitemap"
                )
            except SitemapIndex as index:
                parsed = await self._children(source, index.feed_urls, client, fetching)
            return Read(parsed=parsed, result=result, resolved_url=None)
        try:
            parsed = await parse(result.body, url=result.url, headers=result.headers)
        except NotAFeedError:
            if kind != "feed":
                raise
            # A page, or a feed found earlier that has become one: look for its feed again.
            return await self._discovered(source, result, client, fetching)
        return Read(parsed=parsed, result=result, resolved_url=source.resolved_url)

    async def _discovered(
        self,
        source: ClaimedSource,
        page: FetchResult,
        client: httpx.AsyncClient,
        fetching: FetchSettings,
    ) -> Read:
        """The feed an HTML page advertises (or serves at a common path), fetched and read."""

        async def parse(body: bytes, url: str, headers: Mapping[str, str]) -> ParsedFeed:
            return await self.parser.parse(body, url=url, headers=headers)

        feeds = advertised(page.body, page.url)
        if not feeds:
            feeds = await common_path(client, page.url, parse, _caps(fetching))
        if not feeds:
            raise NotAFeedError(
                "an HTML page, not a feed, and it advertises no feed (no <link rel=alternate>, "
                "none at the common feed paths)"
            )
        url = feeds[0].url
        log.info("%s: the page advertises the feed %s; polling that", source.name, url)
        result = await fetch(
            client,
            url,
            max_bytes=fetching.max_bytes,
            timeout=fetching.timeout.total_seconds(),
            max_redirects=fetching.max_redirects,
        )
        parsed = await self.parser.parse(result.body, url=result.url, headers=result.headers)
        return Read(parsed=parsed, result=result, resolved_url=url)

    async def _children(
        self,
        source: ClaimedSource,
        children: Sequence[str],
        client: httpx.AsyncClient,
        fetching: FetchSettings,
    ) -> ParsedFeed:
        """The entries of an index's newest child sitemaps, one level deep, each read once."""
        entries: list[Entry] = []
        problems: list[str] = []
        seen = {source.url, source.resolved_url}
        for child in [c for c in children if c not in seen][:MAX_CHILDREN]:
            try:
                result = await fetch(
                    client,
                    child,
                    max_bytes=fetching.max_bytes,
                    timeout=fetching.timeout.total_seconds(),
                    max_redirects=fetching.max_redirects,
                )
                if result.url in seen:
                    raise FetchError("redirects", "leads back to a sitemap already read")
                seen.add(result.url)
                parsed = await self.parser.parse(
                    result.body, url=result.url, headers=result.headers, kind="sitemap"
                )
            except SitemapIndex:
                problems.append(f"{child}: an index inside an index (followed one level only)")
                continue
            except FetchError as exc:
                problems.append(f"{child}: {exc.kind}: {exc.message}")
                continue
            entries.extend(parsed.entries)
        if not entries and problems:
            raise FetchError("sitemap", "no child sitemap could be read: " + "; ".join(problems))
        entries.sort(key=lambda e: e.published is None)
        capped = entries[: fetching.max_entries]
        warning = "; ".join(problems) or None
        return ParsedFeed(title="", entries=tuple(capped), warning=warning)

    async def with_origins(
        self,
        found: Sequence[Decision],
        client: httpx.AsyncClient,
        fetching: FetchSettings,
    ) -> list[Decision]:
        """New aggregated articles with the publisher's URL behind their redirect link, asked
        once per link (guarded, cached), so stories identify the article by it."""
        links = [
            d.article.url
            for d in found
            if d.updates is None and d.article.outlet and not d.article.origin and d.article.url
        ]
        if not links:
            return list(found)
        origins = await resolve_origins(
            client,
            [link for link in links if link],
            self.origins,
            timeout=fetching.timeout.total_seconds(),
            max_redirects=fetching.max_redirects,
        )
        out = []
        for d in found:
            origin = origins.get(d.article.url or "") if d.updates is None else None
            if origin:
                article = replace(d.article, origin=origin)
                d = replace(d, article=article, keys=article_keys(article))
            out.append(d)
        return out


def _caps(fetching: FetchSettings) -> Fetching:
    return Fetching(
        max_bytes=fetching.max_bytes,
        timeout=fetching.timeout.total_seconds(),
        max_redirects=fetching.max_redirects,
    )
