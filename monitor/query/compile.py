"""Turn a parsed query into an evaluation plan: resolve @lists, scope fields, build needles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

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
from monitor.query.syntax import (
    And,
    Cased,
    Field,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    TermError,
    TermList,
    Word,
    parse,
    term_parts,
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


def describe(node: Node) -> str:
    """The node written back as query text, for explanations."""
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'"{node.text}"' + ("" if node.slop is None else f"~{node.slop}")
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
    if isinstance(node, And):
        return " ".join(describe(o) for o in node.operands)
    return "(" + " OR ".join(describe(o) for o in node.operands) + ")"


def _column(node: Node) -> int:
    if isinstance(node, And | Or):
        return _column(node.operands[0])
    return node.column


def _is_positional(plan: Plan, regex_ok: bool) -> bool:
    if isinstance(plan, AnyOf):
        return all(_is_positional(part, regex_ok) for part in plan.parts)
    return isinstance(plan, Term) or (regex_ok and isinstance(plan, RegexTerm))


class _Builder:
    def __init__(self, text: str, terms: Mapping[str, Sequence[str]]) -> None:
        self.text = text
        self.terms = terms
        self.labels: list[str] = []
        self.clauses: list[str] = []
        self.leaves: list[Term] = []

    def leaf(self, label: str, clause: str) -> int:
        self.labels.append(label)
        self.clauses.append(clause)
        return len(self.labels) - 1

    def term(self, index: int, raw: str, kind: int, fields: frozenset[str]) -> Term:
        parts, prefix = term_parts(raw, cased=kind == CASED)
        term = Term(index, needle(parts, prefix), kind, fields)
        self.leaves.append(term)
        return term

    def pattern(
        self, raw: str, label: str, scope: tuple[frozenset[str], str], kind: int = FOLDED
    ) -> Term:
        fields, prefix = scope
        return self.term(self.leaf(label, prefix + label), raw, kind, fields)

    def build(self, node: Node, scope: tuple[frozenset[str], str]) -> Plan:
        if isinstance(node, Word):
            return self.pattern(node.text, node.text, scope)
        if isinstance(node, Phrase):
            return self.phrase(node, scope)
        if isinstance(node, Cased):
            return self.pattern(node.text, describe(node), scope, CASED)
        if isinstance(node, Regex):
            index = self.leaf(describe(node), scope[1] + describe(node))
            return RegexTerm(index, compile_regex(node.pattern), scope[0])
        if isinstance(node, TermList):
            return self.term_list(node, scope)
        if isinstance(node, Field):
            return self.build(node.operand, (frozenset({node.name}), f"{node.name}:"))
        if isinstance(node, NearNode):
            left = self.operand(node.left, scope, "NEAR", regex_ok=False)
            right = self.operand(node.right, scope, "NEAR", regex_ok=False)
            index = self.leaf(describe(node), scope[1] + describe(node))
            return Near(index, left, right, node.distance)
        if isinstance(node, AtLeastNode):
            operand = self.operand(node.operand, scope, "ATLEAST", regex_ok=True)
            index = self.leaf(describe(node), scope[1] + describe(node))
            return AtLeast(index, operand, node.count)
        if isinstance(node, Not):
            return Exclude(self.build(node.operand, scope))
        parts = tuple(self.build(operand, scope) for operand in node.operands)
        return AllOf(parts) if isinstance(node, And) else AnyOf(parts)

    def phrase(self, node: Phrase, scope: tuple[frozenset[str], str]) -> Plan:
        parts, prefix = term_parts(node.text)
        if node.slop is None or len(parts) == 1:
            return self.pattern(node.text, node.text.strip(), scope)
        index = self.leaf(describe(node), scope[1] + describe(node))
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


def compile_query(text: str, terms: Mapping[str, Sequence[str]]) -> CompiledQuery:
    """Parse a query and resolve its @lists against `terms`; raises QuerySyntaxError."""
    node = parse(text)
    builder = _Builder(text, terms)
    plan = builder.build(node, (TEXT_FIELDS, ""))
    return CompiledQuery(text, node, plan, builder.labels, builder.clauses, builder.leaves)
