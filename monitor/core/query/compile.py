"""Turn a parsed query into an evaluation plan: resolve @lists, scope fields, build needles.

A query's syntax tree becomes a recipe: closures that build the plan from the query's terms
(`slots`). Rules are written to a few patterns ("entity" AND (context OR list)), so most
queries differ from one compiled before only in their terms: their units (`scan.units`,
read in one regex call) are a key to that query's recipe, and they compile without being
scanned token by token, parsed or given a syntax tree (`CompiledQuery.node` parses on demand).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

from monitor.core.errors import QuerySyntaxError
from monitor.core.query.document import CASED, FOLDED, TEXT_FIELDS
from monitor.core.query.engine import (
    AllOf,
    AnyOf,
    AtLeast,
    CompiledQuery,
    Exclude,
    Near,
    Plan,
    Slop,
)
from monitor.core.query.recipe import (
    SHARED_GROUPS,
    SHARED_LISTS,
    Maker,
    Rule,
    Scope,
    Units,
    field_scope,
    shared,
)
from monitor.core.query.regex import compile_regex
from monitor.core.query.scan import TermError, needle, term_needle, term_parts, token_units, units
from monitor.core.query.syntax import (
    And,
    Cased,
    Field,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    TermList,
    Word,
    describe,
    parse_tokens,
)
from monitor.core.query.syntax import AtLeast as AtLeastNode
from monitor.core.query.syntax import Near as NearNode
from monitor.core.query.terms import RegexTerm, Term


def _column(node: Node) -> int:
    if isinstance(node, And | Or):
        return _column(node.operands[0])
    return node.column


def _is_positional(plan: Plan, regex_ok: bool) -> bool:
    if isinstance(plan, AnyOf):
        return all(_is_positional(part, regex_ok) for part in plan.parts)
    return isinstance(plan, Term) or (regex_ok and isinstance(plan, RegexTerm))


def _maker(node: Node, scope: Scope, unit_at: Units) -> Maker:
    # Dispatch on the exact type: the node classes have no subclasses.
    return _MAKERS[type(node)](node, scope, unit_at)


def _word(node: Word, scope: Scope, unit_at: Units) -> Maker:
    unit = unit_at[node.column]

    def make(rule: Rule) -> Plan:
        text = rule.slots[unit]
        return rule.pattern(text, text, scope)

    return make


def _cased(node: Cased, scope: Scope, unit_at: Units) -> Maker:
    unit = unit_at[node.column]

    def make(rule: Rule) -> Plan:
        text = rule.slots[unit]
        return rule.pattern(text, f"{{{text}}}", scope, CASED)

    return make


def _regex(node: Regex, scope: Scope, unit_at: Units) -> Maker:
    unit = unit_at[node.column]
    fields, prefix = scope

    def make(rule: Rule) -> Plan:
        pattern = rule.slots[unit]
        label = f"/{pattern}/"
        return RegexTerm(rule.leaf(label, prefix + label), compile_regex(pattern), fields)

    return make


def _phrase(node: Phrase, scope: Scope, unit_at: Units) -> Maker:
    unit, slop = unit_at[node.column], node.slop
    if slop is None:

        def make(rule: Rule) -> Plan:
            text = rule.slots[unit]
            return rule.pattern(text, text.strip(), scope)

        return make
    fields, prefix = scope

    def make_slop(rule: Rule) -> Plan:
        text = rule.slots[unit]
        parts, star = term_parts(text)
        if len(parts) == 1:
            return rule.pattern(text, text.strip(), scope)
        label = f'"{text}"~{slop}'
        index = rule.leaf(label, prefix + label)
        last = len(parts) - 1
        words = tuple(
            Term(index, needle((part,), star and i == last), FOLDED, fields)
            for i, part in enumerate(parts)
        )
        rule.leaves.extend(words)
        return Slop(index, words, slop)

    return make_slop


def _field(node: Field, scope: Scope, unit_at: Units) -> Maker:
    return _maker(node.operand, field_scope(node.name), unit_at)


def _label(node: Node, unit_at: Units) -> str:
    """A format string that makes the label of `node` from a query's slots."""
    parts = describe(node, lambda leaf: f"\0{unit_at[leaf.column]}\0").split("\0")  # type: ignore[union-attr]  # a leaf
    return "".join(
        "{" + part + "}" if i % 2 else part.replace("{", "{{").replace("}", "}}")
        for i, part in enumerate(parts)
    )


def _operand(node: Node, scope: Scope, unit_at: Units, op: str, *, regex_ok: bool) -> Maker:
    """The maker of a NEAR's or an ATLEAST's operand, checking that it is positional (whether
    it is may depend on the terms: a phrase with slop is positional if it has one word)."""
    make = _maker(node, scope, unit_at)
    column = _column(node)

    def make_checked(rule: Rule) -> Plan:
        plan = make(rule)
        if not isinstance(plan, Term | RegexTerm | AnyOf) or not _is_positional(plan, regex_ok):
            kinds = "terms, @lists and (a OR b) groups of them" + (
                "" if regex_ok else " (no regular expressions)"
            )
            raise QuerySyntaxError(f"{op} applies to {kinds}", query=rule.text, column=column)
        return plan

    return make_checked


def _near(node: NearNode, scope: Scope, unit_at: Units) -> Maker:
    left = _operand(node.left, scope, unit_at, "NEAR", regex_ok=False)
    right = _operand(node.right, scope, unit_at, "NEAR", regex_ok=False)
    label, prefix, distance = _label(node, unit_at), scope[1], node.distance

    def make(rule: Rule) -> Plan:
        first, second = left(rule), right(rule)
        text = label.format(*rule.slots)
        index = rule.leaf(text, prefix + text)
        return Near(index, first, second, distance)  # type: ignore[arg-type]  # see _operand

    return make


def _at_least(node: AtLeastNode, scope: Scope, unit_at: Units) -> Maker:
    operand = _operand(node.operand, scope, unit_at, "ATLEAST", regex_ok=True)
    label, prefix, count = _label(node, unit_at), scope[1], node.count

    def make(rule: Rule) -> Plan:
        plan = operand(rule)
        text = label.format(*rule.slots)
        index = rule.leaf(text, prefix + text)
        return AtLeast(index, plan, count)  # type: ignore[arg-type]  # see _operand

    return make


def _exclude(node: Not, scope: Scope, unit_at: Units) -> Maker:
    part = _maker(node.operand, scope, unit_at)
    return lambda rule: Exclude(part(rule))


def _all_of(node: And, scope: Scope, unit_at: Units) -> Maker:
    parts = [_maker(operand, scope, unit_at) for operand in node.operands]
    if len(parts) == 2:  # most ANDs: a tuple made at once, not from a list
        one, two = parts
        return lambda rule: AllOf((one(rule), two(rule)))
    return lambda rule: AllOf(tuple([part(rule) for part in parts]))


# Terms whose plan depends on nothing but the term and its scope (no @list, no regex).
_PLAIN = frozenset({Word, Phrase, Cased})


def _any_of(node: Or, scope: Scope, unit_at: Units) -> Maker:
    parts = [_maker(operand, scope, unit_at) for operand in node.operands]
    if any(type(operand) not in _PLAIN for operand in node.operands):
        return lambda rule: AnyOf(tuple([part(rule) for part in parts]))
    return _plain_group(node, parts, scope, unit_at)


def _plain_group(node: Or, parts: list[Maker], scope: Scope, unit_at: Units) -> Maker:
    """An OR of plain terms, shared by every query that has it at the same leaf number."""
    kinds = (tuple((type(o), getattr(o, "slop", None)) for o in node.operands), scope)
    texts = itemgetter(*[unit_at[o.column] for o in node.operands])  # type: ignore[union-attr]  # an OR has 2 or more

    def build(rule: Rule) -> Plan:
        return AnyOf(tuple([part(rule) for part in parts]))

    def make(rule: Rule) -> Plan:
        first = rule.first + len(rule.labels)
        return shared(rule, SHARED_GROUPS, (kinds, texts(rule.slots), first), build)

    return make


def _term_list(node: TermList, scope: Scope, unit_at: Units) -> Maker:
    unit, column = unit_at[node.column], node.column
    fields, prefix = scope

    def expand(rule: Rule, name: str, aliases: tuple[str, ...]) -> Plan:
        patterns: list[Plan] = []
        leaves = rule.leaves
        for alias in aliases:
            label = alias.strip()
            try:
                index = rule.leaf(label, f"{prefix}@{name} ({label})")
                term = Term(index, term_needle(alias, False), FOLDED, fields)
            except TermError as exc:
                message = f"term list @{name}: {exc.message}"
                if exc.offset is not None:
                    message += f" (alias {alias!r})"
                raise QuerySyntaxError(message, query=rule.text, column=column) from None
            leaves.append(term)
            patterns.append(term)
        return patterns[0] if len(patterns) == 1 else AnyOf(tuple(patterns))

    def make(rule: Rule) -> Plan:
        name = rule.slots[unit]
        aliases = rule.terms.get(name)
        if aliases is None:
            defined = ", ".join(rule.terms) or "none"
            raise QuerySyntaxError(
                f"unknown term list @{name} (defined lists: {defined})",
                query=rule.text,
                column=column,
            )
        if isinstance(aliases, str):
            aliases = (aliases,)
        if not aliases:
            raise QuerySyntaxError(f"term list @{name} is empty", query=rule.text, column=column)
        aliases = tuple(aliases)
        key = (name, aliases, scope, rule.first + len(rule.labels))
        return shared(rule, SHARED_LISTS, key, expand, name, aliases)

    return make


_MAKERS: dict[type, Callable[[Any, Scope, Units], Maker]] = {
    Word: _word,
    Phrase: _phrase,
    Cased: _cased,
    Regex: _regex,
    TermList: _term_list,
    Field: _field,
    NearNode: _near,
    AtLeastNode: _at_least,
    Not: _exclude,
    And: _all_of,
    Or: _any_of,
}

# Recipes by the key of the units of the queries they were made for (see compile_query).
# Bounded: a recipe is small, but the shapes of queries are not.
_RECIPES: dict[Hashable, Maker] = {}
_MAX_RECIPES = 1 << 14


def _compiled(
    make: Maker,
    text: str,
    slots: Sequence[str | None],
    terms: Mapping[str, Sequence[str]],
    node: Node | None,
) -> CompiledQuery:
    # A unit that is no term has no text (None), and no maker reads it.
    rule = Rule(text, cast("Sequence[str]", slots), terms)
    plan = make(rule)
    return CompiledQuery(text, node, plan, rule.labels, rule.clauses, rule.leaves)


def compile_query(text: str, terms: Mapping[str, Sequence[str]]) -> CompiledQuery:
    """Parse a query and resolve its @lists against `terms`; raises QuerySyntaxError."""
    found = units(text)
    if found is not None:
        make = _RECIPES.get(found[0])
        if make is not None:
            # The query reads as one that compiled, but for its terms: a term without letters
            # or an unknown @list fails here, and is reported by the full path below.
            try:
                return _compiled(make, text, found[1], terms, None)
            except (QuerySyntaxError, TermError):
                pass
    node, tokens = parse_tokens(text)
    key, slots = token_units(tokens)
    make = _maker(node, (TEXT_FIELDS, ""), {tok.column: i for i, tok in enumerate(tokens)})
    compiled = _compiled(make, text, slots, terms, node)
    # Every query with these units is scanned and parsed as this one was but for the text
    # of its terms (see scan.units): it can skip both, if `units` read this one as `scan` did.
    if found is not None and (key, slots) == found:
        if len(_RECIPES) >= _MAX_RECIPES:
            _RECIPES.clear()
        _RECIPES[key] = make
    return compiled
