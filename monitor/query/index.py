"""Many watches in one index: one multi-pattern scan per article, then only candidates verified.

Every needle of every watch goes into an Aho-Corasick automaton (one over the folded string,
one over the case-kept string), so an article is scanned once whatever the number of rules.
Each watch has anchors (`CompiledQuery.anchors`): needles one of which must occur for it to
match, phrases preferred. Only watches with an anchor found are verified, against the
occurrences the scan already collected (Lucene Monitor's presearcher). Watches without
anchors (only NOT, only regular expressions) are verified for every article.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import ahocorasick  # type: ignore[import-not-found]  # pyahocorasick ships no type information

from monitor.model import Article, Match
from monitor.query.document import CASED, FOLDED, Document, Occurrence, document
from monitor.query.engine import CompiledQuery, NaiveLookup, Term


class _Automaton:
    """All needles of one string kind; a scan returns every needle's end positions."""

    def __init__(self, needles: Iterable[str]) -> None:
        self._auto = ahocorasick.Automaton()
        for needle in needles:
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

    __slots__ = ("_always", "_anchored", "_automata", "_tags", "_watches")

    def __init__(
        self,
        watches: Iterable[tuple[str, CompiledQuery]],
        *,
        tags: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._watches = tuple(watches)
        self._tags = dict(tags or {})
        needles: tuple[set[str], set[str]] = (set(), set())
        anchored: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        always: list[int] = []
        for i, (_, query) in enumerate(self._watches):
            for term in query.terms:
                needles[term.kind].add(term.needle)
            if query.anchors is None:
                always.append(i)
                continue
            for term in query.anchors:
                watches_here = anchored[term.kind].setdefault(term.needle, [])
                if not watches_here or watches_here[-1] != i:
                    watches_here.append(i)
        self._automata = (_Automaton(needles[FOLDED]), _Automaton(needles[CASED]))
        self._anchored = anchored
        self._always = tuple(always)

    def __len__(self) -> int:
        return len(self._watches)

    def __repr__(self) -> str:
        return f"Matcher({[name for name, _ in self._watches]!r})"

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
        candidates = set(self._always)
        for kind in (FOLDED, CASED):
            anchored = self._anchored[kind]
            for needle in found[kind]:
                watches = anchored.get(needle)
                if watches is not None:
                    candidates.update(watches)
        return ScanLookup(doc, found), sorted(candidates)

    def match(self, article: Article, tags: Sequence[str] | None = None) -> list[Match]:
        """One Match per watch that matches the article, in the order the watches were given.

        `tags` stand in for the source's tags when given."""
        lookup, candidates = self.scan(self.document(article, tags))
        matches: list[Match] = []
        for i in candidates:
            name, query = self._watches[i]
            if query.plan.holds(lookup):
                found = query.explain(name, lookup)
                assert found is not None  # holds and find agree
                matches.append(found)
        return matches


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
