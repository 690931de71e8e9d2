"""Search and replay over the stored history, with the same matcher the daemon alerts with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from monitor.core.model import Match, Settings
from monitor.core.pipeline import ArticleMatcher
from monitor.core.query import Matcher, parse
from monitor.core.query.index import explain
from monitor.core.searchtext import condition
from monitor.store.search import StoredArticle

SAMPLE = 5
# The progress bar is told in steps: updating it for every article would cost more than a match.
PROGRESS_EVERY = 256


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
    matcher: Matcher,
    *,
    sample: int = SAMPLE,
    progress: Callable[[int], None] | None = None,
    keep: bool = False,
) -> ReplayReport:
    """Run `matcher` over `articles`; with `keep`, every hit is kept in `found`.

    A hit is only explained (its terms and snippets found) when it is kept or shown as a
    sample: counting needs no more than which watches matched, and explaining is most of the
    cost of a hit.
    """
    report = ReplayReport()
    watches = matcher.watches
    unreported = 0
    for stored in articles:
        report.scanned += 1
        unreported += 1
        if progress is not None and unreported == PROGRESS_EVERY:
            progress(unreported)
            unreported = 0
        lookup, found = matcher.matching(stored.article)
        if not found:
            continue
        when = stored.article.published or stored.fetched_at
        report.hits += len(found)
        report.by_day[when.strftime("%Y-%m-%d")] += len(found)
        report.by_source[stored.article.source] += len(found)
        for i in found:
            name = watches[i][0]
            report.by_watch[name] += 1
            shown = report.by_watch[name] <= sample
            if not (keep or shown):
                continue
            match = explain(watches[i], lookup)
            if shown:
                report.samples.append(Result(stored=stored, match=match))
            if keep:
                report.found.append((stored.id, match))
    if progress is not None and unreported:
        progress(unreported)
    return report
