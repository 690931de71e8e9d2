"""Many watches in one index: one multi-pattern scan per article, then only candidates verified.

Every needle of every watch goes into an Aho-Corasick automaton (one over the folded string,
one over the case-kept string), so an article is scanned once whatever the number of rules.
A watch requires sets of needles (`CompiledQuery.required`): a match holds one needle of each.
The rarest set (phrases first; needles few other watches require) indexes the watch, in the
fields each of its terms looks in (so `tag:korea` is not woken by "korea" in a title), and the
next two are checked before it is verified against the occurrences the scan already collected
(Lucene Monitor's multipass presearcher). Watches that require nothing (only NOT, only
regular expressions) are verified for every article.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TypeAlias

import ahocorasick  # type: ignore[import-not-found]  # pyahocorasick ships no type information

from monitor.core.model import Article, Match
from monitor.core.query.compile import compile_query
from monitor.core.query.document import CASED, FOLDED, Document, Occurrence, document
from monitor.core.query.engine import CompiledQuery
from monitor.core.query.terms import NaiveLookup, Term


class _Automaton:
    """All needles of one string kind; a scan returns every needle's end positions."""

    def __init__(self, needles: Iterable[str]) -> None:
        self._auto = ahocorasick.Automaton()
        # In order: keys that share a prefix share trie nodes, and adding them one after the
        # other, then building the automaton, is faster (by a fifth, for 100,000 rules).
        for needle in sorted(needles):
            self._auto.add_word(needle, needle)
        self.empty = len(self._auto) == 0
        if not self.empty:
            self._auto.make_automaton()

    def scan(self, string: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if self.empty:
            return found
        for end, needle in self._auto.iter(string):
            ends = found.get(needle)
            if ends is None:
                found[needle] = [end]
            else:
                ends.append(end)
        return found


_NeedleSet: TypeAlias = tuple[frozenset[str], frozenset[str]]


def _needle_set(need: tuple[Term, ...]) -> _NeedleSet:
    """The needles of a required set, folded and case-kept apart."""
    if len(need) == 1:  # most sets: a word or phrase, by its needle
        term = need[0]
        return _one_needle(term.needle, term.kind)
    return _shared_needle_set(need)


@lru_cache(maxsize=1 << 16)  # rules share words: the words of a phrase with slop are sets
def _one_needle(needle: str, kind: int) -> _NeedleSet:
    one = frozenset((needle,))
    return (one, _NONE) if kind == FOLDED else (_NONE, one)


_NONE: frozenset[str] = frozenset()


@lru_cache(maxsize=1 << 12)  # rules share required sets: an OR of plain terms is built once
def _shared_needle_set(need: tuple[Term, ...]) -> _NeedleSet:
    return (
        frozenset(t.needle for t in need if t.kind == FOLDED),
        frozenset(t.needle for t in need if t.kind == CASED),
    )


# The watches a needle anchors, grouped by the fields their anchor term looks in, so that a
# needle only makes candidates of the watches that look for it where it was found.
_Anchors: TypeAlias = list[tuple[frozenset[str], list[int]]]


def _anchor(anchors: _Anchors, fields: frozenset[str], watch: int) -> None:
    """Add `watch` to the anchors of a needle, under the fields its term looks in."""
    for known, watches in anchors:
        if known == fields:
            if watches[-1] != watch:  # a watch may require one needle twice
                watches.append(watch)
            return
    anchors.append((fields, [watch]))


class ScanLookup:
    """The occurrences one scan found, turned into `Occurrence`s as terms ask for them."""

    __slots__ = ("_cache", "doc", "found")

    def __init__(self, doc: Document, found: tuple[dict[str, list[int]], dict[str, list[int]]]):
        self.doc = doc
        self.found = found
        self._cache: dict[tuple[int, str], list[Occurrence]] = {}

    def find(self, term: Term) -> list[Occurrence]:
        """Every occurrence of the term's needle, in any field."""
        ends = self.found[term.kind].get(term.needle)
        if ends is None:
            return []
        key = (term.kind, term.needle)
        occs = self._cache.get(key)
        if occs is None:
            # An end is the needle's last character; the core leaves out the padding spaces.
            back = len(term.needle) - 1 - term.lead
            occs = [
                self.doc.occurrence(term.kind, end - back, end - back + term.width) for end in ends
            ]
            self._cache[key] = occs
        return occs


class Matcher:
    """A fixed set of named watches evaluated together against each article.

    `tags` maps a source name to its tags, for `tag:` terms.
    """

    __slots__ = ("_always", "_anchored", "_automata", "_filters", "_tags", "_watches")

    def __init__(
        self,
        watches: Iterable[tuple[str, CompiledQuery]],
        *,
        tags: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._watches = tuple(watches)
        self._tags = dict(tags or {})
        needles: tuple[set[str], set[str]] = (set(), set())
        required: tuple[list[str], list[str]] = ([], [])
        for _, query in self._watches:
            for term in query.terms:
                needles[term.kind].add(term.needle)
            for kind, needle in {(t.kind, t.needle) for need in query.required for t in need}:
                required[kind].append(needle)
        # How many watches require each needle: a needle many rules share is a poor anchor.
        # Counted by Counter's C loop: counting one by one calls __missing__ for every new one.
        shared = (Counter(required[FOLDED]), Counter(required[CASED]))
        self._automata = (_Automaton(needles[FOLDED]), _Automaton(needles[CASED]))

        def cost(need: tuple[Term, ...]) -> float:
            # A loop, not sum() over a generator: called for most sets of 100,000 rules.
            total = 0.0
            for t in need:
                total += t.cost * shared[t.kind][t.needle]
            return total

        self._anchored: tuple[dict[str, _Anchors], dict[str, _Anchors]] = ({}, {})
        always: list[int] = []
        filters: list[tuple[_NeedleSet, ...]] = []
        for i, (_, query) in enumerate(self._watches):
            passes = query.required
            if len(passes) == 2:  # common: sorted by one comparison, as sorted() would
                first, second = passes
                if cost(second) < cost(first):
                    first, second = second, first
                filters.append((_needle_set(second),))
            elif len(passes) > 2:
                first, second, third, *_ = sorted(passes, key=cost)
                filters.append((_needle_set(second), _needle_set(third)))
            elif passes:
                first = passes[0]
                filters.append(())
            else:
                always.append(i)
                filters.append(())
                continue
            for term in first:
                anchored = self._anchored[term.kind]
                anchors = anchored.get(term.needle)
                if anchors is None:
                    anchored[term.needle] = [(term.fields, [i])]
                else:
                    _anchor(anchors, term.fields, i)
        self._always = tuple(always)
        self._filters = tuple(filters)

    def __len__(self) -> int:
        return len(self._watches)

    def __repr__(self) -> str:
        return f"Matcher({[name for name, _ in self._watches]!r})"

    @property
    def watches(self) -> tuple[tuple[str, CompiledQuery], ...]:
        """The named compiled watches, in order."""
        return self._watches

    @property
    def unfiltered(self) -> list[str]:
        """Watches with no anchor, verified against every article."""
        return [self._watches[i][0] for i in self._always]

    def document(self, article: Article, tags: Sequence[str] | None = None) -> Document:
        """The article analysed, with `tags`, else its source's tags."""
        return document(article, self._tags.get(article.source, ()) if tags is None else tags)

    def scan(self, doc: Document) -> tuple[ScanLookup, list[int]]:
        """One scan of the document: its occurrences and the watches worth verifying."""
        found = (self._automata[FOLDED].scan(doc.folded), self._automata[CASED].scan(doc.cased))
        anchored_by: set[int] = set()
        names, segment = doc.fields, doc.segment
        for kind in (FOLDED, CASED):
            anchored = self._anchored[kind]
            for needle, ends in found[kind].items():
                anchors = anchored.get(needle)
                if anchors is None:
                    continue
                # A needle's last character lies in the field it was found in.
                seen = {names[segment(kind, end)] for end in ends}
                for fields, watches in anchors:
                    if not fields.isdisjoint(seen):
                        anchored_by.update(watches)
        folded, cased = found[FOLDED].keys(), found[CASED].keys()
        filters = self._filters
        candidates = [
            i
            for i in anchored_by
            if all(
                not folded.isdisjoint(need[FOLDED]) or not cased.isdisjoint(need[CASED])
                for need in filters[i]
            )
        ]
        candidates.extend(self._always)
        candidates.sort()
        return ScanLookup(doc, found), candidates

    def match(self, article: Article, tags: Sequence[str] | None = None) -> list[Match]:
        """One Match per watch that matches the article, in the order the watches were given.

        `tags` stand in for the source's tags when given."""
        lookup, found = self.matching(article, tags)
        return [explain(self._watches[i], lookup) for i in found]

    def matching(
        self, article: Article, tags: Sequence[str] | None = None
    ) -> tuple[ScanLookup, list[int]]:
        """Which watches match (their positions in `watches`), without explaining why: what
        `match` decides, at a fraction of its cost when only some hits need their `Match`
        (`explain` makes it from the lookup returned)."""
        lookup, candidates = self.scan(self.document(article, tags))
        watches = self._watches
        return lookup, [i for i in candidates if watches[i][1].plan.holds(lookup)]


def explain(watch: tuple[str, CompiledQuery], lookup: ScanLookup) -> Match:
    """The Match of a watch that `Matcher.matching` found, from the lookup it returned."""
    name, query = watch
    found = query.explain(name, lookup)
    assert found is not None  # holds and find agree
    return found


def build_matcher(
    watches: Iterable[tuple[str, str]],
    terms: Mapping[str, Sequence[str]],
    *,
    tags: Mapping[str, Sequence[str]] | None = None,
) -> Matcher:
    """Compile (name, query) pairs into one Matcher; raises QuerySyntaxError.

    The garbage collector is paused while the many small objects of the index are made (with
    100,000 rules it would otherwise scan them over and over, several times the build time).
    Keeping them out of its reach afterwards is the daemon's to do (monitor.app.heap).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return Matcher(((name, compile_query(q, terms)) for name, q in watches), tags=tags)
    finally:
        if enabled:
            gc.enable()


class NaiveMatcher(Matcher):
    """Every watch evaluated on its own by substring search: the reference for the index."""

    __slots__ = ()

    def match(self, article: Article, tags: Sequence[str] | None = None) -> list[Match]:
        """One Match per watch that matches the article, in the order the watches were given."""
        lookup = NaiveLookup(self.document(article, tags))
        return [
            found
            for name, query in self._watches
            if (found := query.explain(name, lookup)) is not None
        ]
