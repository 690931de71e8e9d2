"""Search and replay over the stored history, with the same matcher the daemon alerts with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from monitor.model import Match, Settings
from monitor.pipeline import ArticleMatcher
from monitor.query import parse
from monitor.searchtext import condition
from monitor.store.search import StoredArticle

SAMPLE = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """A stored article and the watch (or query) that matched it, with the terms found."""

    stored: StoredArticle
    match: Match


def query_condition(query: str, settings: Settings) -> str | None:
    """The index condition every match of an ad-hoc query meets, or None."""
    return condition(parse(query), settings.terms)


def watches_condition(settings: Settings, names: Sequence[str]) -> str | None:
    """The index condition that any of these watches' matches meets, or None."""
    found = [condition(parse(w.query), settings.terms) for w in settings.watches if w.name in names]
    if not found or any(c is None for c in found):
        return None
    return " OR ".join(f"({c})" for c in found)


def search(
    candidates: Iterable[StoredArticle], matcher: ArticleMatcher, *, limit: int
) -> Iterator[Result]:
    """The first `limit` candidates the matcher accepts, in the candidates' order."""
    given = 0
    for stored in candidates:
        if given >= limit:
            return
        found = matcher.match(stored.article)
        if found:
            given += 1
            yield Result(stored=stored, match=found[0])


@dataclass(slots=True, kw_only=True)
class ReplayReport:
    """What a replay found: counts by day (UTC, of publication or else of fetching), by source
    and by watch, the first hits of each watch, and (when kept) every (article id, match)."""

    scanned: int = 0
    hits: int = 0
    by_day: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    by_watch: Counter[str] = field(default_factory=Counter)
    samples: list[Result] = field(default_factory=list)
    found: list[tuple[int, Match]] = field(default_factory=list)


def replay(
    articles: Iterable[StoredArticle],
    matcher: ArticleMatcher,
    *,
    sample: int = SAMPLE,
    progress: Callable[[int], None] | None = None,
    keep: bool = False,
) -> ReplayReport:
    """Run `matcher` over `articles`; with `keep`, every hit is kept in `found`."""
    report = ReplayReport()
    for stored in articles:
        report.scanned += 1
        for match in matcher.match(stored.article):
            report.hits += 1
            when = stored.article.published or stored.fetched_at
            report.by_day[when.strftime("%Y-%m-%d")] += 1
            report.by_source[stored.article.source] += 1
            report.by_watch[match.watch] += 1
            if report.by_watch[match.watch] <= sample:
                report.samples.append(Result(stored=stored, match=match))
            if keep:
                report.found.append((stored.id, match))
        if progress is not None:
            progress(1)
    return report
