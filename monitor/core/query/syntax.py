"""The syntax tree of a watch query, and the recursive-descent parser that builds it.

Grammar, loosest first (NEAR binds tighter than NOT, NOT than AND, AND than OR)::

    query   := or END
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*        # adjacent clauses are joined by an implicit AND
    unary   := ("NOT" | "-") unary | "ATLEAST/" N scoped | near
    near    := scoped ["NEAR/" N scoped]
    scoped  := FIELD ":" scoped | primary
    primary := WORD | '"' PHRASE '"' ["~" N] | "{" CASED "}" | "/" REGEX "/" | "@" NAME
             | "(" or ")"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from monitor.core.query.scan import Kind, Token, error, scan

# Nodes are values, equal and hashed by content (rules share OR groups, cached by node), and
# never changed once built; they are not frozen only because a frozen dataclass is built at
# twice the cost, and 100,000 rules make half a million nodes at start-up.


@dataclass(slots=True, unsafe_hash=True)
class Word:
    """A word as written (hyphens and apostrophes included); a trailing '*' makes it a prefix."""

    text: str
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class Phrase:
    """Words inside double quotes: consecutive, or with `slop` (Lucene's `"a b"~n`) when set."""

    text: str
    column: int = field(default=0, compare=False)
    slop: int | None = None


@dataclass(slots=True, unsafe_hash=True)
class Cased:
    """A word or words inside braces, matched with their case as written: `{US}`."""

    text: str
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class Regex:
    """A regular expression between slashes, run by RE2 (linear time), ignoring case."""

    pattern: str
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class Field:
    """Its operand, looked for only in one field of the article: `title:x`."""

    name: str
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class Near:
    """Both operands, with at most `distance` words between them, in either order."""

    left: Node
    right: Node
    distance: int
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class AtLeast:
    """At least `count` mentions of its operand (a term, a list or an OR of terms)."""

    count: int
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class TermList:
    """A reference `@name` to a named list of aliases, any one of which may match."""

    name: str
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class Not:
    """Matches when its operand does not (written `NOT x` or `-x`)."""

    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(slots=True, unsafe_hash=True)
class And:
    """Matches when every operand matches (explicit `AND` or adjacent clauses)."""

    operands: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class Or:
    """Matches when at least one operand matches."""

    operands: tuple[Node, ...]


Node: TypeAlias = Word | Phrase | Cased | Regex | TermList | Field | Near | AtLeast | Not | And | Or


# A step of the program that builds a tree: it takes its operands from the top of the stack
# and pushes the node it builds from token `arg` (or, for AND and OR, from `arg` operands).
Step: TypeAlias = tuple[Callable[[list[Node], list[Token], int], None], int]


def _word(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(Word(tokens[i].text, tokens[i].column))


def _phrase(stack: list[Node], tokens: list[Token], i: int) -> None:
    tok = tokens[i]
    stack.append(Phrase(tok.text, tok.column, tok.number))


def _cased(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(Cased(tokens[i].text, tokens[i].column))


def _regex(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(Regex(tokens[i].text, tokens[i].column))


def _list(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(TermList(tokens[i].text, tokens[i].column))


def _field(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(Field(tokens[i].text, stack.pop(), tokens[i].column))


def _not(stack: list[Node], tokens: list[Token], i: int) -> None:
    stack.append(Not(stack.pop(), tokens[i].column))


def _at_least(stack: list[Node], tokens: list[Token], i: int) -> None:
    tok = tokens[i]
    assert tok.number is not None  # the scanner always sets it
    stack.append(AtLeast(tok.number, stack.pop(), tok.column))


def _near(stack: list[Node], tokens: list[Token], i: int) -> None:
    tok = tokens[i]
    assert tok.number is not None  # the scanner always sets it
    right = stack.pop()
    stack.append(Near(stack.pop(), right, tok.number, tok.column))


def _and(stack: list[Node], tokens: list[Token], count: int) -> None:
    operands = tuple(stack[-count:])
    del stack[-count:]
    stack.append(And(operands))


def _or(stack: list[Node], tokens: list[Token], count: int) -> None:
    operands = tuple(stack[-count:])
    del stack[-count:]
    stack.append(Or(operands))


_LEAVES = {
    Kind.WORD: _word,
    Kind.PHRASE: _phrase,
    Kind.CASED: _cased,
    Kind.REGEX: _regex,
    Kind.LIST: _list,
}
_STARTS_CLAUSE = frozenset({*_LEAVES, Kind.FIELD, Kind.LPAREN, Kind.NOT, Kind.MINUS, Kind.ATLEAST})


def _describe(token: Token) -> str:
    if token.kind is Kind.MINUS:
        return "'-'"
    if token.kind is Kind.FIELD:
        return f"{token.text}:"
    return token.text if token.number is None else f"{token.text}/{token.number}"


class _Parser:
    """Checks a query's tokens against the grammar and writes the program that builds its
    tree, operands before operators. It decides on the kinds of the tokens alone, so one
    program builds the tree of every query whose tokens have the same kinds."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.program: list[Step] = []
        self.pos = 0
        self.tok = tokens[0]
        if self.tok.error is not None:
            raise self.tok.error

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind is not Kind.END:
            self.pos += 1
            self.tok = self.tokens[self.pos]
            if self.tok.error is not None:
                raise self.tok.error
        return tok

    def emit(self, make: Callable[[list[Node], list[Token], int], None], arg: int) -> None:
        self.program.append((make, arg))

    def parse(self) -> tuple[Step, ...]:
        if self.tok.kind is Kind.END:
            raise error(self.text, "empty query", 1)
        self.parse_or()
        if self.tok.kind is Kind.RPAREN:
            raise error(
                self.text, "unbalanced parenthesis: ')' has no matching '('", self.tok.column
            )
        return tuple(self.program)

    def parse_or(self) -> None:
        count = 1
        self.parse_and(None)
        while self.tok.kind is Kind.OR:
            self.parse_and(self.advance())
            count += 1
        if count > 1:
            self.emit(_or, count)

    def parse_and(self, after: Token | None) -> None:
        count = 1
        self.parse_unary(after)
        while True:
            if self.tok.kind is Kind.AND:
                self.parse_unary(self.advance())
            elif self.tok.kind in _STARTS_CLAUSE:
                self.parse_unary(None)
            else:
                break
            count += 1
        if count > 1:
            self.emit(_and, count)

    def parse_unary(self, after: Token | None) -> None:
        at = self.pos
        if self.tok.kind in (Kind.NOT, Kind.MINUS):
            self.parse_unary(self.advance())
            self.emit(_not, at)
            return
        if self.tok.kind is Kind.ATLEAST:
            self.parse_scoped(self.advance())
            self.emit(_at_least, at)
            # parse_scoped advanced self.tok; mypy still narrows it from the check above.
            if self.tok.kind is Kind.NEAR:  # type: ignore[comparison-overlap]
                raise error(
                    self.text,
                    "ATLEAST counts a term, a list or an OR of them, not a NEAR",
                    self.tok.column,
                )
            return
        if self.tok.kind is Kind.FIELD:
            self.parse_scoped(after)
        else:
            self.parse_primary(after)
        if self.tok.kind is not Kind.NEAR:
            return
        at = self.pos
        self.parse_scoped(self.advance())
        if self.tok.kind is Kind.NEAR:
            raise error(self.text, "NEAR joins two clauses; combine more with AND", self.tok.column)
        self.emit(_near, at)

    def parse_scoped(self, after: Token | None) -> None:
        if self.tok.kind is Kind.FIELD:
            at = self.pos
            self.parse_scoped(self.advance())
            self.emit(_field, at)
            return
        self.parse_primary(after)

    def parse_primary(self, after: Token | None) -> None:
        tok = self.tok
        make = _LEAVES.get(tok.kind)
        if make is not None:
            self.emit(make, self.pos)
            self.advance()
            return
        if tok.kind is Kind.LPAREN:
            self.parse_group()
            return
        if after is not None:
            raise error(self.text, f"{_describe(after)} needs a term after it", after.column)
        if tok.kind in (Kind.AND, Kind.OR, Kind.NEAR):
            raise error(self.text, f"{_describe(tok)} needs a term before it", tok.column)
        if tok.kind is Kind.RPAREN:
            raise error(self.text, "unbalanced parenthesis: ')' has no matching '('", tok.column)
        raise error(self.text, "expected a term", tok.column)

    def parse_group(self) -> None:
        opening = self.advance()
        if self.tok.kind is Kind.RPAREN:
            raise error(self.text, "empty parentheses", opening.column)
        if self.tok.kind is Kind.END:
            raise error(self.text, "unbalanced parenthesis: '(' is never closed", opening.column)
        self.parse_or()
        # parse_or advanced self.tok; mypy still narrows it from the checks above.
        if self.tok.kind is not Kind.RPAREN:  # type: ignore[comparison-overlap]
            raise error(self.text, "unbalanced parenthesis: '(' is never closed", opening.column)
        self.advance()


# Programs by the kinds of a query's tokens. Rules are written to a few patterns ("entity"
# AND (context OR list)), so with many rules most are built by a program already made,
# without parsing again. Bounded: a program is small, but the kinds of queries are not.
_PROGRAMS: dict[tuple[int, ...], tuple[Step, ...]] = {}
_MAX_PROGRAMS = 1 << 14


def parse(text: str) -> Node:
    """Parse a watch query into its syntax tree; raises QuerySyntaxError for any problem."""
    return parse_tokens(text)[0]


def parse_tokens(text: str) -> tuple[Node, list[Token]]:
    """`parse`, with the tokens the tree was built from."""
    tokens = scan(text)
    shape = tuple([tok[0] for tok in tokens])
    program = _PROGRAMS.get(shape)
    if program is None:
        # A query with an ERROR token never gets here: the parser raises on reaching it.
        program = _Parser(text, tokens).parse()
        if len(_PROGRAMS) >= _MAX_PROGRAMS:
            _PROGRAMS.clear()
        _PROGRAMS[shape] = program
    stack: list[Node] = []
    for make, arg in program:
        make(stack, tokens, arg)
    return stack[0], tokens


def _text_of(node: Node) -> str:
    if isinstance(node, Regex):
        return node.pattern
    if isinstance(node, TermList):
        return node.name
    assert isinstance(node, Word | Phrase | Cased)  # describe asks only for leaves
    return node.text


def describe(node: Node, text: Callable[[Node], str] = _text_of) -> str:
    """The node written back as query text, for explanations; `text` gives each leaf's term
    (a word, a phrase's words, a pattern, a list name)."""
    # The commonest first: many rules' NEAR and ATLEAST labels hold phrases and OR groups.
    if isinstance(node, Word):
        return text(node)
    if isinstance(node, Phrase):
        return f'"{text(node)}"' + ("" if node.slop is None else f"~{node.slop}")
    if isinstance(node, Or):
        return "(" + " OR ".join(describe(o, text) for o in node.operands) + ")"
    if isinstance(node, Cased):
        return f"{{{text(node)}}}"
    if isinstance(node, Regex):
        return f"/{text(node)}/"
    if isinstance(node, TermList):
        return f"@{text(node)}"
    if isinstance(node, Field):
        return f"{node.name}:{describe(node.operand, text)}"
    if isinstance(node, Near):
        return f"{describe(node.left, text)} NEAR/{node.distance} {describe(node.right, text)}"
    if isinstance(node, AtLeast):
        return f"ATLEAST/{node.count} {describe(node.operand, text)}"
    if isinstance(node, Not):
        return f"-{describe(node.operand, text)}"
    assert isinstance(node, And)  # every other kind of node is handled above
    return " ".join(describe(o, text) for o in node.operands)
