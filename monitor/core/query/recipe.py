"""What a query's recipe builds into: the rule under construction (`Rule`), with its leaves
and labels, the field scope of its terms, and the parts of plans that rules share."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import cache
from typing import Any, TypeAlias

from monitor.core.query.document import CASED, FOLDED
from monitor.core.query.engine import Plan
from monitor.core.query.scan import term_needle
from monitor.core.query.terms import Term

Scope: TypeAlias = tuple[frozenset[str], str]  # the fields a term looks in, its clause prefix


@cache  # one per field name
def field_scope(name: str) -> Scope:
    """The scope of terms under `name:`."""
    return frozenset({name}), f"{name}:"


class Rule:
    """One query as its recipe builds it: its text, the text of each unit's term (`slots`,
    see `scan.units`), the term lists, and the leaves made so far, numbered from `first`."""

    __slots__ = ("clauses", "first", "labels", "leaves", "slots", "terms", "text")

    def __init__(
        self,
        text: str,
        slots: Sequence[str],
        terms: Mapping[str, Sequence[str]],
        first: int = 0,
    ) -> None:
        self.text = text
        self.slots = slots
        self.terms = terms
        self.first = first
        self.labels: list[str] = []
        self.clauses: list[str] = []
        self.leaves: list[Term] = []

    def leaf(self, label: str, clause: str) -> int:
        """Number a new leaf reported as `label` and explained as `clause`."""
        self.labels.append(label)
        self.clauses.append(clause)
        return self.first + len(self.labels) - 1

    def share(self, part: Shared) -> Plan:
        """Add a part built apart (see shared) to this query's leaves; its plan."""
        plan, labels, clauses, leaves = part
        self.labels += labels
        self.clauses += clauses
        self.leaves += leaves
        return plan

    def pattern(self, raw: str, label: str, scope: Scope, kind: int = FOLDED) -> Term:
        # `leaf` and a Term in one: most leaves of most rules come through here.
        fields, prefix = scope
        labels = self.labels
        labels.append(label)
        self.clauses.append(prefix + label)
        term = Term(self.first + len(labels) - 1, term_needle(raw, kind == CASED), kind, fields)
        self.leaves.append(term)
        return term


# A recipe's step: builds the plan of one node of the tree for a query with that tree's shape.
Maker: TypeAlias = Callable[[Rule], Plan]
# Unit (token) index by column in the text, for the leaves of the tree a recipe is made from.
Units: TypeAlias = Mapping[int, int]

# A part of a plan that rules share: its plan, and the labels, clauses and leaves it adds.
Shared: TypeAlias = tuple[Plan, list[str], list[str], list[Term]]
# Parts rules share, OR groups of plain terms and @lists, by what they are made of and the
# number of their first leaf; see shared. Apart, so that rules with @lists of their own do
# not crowd out the groups they share. Bounded: rules may share nothing.
SHARED_GROUPS: dict[Hashable, Shared] = {}
SHARED_LISTS: dict[Hashable, Shared] = {}
_MAX_SHARED = 1 << 12


def shared(
    rule: Rule,
    cache: dict[Hashable, Shared],
    key: Hashable,
    build: Callable[..., Plan],
    *args: Any,
) -> Plan:
    """The part of the plan `build(rule, *args)` makes, made once for every query that has
    it with the same key (which holds the number of its first leaf) and shared by all of
    them: rules repeat their context lists (`(trade OR deal* OR tariff*)`) and @lists."""
    part = cache.get(key)
    if part is None:
        # Raises as building the part in place would, and then keeps nothing.
        alone = Rule(rule.text, rule.slots, rule.terms, rule.first + len(rule.labels))
        part = (build(alone, *args), alone.labels, alone.clauses, alone.leaves)
        if len(cache) >= _MAX_SHARED:
            cache.clear()
        cache[key] = part
    return rule.share(part)
