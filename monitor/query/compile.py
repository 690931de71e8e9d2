"""Turn a parsed query into an evaluation plan: resolve @lists, scope fields, build needles."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from monitor.errors import QuerySyntaxError
from monitor.query.document import CASED, FOLDED, TEXT_FIELDS
from monitor.query.engine import (
    AllOf,
    AnyOf,
    AtLeast,
    CompiledQuery,
    Exclude,
    Near,
    Plan,
    RegexTerm,
    Slop,
    Term,
)
from monitor.query.regex import compile_regex
from monitor.query.scan import TermError, term_parts
from monitor.query.syntax import (
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
    parse,
)
from monitor.query.syntax import AtLeast as AtLeastNode
from monitor.query.syntax import Near as NearNode
from monitor.text import is_cjk


@lru_cache(maxsize=1 << 18)
def needle(parts: tuple[str, ...], prefix: bool) -> str:
    """The substring that finds these tokens in a `Document`, honouring word edges."""
    body = " ".join(parts)
    # A Latin edge must be a word boundary (a space); a CJK edge may run on into more CJK, so
    # 북한 finds 북한이 and 韩国 finds 中韩国际. A prefix term leaves its last word open.
    head = "" if is_cjk(body[0]) else " "
    tail = "" if prefix or is_cjk(body[-1]) else " "
    return f"{head}{body}{tail}"


@lru_cache(maxsize=1 << 18)  # rules share terms and list aliases
def term_needle(raw: str, cased: bool) -> str:
    """The needle of a term as written (see `needle`); raises TermError."""
    return needle(*term_parts(raw, cased=cased))


@cache  # one per field name
def _field_scope(name: str) -> tuple[frozenset[str], str]:
    return frozenset({name}), f"{name}:"


def describe(node: Node) -> str:
    """The node written back as query text, for explanations."""
    # The commonest first: many rules' NEAR and ATLEAST labels hold phrases and OR groups.
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'"{node.text}"' + ("" if node.slop is None else f"~{node.slop}")
    if isinstance(node, Or):
        return "(" + " OR ".join(describe(o) for o in node.operands) + ")"
    if isinstance(node, Cased):
        return f"{{{node.text}}}"
    if isinstance(node, Regex):
        return f"/{node.pattern}/"
    if isinstance(node, TermList):
        return f"@{node.name}"
    if isinstance(node, Field):
        return f"{node.name}:{describe(node.operand)}"
    if isinstance(node, NearNode):
        return f"{describe(node.left)} NEAR/{node.distance} {describe(node.right)}"
    if isinstance(node, AtLeastNode):
        return f"ATLEAST/{node.count} {describe(node.operand)}"
    if isinstance(node, Not):
        return f"-{describe(node.operand)}"
    assert isinstance(node, And)  # every other kind of node is handled above
    return " ".join(describe(o) for o in node.operands)


def _column(node: Node) -> int:
    if isinstance(node, And | Or):
        return _column(node.operands[0])
    return node.column


def _is_positional(plan: Plan, regex_ok: bool) -> bool:
    if isinstance(plan, AnyOf):
        return all(_is_positional(part, regex_ok) for part in plan.parts)
    return isinstance(plan, Term) or (regex_ok and isinstance(plan, RegexTerm))


class _Builder:
    """Builds one plan; its leaves are numbered from `first`."""

    def __init__(self, text: str, terms: Mapping[str, Sequence[str]], first: int = 0) -> None:
        self.text = text
        self.terms = terms
        self.first = first
        self.labels: list[str] = []
        self.clauses: list[str] = []
        self.leaves: list[Term] = []

    def leaf(self, label: str, clause: str) -> int:
        self.labels.append(label)
        self.clauses.append(clause)
        return self.first + len(self.labels) - 1

    def term(self, index: int, raw: str, kind: int, fields: frozenset[str]) -> Term:
        term = Term(index, term_needle(raw, kind == CASED), kind, fields)
        self.leaves.append(term)
        return term

    def pattern(
        self, raw: str, label: str, scope: tuple[frozenset[str], str], kind: int = FOLDED
    ) -> Term:
        # `leaf` and `term` in one: most leaves of most rules come through here.
        fields, prefix = scope
        labels = self.labels
        labels.append(label)
        self.clauses.append(prefix + label)
        term = Term(self.first + len(labels) - 1, term_needle(raw, kind == CASED), kind, fields)
        self.leaves.append(term)
        return term

    def build(self, node: Node, scope: tuple[frozenset[str], str]) -> Plan:
        # Dispatch on the exact type: the node classes have no subclasses.
        return _BUILD[type(node)](self, node, scope)

    def word(self, node: Word, scope: tuple[frozenset[str], str]) -> Plan:
        return self.pattern(node.text, node.text, scope)

    def cased(self, node: Cased, scope: tuple[frozenset[str], str]) -> Plan:
        return self.pattern(node.text, describe(node), scope, CASED)

    def regex(self, node: Regex, scope: tuple[frozenset[str], str]) -> Plan:
        label = describe(node)
        index = self.leaf(label, scope[1] + label)
        return RegexTerm(index, compile_regex(node.pattern), scope[0])

    def field(self, node: Field, scope: tuple[frozenset[str], str]) -> Plan:
        return self.build(node.operand, _field_scope(node.name))

    def near(self, node: NearNode, scope: tuple[frozenset[str], str]) -> Plan:
        left = self.operand(node.left, scope, "NEAR", regex_ok=False)
        right = self.operand(node.right, scope, "NEAR", regex_ok=False)
        label = describe(node)
        return Near(self.leaf(label, scope[1] + label), left, right, node.distance)

    def at_least(self, node: AtLeastNode, scope: tuple[frozenset[str], str]) -> Plan:
        operand = self.operand(node.operand, scope, "ATLEAST", regex_ok=True)
        label = describe(node)
        return AtLeast(self.leaf(label, scope[1] + label), operand, node.count)

    def exclude(self, node: Not, scope: tuple[frozenset[str], str]) -> Plan:
        return Exclude(self.build(node.operand, scope))

    def all_of(self, node: And, scope: tuple[frozenset[str], str]) -> Plan:
        return AllOf(tuple([self.build(operand, scope) for operand in node.operands]))

    def any_of(self, node: Or, scope: tuple[frozenset[str], str]) -> Plan:
        if all(type(operand) in _PLAIN for operand in node.operands):
            plan, labels, clauses, leaves = _plain_group(node, scope, self.first + len(self.labels))
            self.labels += labels
            self.clauses += clauses
            self.leaves += leaves
            return plan
        return AnyOf(tuple([self.build(operand, scope) for operand in node.operands]))

    def phrase(self, node: Phrase, scope: tuple[frozenset[str], str]) -> Plan:
        if node.slop is None:
            return self.pattern(node.text, node.text.strip(), scope)
        parts, prefix = term_parts(node.text)
        if len(parts) == 1:
            return self.pattern(node.text, node.text.strip(), scope)
        label = describe(node)
        index = self.leaf(label, scope[1] + label)
        words = tuple(
            Term(index, needle((part,), prefix and i == len(parts) - 1), FOLDED, scope[0])
            for i, part in enumerate(parts)
        )
        self.leaves.extend(words)
        return Slop(index, words, node.slop)

    def operand(
        self, node: Node, scope: tuple[frozenset[str], str], op: str, *, regex_ok: bool
    ) -> Term | RegexTerm | AnyOf:
        plan = self.build(node, scope)
        if not isinstance(plan, Term | RegexTerm | AnyOf) or not _is_positional(plan, regex_ok):
            kinds = "terms, @lists and (a OR b) groups of them" + (
                "" if regex_ok else " (no regular expressions)"
            )
            raise QuerySyntaxError(
                f"{op} applies to {kinds}", query=self.text, column=_column(node)
            )
        return plan

    def term_list(self, node: TermList, scope: tuple[frozenset[str], str]) -> Plan:
        aliases = self.terms.get(node.name)
        if aliases is None:
            defined = ", ".join(self.terms) or "none"
            raise self.error(f"unknown term list @{node.name} (defined lists: {defined})", node)
        if isinstance(aliases, str):
            aliases = (aliases,)
        if not aliases:
            raise self.error(f"term list @{node.name} is empty", node)
        fields, prefix = scope
        patterns: list[Plan] = []
        for alias in aliases:
            label = alias.strip()
            try:
                index = self.leaf(label, f"{prefix}@{node.name} ({label})")
                patterns.append(self.term(index, alias, FOLDED, fields))
            except TermError as exc:
                message = f"term list @{node.name}: {exc.message}"
                if exc.offset is not None:
                    message += f" (alias {alias!r})"
                raise self.error(message, node) from None
        return patterns[0] if len(patterns) == 1 else AnyOf(tuple(patterns))

    def error(self, message: str, node: TermList) -> QuerySyntaxError:
        return QuerySyntaxError(message, query=self.text, column=node.column)


_BUILD: dict[type, Callable[[_Builder, Any, tuple[frozenset[str], str]], Plan]] = {
    Word: _Builder.word,
    Phrase: _Builder.phrase,
    Cased: _Builder.cased,
    Regex: _Builder.regex,
    TermList: _Builder.term_list,
    Field: _Builder.field,
    NearNode: _Builder.near,
    AtLeastNode: _Builder.at_least,
    Not: _Builder.exclude,
    And: _Builder.all_of,
    Or: _Builder.any_of,
}


# Terms whose plan depends on nothing but the term and its scope (no @list, no regex).
_PLAIN = frozenset({Word, Phrase, Cased})


@lru_cache(maxsize=1 << 12)
def _plain_group(
    node: Or, scope: tuple[frozenset[str], str], first: int
) -> tuple[AnyOf, tuple[str, ...], tuple[str, ...], tuple[Term, ...]]:
    """An OR of plain terms, built once and shared by every query that has it at the same
    leaf number: rules repeat their context lists (`(trade OR deal* OR tariff*)`). Its
    terms were checked when the query was scanned, so building it raises nothing."""
    builder = _Builder("", {}, first)
    plan = AnyOf(tuple([builder.build(operand, scope) for operand in node.operands]))
    return plan, tuple(builder.labels), tuple(builder.clauses), tuple(builder.leaves)


def compile_query(text: str, terms: Mapping[str, Sequence[str]]) -> CompiledQuery:
    """Parse a query and resolve its @lists against `terms`; raises QuerySyntaxError."""
    node = parse(text)
    builder = _Builder(text, terms)
    plan = builder.build(node, (TEXT_FIELDS, ""))
    return CompiledQuery(text, node, plan, builder.labels, builder.clauses, builder.leaves)
