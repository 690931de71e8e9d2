"""Evaluation of compiled queries against articles, one watch or many at a time.

An article becomes one string of its folded tokens, each field padded with spaces, and every
term becomes a needle that is a plain substring test against it (see `compile.needle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NewType, TypeAlias

from monitor.model import Article, Match
from monitor.query.syntax import Node
from monitor.text import tokens

Document = NewType("Document", str)


def document(article: Article) -> Document:
    """The searchable form of an article: its title and summary tokens, space-separated."""
    # The fields are joined by two spaces; needles never hold two spaces in a row, so neither a
    # phrase nor a CJK term can match across the end of the title into the summary.
    title = " ".join(tokens(article.title))
    summary = " ".join(tokens(article.summary))
    return Document(f" {title}  {summary} ")


@dataclass(frozen=True, slots=True)
class Pattern:
    """One term as a needle; `index` orders it within the query for reporting."""

    index: int
    needle: str

    def find(self, doc: Document) -> list[int] | None:
        """The indexes of the positive patterns that make this match, or None."""
        return [self.index] if self.needle in doc else None

    def holds(self, doc: Document) -> bool:
        """Whether this pattern occurs in the document."""
        return self.needle in doc


@dataclass(frozen=True, slots=True)
class AllOf:
    """Matches when every part does."""

    parts: tuple[Plan, ...]

    def find(self, doc: Document) -> list[int] | None:
        """The indexes of the positive patterns that make this match, or None."""
        found: list[int] = []
        for part in self.parts:
            hit = part.find(doc)
            if hit is None:
                return None
            found.extend(hit)
        return found

    def holds(self, doc: Document) -> bool:
        """Whether every part matches."""
        return all(part.holds(doc) for part in self.parts)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Matches when at least one part does; reports the terms of every part that matched."""

    parts: tuple[Plan, ...]

    def find(self, doc: Document) -> list[int] | None:
        """The indexes of the positive patterns that make this match, or None."""
        found: list[int] | None = None
        # No short-circuit: every alternative that occurs is reported.
        for part in self.parts:
            hit = part.find(doc)
            if hit is not None:
                found = hit if found is None else found + hit
        return found

    def holds(self, doc: Document) -> bool:
        """Whether any part matches."""
        return any(part.holds(doc) for part in self.parts)


@dataclass(frozen=True, slots=True)
class Exclude:
    """Matches when its part does not; contributes no terms."""

    part: Plan

    def find(self, doc: Document) -> list[int] | None:
        """An empty list when the part is absent, else None."""
        return None if self.part.holds(doc) else []

    def holds(self, doc: Document) -> bool:
        """Whether the part is absent."""
        return not self.part.holds(doc)


Plan: TypeAlias = Pattern | AllOf | AnyOf | Exclude


class CompiledQuery:
    """A parsed query with its @lists resolved, ready to evaluate against articles."""

    __slots__ = ("_labels", "_plan", "node", "text")

    def __init__(self, text: str, node: Node, plan: Plan, labels: Sequence[str]) -> None:
        self.text = text
        self.node = node
        self._plan = plan
        self._labels = tuple(labels)

    def __repr__(self) -> str:
        return f"CompiledQuery({self.text!r})"

    def evaluate(self, article: Article) -> tuple[str, ...] | None:
        """None if the article does not match, else the positive terms found, in query order."""
        return self.evaluate_document(document(article))

    def evaluate_document(self, doc: Document) -> tuple[str, ...] | None:
        """Like `evaluate`, for an article already turned into a `Document`."""
        found = self._plan.find(doc)
        if found is None:
            return None
        return tuple(dict.fromkeys(self._labels[i] for i in sorted(set(found))))


class Matcher:
    """A fixed set of named watches evaluated together against each article."""

    __slots__ = ("_watches",)

    def __init__(self, watches: Iterable[tuple[str, CompiledQuery]]) -> None:
        self._watches = tuple(watches)

    def __len__(self) -> int:
        return len(self._watches)

    def __repr__(self) -> str:
        return f"Matcher({[name for name, _ in self._watches]!r})"

    def match(self, article: Article) -> list[Match]:
        """One Match per watch that matches the article, in the order the watches were given."""
        doc = document(article)
        matches: list[Match] = []
        for name, query in self._watches:
            terms = query.evaluate_document(doc)
            if terms is not None:
                matches.append(Match(watch=name, terms=terms))
        return matches
