"""Turn a parsed query into an evaluation plan: resolve @lists and build a needle per term."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.errors import QuerySyntaxError
from monitor.query.engine import AllOf, AnyOf, CompiledQuery, Exclude, Pattern, Plan
from monitor.query.syntax import (
    And,
    Node,
    Not,
    Phrase,
    TermError,
    TermList,
    Word,
    parse,
    term_parts,
)
from monitor.text import is_cjk


def needle(parts: Sequence[str], prefix: bool) -> str:
    """The substring that finds these tokens in a `Document`, honouring word edges."""
    body = " ".join(parts)
    # A Latin edge must be a word boundary (a space); a CJK edge may run on into more CJK, so
    # 북한 finds 북한이 and 韩国 finds 中韩国际. A prefix term leaves its last word open.
    head = "" if is_cjk(body[0]) else " "
    tail = "" if prefix or is_cjk(body[-1]) else " "
    return f"{head}{body}{tail}"


class _Builder:
    def __init__(self, text: str, terms: Mapping[str, Sequence[str]]) -> None:
        self.text = text
        self.terms = terms
        self.labels: list[str] = []

    def pattern(self, raw: str, label: str) -> Pattern:
        parts, prefix = term_parts(raw)
        self.labels.append(label)
        return Pattern(len(self.labels) - 1, needle(parts, prefix))

    def build(self, node: Node) -> Plan:
        if isinstance(node, Word):
            return self.pattern(node.text, node.text)
        if isinstance(node, Phrase):
            return self.pattern(node.text, node.text.strip())
        if isinstance(node, TermList):
            return self.term_list(node)
        if isinstance(node, Not):
            return Exclude(self.build(node.operand))
        if isinstance(node, And):
            return AllOf(tuple(self.build(operand) for operand in node.operands))
        # Or is the only member of the Node union left.
        return AnyOf(tuple(self.build(operand) for operand in node.operands))

    def term_list(self, node: TermList) -> Plan:
        aliases = self.terms.get(node.name)
        if aliases is None:
            defined = ", ".join(self.terms) or "none"
            raise self.error(f"unknown term list @{node.name} (defined lists: {defined})", node)
        if isinstance(aliases, str):
            aliases = (aliases,)
        if not aliases:
            raise self.error(f"term list @{node.name} is empty", node)
        patterns: list[Plan] = []
        for alias in aliases:
            try:
                patterns.append(self.pattern(alias, alias.strip()))
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
    plan = builder.build(node)
    return CompiledQuery(text, node, plan, builder.labels)
