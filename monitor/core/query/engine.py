"""Evaluation plans: a compiled query as a tree of terms and operators over a `Document`.

Terms ask a `Lookup` for their occurrences, so the same plan runs over the occurrences an
index found in one scan of the article (`index.Matcher`) or over a plain substring search
(`NaiveLookup`, the reference the index is tested against).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from monitor.core.model import Article, Hit, Match
from monitor.core.query.document import Occurrence, document
from monitor.core.query.syntax import Node, parse
from monitor.core.query.terms import Found, Lookup, NaiveLookup, RegexTerm, Term, leaf_found


def by_cost(sets: list[tuple[Term, ...]]) -> list[tuple[Term, ...]]:
    """Required term sets, the best anchors (rarest needles) first."""
    if len(sets) < 2:  # most parts require one set: nothing to sort
        return sets
    return sorted(sets, key=lambda need: sum(t.cost for t in need))


# Not frozen, for the reason given at RegexTerm (terms.py): plans are built by the 100,000.
@dataclass(slots=True, eq=False)
class AllOf:
    """Matches when every part does."""

    parts: tuple[Plan, ...]

    def holds(self, ctx: Lookup) -> bool:
        """Whether every part matches."""
        return all(part.holds(ctx) for part in self.parts)

    def find(self, ctx: Lookup) -> Found | None:
        """The leaves that make this match, with their occurrences, or None."""
        found: Found = []
        for part in self.parts:
            hit = part.find(ctx)
            if hit is None:
                return None
            found.extend(hit)
        return found

    def required(self) -> list[tuple[Term, ...]]:
        """What every part requires, since every part must match."""
        return [need for part in self.parts for need in part.required()]


@dataclass(slots=True, eq=False)
class AnyOf:
    """Matches when at least one part does; reports every part that matched."""

    parts: tuple[Plan, ...]
    # Many rules share one OR group (see compile), so what it requires is worked out once.
    _required: list[tuple[Term, ...]] | None = field(default=None, init=False, repr=False)

    def holds(self, ctx: Lookup) -> bool:
        """Whether any part matches."""
        return any(part.holds(ctx) for part in self.parts)

    def find(self, ctx: Lookup) -> Found | None:
        """The leaves that make this match, with their occurrences, or None."""
        found: Found | None = None
        for part in self.parts:  # no short-circuit: every alternative found is reported
            hit = part.find(ctx)
            if hit is not None:
                found = hit if found is None else found + hit
        return found

    def occurrences(self, ctx: Lookup) -> list[Occurrence]:
        """The occurrences of every part (all parts are terms, see compile)."""
        return [o for part in self.parts for o in _positional(part).occurrences(ctx)]

    def required(self) -> list[tuple[Term, ...]]:
        """One set: the best required set of each part together (none if a part has none).
        Shared: callers must not change the list."""
        if self._required is None:
            self._required = self._find_required()
        return self._required

    def _find_required(self) -> list[tuple[Term, ...]]:
        found: list[Term] = []
        for part in self.parts:
            need = part.required()
            if not need:
                return []
            found.extend(by_cost(need)[0])
        return [tuple(found)]


@dataclass(slots=True, eq=False)
class Exclude:
    """Matches when its part does not; contributes no leaves."""

    part: Plan

    def holds(self, ctx: Lookup) -> bool:
        """Whether the part is absent."""
        return not self.part.holds(ctx)

    def find(self, ctx: Lookup) -> Found | None:
        """An empty list when the part is absent, else None."""
        return None if self.part.holds(ctx) else []

    def required(self) -> list[tuple[Term, ...]]:
        """Nothing: an absence needs no needle."""
        return []


Positional: TypeAlias = "Term | RegexTerm | AnyOf"


def _positional(plan: Plan) -> Positional:
    assert isinstance(plan, Term | RegexTerm | AnyOf)  # compile only builds these here
    return plan


@dataclass(slots=True, eq=False)
class Near:
    """Two operands with at most `distance` words between them, in either order."""

    index: int
    left: Positional
    right: Positional
    distance: int

    def pairs(self, ctx: Lookup) -> list[Occurrence]:
        """The occurrences of both sides that are near each other."""
        doc = ctx.doc
        rights = self.right.occurrences(ctx)
        if not rights:
            return []
        found: dict[Occurrence, None] = {}
        for a in self.left.occurrences(ctx):
            a0, a1 = doc.tokens_of(a)
            for b in rights:
                if b.segment != a.segment or b == a:
                    continue
                b0, b1 = doc.tokens_of(b)
                if max(b0 - a1, a0 - b1) - 1 <= self.distance:
                    found.update(((a, None), (b, None)))
        return list(found)

    def holds(self, ctx: Lookup) -> bool:
        """Whether some pair is near enough."""
        return bool(self.pairs(ctx))

    def find(self, ctx: Lookup) -> Found | None:
        """The NEAR clause, with the occurrences that were near each other, or None."""
        return leaf_found(self.index, self.pairs(ctx))

    def required(self) -> list[tuple[Term, ...]]:
        """What both sides require."""
        return self.left.required() + self.right.required()


@dataclass(slots=True, eq=False)
class Slop:
    """Phrase words within Lucene's slop: with p_i the position of word i, the spread of
    p_i - i is at most `slop` (so one extra word between costs 1, a swap of two costs 2)."""

    index: int
    terms: tuple[Term, ...]
    slop: int

    def window(self, ctx: Lookup) -> list[Occurrence]:
        """One occurrence per word making a match, or an empty list."""
        doc = ctx.doc
        placed: list[list[tuple[int, int, int, Occurrence]]] = []
        for i, term in enumerate(self.terms):
            occs = term.occurrences(ctx)
            if not occs:
                return []
            placed.append(
                [(o.segment, doc.tokens_of(o)[0] - i, doc.tokens_of(o)[0], o) for o in occs]
            )
        for segment, low in sorted({(p[0], p[1]) for word in placed for p in word}):
            chosen: list[Occurrence] = []
            used: set[int] = set()
            for word in placed:
                pick = next(
                    (
                        p
                        for p in word
                        if p[0] == segment and low <= p[1] <= low + self.slop and p[2] not in used
                    ),
                    None,
                )
                if pick is None:
                    break
                used.add(pick[2])
                chosen.append(pick[3])
            else:
                return chosen
        return []

    def holds(self, ctx: Lookup) -> bool:
        """Whether the words occur within the slop."""
        return bool(self.window(ctx))

    def find(self, ctx: Lookup) -> Found | None:
        """The phrase, with the occurrences of its words, or None."""
        return leaf_found(self.index, self.window(ctx))

    def required(self) -> list[tuple[Term, ...]]:
        """Every word of the phrase."""
        return [(term,) for term in self.terms]


@dataclass(slots=True, eq=False)
class AtLeast:
    """At least `count` mentions of its operand; overlapping occurrences count once."""

    index: int
    operand: Positional
    count: int

    def mentions(self, ctx: Lookup) -> list[Occurrence]:
        """One occurrence per mention, in text order."""
        occs = sorted(
            self.operand.occurrences(ctx), key=lambda o: (o.kind, o.segment, o.start, -o.end)
        )
        merged: list[Occurrence] = []
        for occ in occs:
            last = merged[-1] if merged else None
            if (
                last
                and (last.kind, last.segment) == (occ.kind, occ.segment)
                and occ.start < last.end
            ):
                continue
            merged.append(occ)
        return merged

    def holds(self, ctx: Lookup) -> bool:
        """Whether there are enough mentions."""
        return len(self.mentions(ctx)) >= self.count

    def find(self, ctx: Lookup) -> Found | None:
        """The clause, with every mention, or None."""
        occs = self.mentions(ctx)
        return [(self.index, occs)] if len(occs) >= self.count else None

    def required(self) -> list[tuple[Term, ...]]:
        """What the operand requires."""
        return self.operand.required()


Plan: TypeAlias = Term | RegexTerm | AllOf | AnyOf | Exclude | Near | Slop | AtLeast


class CompiledQuery:
    """A parsed query with its @lists resolved, ready to evaluate against articles.

    `labels[i]` is how leaf i is reported among a match's terms (a term as written, the alias
    of a list); `clauses[i]` how it is explained (with its field and list, if any). An article
    can only match if it holds a term of each set in `required`.
    """

    __slots__ = ("_node", "clauses", "labels", "plan", "required", "terms", "text")

    def __init__(
        self,
        text: str,
        node: Node | None,
        plan: Plan,
        labels: Sequence[str],
        clauses: Sequence[str],
        terms: Sequence[Term],
    ) -> None:
        self.text = text
        self._node = node
        self.plan = plan
        self.labels = tuple(labels)
        self.clauses = tuple(clauses)
        self.terms = tuple(terms)
        self.required = tuple(plan.required())

    def __repr__(self) -> str:
        return f"CompiledQuery({self.text!r})"

    @property
    def node(self) -> Node:
        """The query's syntax tree; parsed on first use if it was not given (a query compiled
        from the recipe of another query with the same shape is never parsed, see compile)."""
        if self._node is None:
            self._node = parse(self.text)
        return self._node

    def evaluate(self, article: Article, tags: Sequence[str] = ()) -> tuple[str, ...] | None:
        """None if the article does not match, else the positive terms found, in query order."""
        found = self.plan.find(NaiveLookup(document(article, tags)))
        if found is None:
            return None
        return tuple(dict.fromkeys(self.labels[i] for i in sorted({i for i, _ in found})))

    def explain(self, watch: str, ctx: Lookup) -> Match | None:
        """The Match for this watch with its terms and hits, or None if it does not match."""
        found = self.plan.find(ctx)
        if found is None:
            return None
        by_leaf: dict[int, list[Occurrence]] = {}
        for index, occs in found:
            by_leaf.setdefault(index, []).extend(occs)
        order = sorted(by_leaf)
        # One snippet per field, with every term found there marked, whichever clause found
        # it: hits in the same field share it instead of each repeating the field.
        in_field: dict[int, list[Occurrence]] = {}
        for occs in by_leaf.values():
            for occ in occs:
                in_field.setdefault(occ.segment, []).append(occ)
        snippets = {seg: ctx.doc.snippet(occs) for seg, occs in in_field.items()}
        hits = tuple(
            Hit(
                clause=self.clauses[i],
                field=ctx.doc.field(by_leaf[i][0]),
                snippet=snippets[by_leaf[i][0].segment],
            )
            for i in order
        )
        terms = tuple(dict.fromkeys(self.labels[i] for i in order))
        return Match(watch=watch, terms=terms, hits=hits)


__all__ = ["CompiledQuery", "Plan"]
