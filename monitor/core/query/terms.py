"""The leaves of an evaluation plan: a term's needle, a regular expression, and the `Lookup`
that finds their occurrences (`NaiveLookup` by plain substring search, the reference)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeAlias

from monitor.core.query.document import FOLDED, RAW, Document, Occurrence

Found: TypeAlias = list[tuple[int, list[Occurrence]]]


class Lookup(Protocol):
    """The occurrences of needles in one document."""

    doc: Document

    def find(self, term: Term) -> list[Occurrence]: ...


def leaf_found(index: int, occs: list[Occurrence]) -> Found | None:
    """What a leaf's `find` returns: its occurrences, or None when there are none."""
    return [(index, occs)] if occs else None


class NaiveLookup:
    """Finds each needle by searching the document string, term by term."""

    __slots__ = ("_cache", "doc")

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._cache: dict[tuple[int, str], list[Occurrence]] = {}

    def find(self, term: Term) -> list[Occurrence]:
        """Every occurrence of the term's needle, in any field."""
        key = (term.kind, term.needle)
        found = self._cache.get(key)
        if found is None:
            string = self.doc.folded if term.kind == FOLDED else self.doc.cased
            found = []
            pos = string.find(term.needle)
            while pos != -1:
                start = pos + term.lead
                found.append(self.doc.occurrence(term.kind, start, start + term.width))
                pos = string.find(term.needle, pos + 1)
            self._cache[key] = found
        return found


@lru_cache(maxsize=1 << 18)  # many terms of many rules share a needle
def _shape(needle: str) -> tuple[int, int, float]:
    """A needle's `lead`, `width` and `cost` (see `Term`)."""
    core = needle.strip(" ")
    lead = 1 if needle[0] == " " else 0
    return (
        lead,
        len(core),
        (1.0 if needle[-1] == " " else 1.5) / (len(core) * (4 if " " in core else 1)),
    )


class Term:
    """A word, phrase or prefix as a needle; `index` orders it within its query.

    `lead` is 1 if the needle starts with a padding space, `width` the length of its core;
    `cost` estimates how common it is (shorter words likelier, prefixes more, phrases least).
    """

    __slots__ = ("cost", "fields", "index", "kind", "lead", "needle", "width")

    def __init__(self, index: int, needle: str, kind: int, fields: frozenset[str]) -> None:
        self.index = index
        self.needle = needle
        self.kind = kind
        self.fields = fields
        self.lead, self.width, self.cost = _shape(needle)

    def __repr__(self) -> str:
        return f"Term({self.needle!r})"

    def occurrences(self, ctx: Lookup) -> list[Occurrence]:
        """The occurrences within the term's fields."""
        fields, names = self.fields, ctx.doc.fields
        return [o for o in ctx.find(self) if names[o.segment] in fields]

    def holds(self, ctx: Lookup) -> bool:
        """Whether the term occurs in one of its fields."""
        fields, names = self.fields, ctx.doc.fields
        return any(names[o.segment] in fields for o in ctx.find(self))

    def find(self, ctx: Lookup) -> Found | None:
        """The leaves that make this match, with their occurrences, or None."""
        return leaf_found(self.index, self.occurrences(ctx))

    def required(self) -> list[tuple[Term, ...]]:
        """Sets of terms such that every matching article holds one term of each set."""
        return [(self,)]


# Plans are never changed once built, but not frozen: a frozen dataclass is built at twice the
# cost, and 100,000 rules make hundreds of thousands of plan nodes at start-up.
@dataclass(slots=True, eq=False)
class RegexTerm:
    """A regular expression over the normalized text of its fields."""

    index: int
    regex: Any
    fields: frozenset[str]

    def occurrences(self, ctx: Lookup) -> list[Occurrence]:
        """Every non-empty match within the term's fields."""
        doc = ctx.doc
        return [
            Occurrence(RAW, seg, m.start(), m.end())
            for seg, text in enumerate(doc.normalized)
            if doc.fields[seg] in self.fields
            for m in self.regex.finditer(text)
            if m.end() > m.start()
        ]

    def holds(self, ctx: Lookup) -> bool:
        """Whether the expression matches some non-empty text."""
        return bool(self.occurrences(ctx))

    def find(self, ctx: Lookup) -> Found | None:
        """The leaves that make this match, with their occurrences, or None."""
        return leaf_found(self.index, self.occurrences(ctx))

    def required(self) -> list[tuple[Term, ...]]:
        """None: no needle is required for a regular expression to match."""
        return []
