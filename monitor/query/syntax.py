"""Tokenizer and recursive-descent parser for the watch-rule language.

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

import re
from dataclasses import dataclass, field
from enum import Enum, auto
from functools import lru_cache
from typing import NamedTuple, TypeAlias

from monitor.errors import QuerySyntaxError
from monitor.query.regex import RegexError, check_regex
from monitor.text import cased_tokens, tokens

KEYWORDS = frozenset({"AND", "OR", "NOT"})
FIELDS = ("title", "summary", "content", "source", "url", "tag", "lang")
# Spaces, then a field scope, a word (it runs to a space or a delimiter) or a parenthesis;
# nothing else (a phrase, a regex, ...) or the end leaves every group empty.
_NEXT = re.compile(
    r"\s*(?:"
    rf"(?P<field>(?:{'|'.join(FIELDS)}):)"
    r'|(?P<word>[^\s()"{}/-][^\s()"{}]*)'
    r"|(?P<paren>[()])"
    r")?"
)
_COUNTED = re.compile(r"(NEAR|ATLEAST)(?:/(\d*))?")


@dataclass(frozen=True, slots=True)
class Word:
    """A word as written (hyphens and apostrophes included); a trailing '*' makes it a prefix."""

    text: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words inside double quotes: consecutive, or with `slop` (Lucene's `"a b"~n`) when set."""

    text: str
    column: int = field(default=0, compare=False)
    slop: int | None = None


@dataclass(frozen=True, slots=True)
class Cased:
    """A word or words inside braces, matched with their case as written: `{US}`."""

    text: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Regex:
    """A regular expression between slashes, run by RE2 (linear time), ignoring case."""

    pattern: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Field:
    """Its operand, looked for only in one field of the article: `title:x`."""

    name: str
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Near:
    """Both operands, with at most `distance` words between them, in either order."""

    left: Node
    right: Node
    distance: int
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class AtLeast:
    """At least `count` mentions of its operand (a term, a list or an OR of terms)."""

    count: int
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class TermList:
    """A reference `@name` to a named list of aliases, any one of which may match."""

    name: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """Matches when its operand does not (written `NOT x` or `-x`)."""

    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """Matches when every operand matches (explicit `AND` or adjacent clauses)."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Matches when at least one operand matches."""

    operands: tuple[Node, ...]


Node: TypeAlias = Word | Phrase | Cased | Regex | TermList | Field | Near | AtLeast | Not | And | Or


class TermError(ValueError):
    """A term that cannot be matched; `offset` is 0-based within the term, None for the whole."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@lru_cache(maxsize=1 << 18)  # rules share terms; the scanner and compiler both ask
def term_parts(raw: str, *, cased: bool = False) -> tuple[tuple[str, ...], bool]:
    """The folded (or, if `cased`, case-kept) tokens of a term and whether a trailing '*'
    makes its last word a prefix."""
    star = raw.find("*")
    if star != -1 and star != len(raw) - 1:
        raise TermError("'*' is only allowed at the end of a term", star)
    prefix = star != -1
    stem = raw[:-1] if prefix else raw
    if prefix and (not stem or stem[-1].isspace()):
        raise TermError("'*' must directly follow a word", len(raw) - 1)
    parts = tuple(cased_tokens(stem) if cased else tokens(stem))
    if not parts:
        raise TermError(f"{raw.strip()!r} has no letters or digits to match")
    return parts, prefix


class _Kind(Enum):
    WORD = auto()
    PHRASE = auto()
    CASED = auto()
    REGEX = auto()
    LIST = auto()
    FIELD = auto()
    NEAR = auto()
    ATLEAST = auto()
    AND = auto()
    OR = auto()
    NOT = auto()
    MINUS = auto()
    LPAREN = auto()
    RPAREN = auto()
    END = auto()
    ERROR = auto()


class _Token(NamedTuple):  # a tuple: made for every token of 100,000 rules at start-up
    kind: _Kind
    text: str
    column: int
    number: int | None = None
    error: QuerySyntaxError | None = None


# Builds a _Token from a full tuple of its fields, without NamedTuple's slower keyword __new__.
_new_token = tuple.__new__
_PARENS = {"(": _Kind.LPAREN, ")": _Kind.RPAREN}


_STARTS_PRIMARY = frozenset(
    {_Kind.WORD, _Kind.PHRASE, _Kind.CASED, _Kind.REGEX, _Kind.LIST, _Kind.FIELD, _Kind.LPAREN}
)
_STARTS_CLAUSE = _STARTS_PRIMARY | {_Kind.NOT, _Kind.MINUS, _Kind.ATLEAST}


def _error(text: str, message: str, column: int) -> QuerySyntaxError:
    return QuerySyntaxError(message, query=text, column=column)


def _check_term(text: str, raw: str, column: int, start: int, *, cased: bool = False) -> None:
    # `start` is the column of raw[0]; `column` is where whole-term problems are reported.
    try:
        term_parts(raw, cased=cased)
    except TermError as exc:
        raise _term_error(text, exc, column, start) from None


def _term_error(text: str, exc: TermError, column: int, start: int) -> QuerySyntaxError:
    return _error(text, exc.message, column if exc.offset is None else start + exc.offset)


def _scan(text: str) -> list[_Token]:
    """All tokens left to right. A problem ends the list with an ERROR token carrying it, which
    the parser raises only on reaching it, so the leftmost problem is reported first."""
    tokens: list[_Token] = []
    try:
        _scan_into(text, tokens)
    except QuerySyntaxError as exc:
        tokens.append(_Token(_Kind.ERROR, "", exc.column, error=exc))
    return tokens


def _scan_into(text: str, tokens: list[_Token]) -> None:
    append = tokens.append
    i, n = 0, len(text)
    while True:
        # One regex skips the spaces and takes the next word, field or parenthesis: most of
        # every query. Other tokens are read below.
        found = _NEXT.match(text, i)
        kind = found.lastgroup  # type: ignore[union-attr]  # every group is optional
        i = found.end()  # type: ignore[union-attr]
        if kind == "word":
            word = found.group(kind)  # type: ignore[union-attr]
            col = i - len(word) + 1
            ch = word[0]
            if ch == "@":
                append(_list_token(text, word, col))
            elif word in KEYWORDS:
                append(_Token(_Kind[word], word, col))
            elif ch in "NA" and (counted := _COUNTED.fullmatch(word)):
                append(_counted_token(text, counted, col))
            else:
                try:  # _check_term, inlined: words are most tokens
                    term_parts(word)
                except TermError as exc:
                    raise _term_error(text, exc, col, col) from None
                append(_new_token(_Token, (_Kind.WORD, word, col, None, None)))
            continue
        if kind == "paren":
            ch = text[i - 1]
            append(_new_token(_Token, (_PARENS[ch], ch, i, None, None)))
            continue
        if kind == "field":
            scope = found.group(kind)  # type: ignore[union-attr]
            append(_field_token(text, scope, i - len(scope) + 1, i))
            continue
        if i == n:
            append(_Token(_Kind.END, "", n + 1))
            return
        i = _scan_other(text, i, tokens)


def _scan_other(text: str, i: int, tokens: list[_Token]) -> int:
    """Read the phrase, case-sensitive term, regex or '-' at `i`; the index after it."""
    n = len(text)
    ch = text[i]
    col = i + 1
    if ch == '"':
        end = text.find('"', i + 1)
        if end == -1:
            raise _error(text, "unterminated phrase: '\"' is never closed", col)
        inner = text[i + 1 : end]
        if not inner.strip():
            raise _error(text, "empty phrase", col)
        _check_term(text, inner, col, col + 1)
        i = end + 1
        slop = None
        if i < n and text[i] == "~":
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            if j == i + 1:
                raise _error(text, "'~' must be followed by a number of words", i + 1)
            slop, i = int(text[i + 1 : j]), j
        tokens.append(_new_token(_Token, (_Kind.PHRASE, inner, col, slop, None)))
        return i
    if ch == "{":
        end = text.find("}", i + 1)
        if end == -1:
            raise _error(text, "unterminated case-sensitive term: '{' is never closed", col)
        inner = text[i + 1 : end]
        if not inner.strip():
            raise _error(text, "empty case-sensitive term", col)
        _check_term(text, inner, col, col + 1, cased=True)
        tokens.append(_Token(_Kind.CASED, inner, col))
        return end + 1
    if ch == "}":
        raise _error(text, "'}' has no matching '{'", col)
    if ch == "/":
        end = _regex_end(text, i)
        pattern = text[i + 1 : end]
        try:
            check_regex(pattern)
        except RegexError as exc:
            raise _error(text, exc.message, col + 1 + exc.offset) from None
        tokens.append(_Token(_Kind.REGEX, pattern, col))
        return end + 1
    # Only '-' is left: the other characters that cannot start a word are handled above.
    if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
        raise _error(text, "'-' must be directly followed by the term to exclude", col)
    tokens.append(_Token(_Kind.MINUS, ch, col))
    return i + 1


def _regex_end(text: str, start: int) -> int:
    j = start + 1
    while j < len(text) and text[j] != "/":
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        raise _error(text, "unterminated regular expression: '/' is never closed", start + 1)
    if j == start + 1:
        raise _error(text, "empty regular expression", start + 1)
    return j


def _field_token(text: str, scope: str, column: int, after: int) -> _Token:
    if after == len(text) or text[after].isspace() or text[after] == ")":
        raise _error(text, f"{scope} must be directly followed by a term", column)
    return _Token(_Kind.FIELD, scope[:-1], column)


def _counted_token(text: str, counted: re.Match[str], column: int) -> _Token:
    name, number = counted.group(1), counted.group(2)
    if not number:
        example = "NEAR/5" if name == "NEAR" else "ATLEAST/2"
        raise _error(text, f"{name} needs a number, as in {example}", column)
    value = int(number)
    if name == "ATLEAST" and value < 1:
        raise _error(text, "ATLEAST needs a count of 1 or more", column)
    return _Token(_Kind[name], name, column, value)


def _list_token(text: str, word: str, column: int) -> _Token:
    name = word[1:]
    if not name:
        raise _error(text, "'@' must be followed by a term list name", column)
    for offset, ch in enumerate(name):
        if not (ch.isalnum() or ch in "_-"):
            raise _error(text, f"invalid character {ch!r} in term list name", column + 1 + offset)
    return _Token(_Kind.LIST, name, column)


def _describe(token: _Token) -> str:
    if token.kind is _Kind.MINUS:
        return "'-'"
    if token.kind is _Kind.FIELD:
        return f"{token.text}:"
    return token.text if token.number is None else f"{token.text}/{token.number}"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self._tokens = _scan(text)
        self._next = 1
        self.tok = self._tokens[0]
        if self.tok.error is not None:
            raise self.tok.error

    def advance(self) -> _Token:
        tok = self.tok
        if tok.kind is not _Kind.END:
            self.tok = self._tokens[self._next]
            self._next += 1
            if self.tok.error is not None:
                raise self.tok.error
        return tok

    def parse(self) -> Node:
        if self.tok.kind is _Kind.END:
            raise _error(self.text, "empty query", 1)
        node = self.parse_or()
        if self.tok.kind is _Kind.RPAREN:
            raise _error(
                self.text, "unbalanced parenthesis: ')' has no matching '('", self.tok.column
            )
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and(None)]
        while self.tok.kind is _Kind.OR:
            op = self.advance()
            operands.append(self.parse_and(op))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self, after: _Token | None) -> Node:
        operands = [self.parse_unary(after)]
        while True:
            if self.tok.kind is _Kind.AND:
                op = self.advance()
                operands.append(self.parse_unary(op))
            elif self.tok.kind in _STARTS_CLAUSE:
                operands.append(self.parse_unary(None))
            else:
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self, after: _Token | None) -> Node:
        if self.tok.kind in (_Kind.NOT, _Kind.MINUS):
            op = self.advance()
            return Not(self.parse_unary(op), column=op.column)
        if self.tok.kind is _Kind.ATLEAST:
            op = self.advance()
            assert op.number is not None  # the scanner always sets it
            return AtLeast(op.number, self.parse_scoped(op), column=op.column)
        left = (
            self.parse_scoped(after) if self.tok.kind is _Kind.FIELD else self.parse_primary(after)
        )
        if self.tok.kind is not _Kind.NEAR:
            return left
        op = self.advance()
        assert op.number is not None  # the scanner always sets it
        right = self.parse_scoped(op)
        if self.tok.kind is _Kind.NEAR:
            raise _error(
                self.text, "NEAR joins two clauses; combine more with AND", self.tok.column
            )
        return Near(left, right, op.number, column=op.column)

    def parse_scoped(self, after: _Token | None) -> Node:
        if self.tok.kind is _Kind.FIELD:
            op = self.advance()
            return Field(op.text, self.parse_scoped(op), column=op.column)
        return self.parse_primary(after)

    def parse_primary(self, after: _Token | None) -> Node:
        tok = self.tok
        if tok.kind is _Kind.WORD:
            self.advance()
            return Word(tok.text, column=tok.column)
        if tok.kind is _Kind.PHRASE:
            self.advance()
            return Phrase(tok.text, column=tok.column, slop=tok.number)
        if tok.kind is _Kind.CASED:
            self.advance()
            return Cased(tok.text, column=tok.column)
        if tok.kind is _Kind.REGEX:
            self.advance()
            return Regex(tok.text, column=tok.column)
        if tok.kind is _Kind.LIST:
            self.advance()
            return TermList(tok.text, column=tok.column)
        if tok.kind is _Kind.LPAREN:
            return self.parse_group()
        if after is not None:
            raise _error(self.text, f"{_describe(after)} needs a term after it", after.column)
        if tok.kind in (_Kind.AND, _Kind.OR, _Kind.NEAR):
            raise _error(self.text, f"{_describe(tok)} needs a term before it", tok.column)
        if tok.kind is _Kind.RPAREN:
            raise _error(self.text, "unbalanced parenthesis: ')' has no matching '('", tok.column)
        raise _error(self.text, "expected a term", tok.column)

    def parse_group(self) -> Node:
        opening = self.advance()
        if self.tok.kind is _Kind.RPAREN:
            raise _error(self.text, "empty parentheses", opening.column)
        if self.tok.kind is _Kind.END:
            raise _error(self.text, "unbalanced parenthesis: '(' is never closed", opening.column)
        node = self.parse_or()
        # parse_or advanced self.tok; mypy still narrows it from the checks above.
        if self.tok.kind is not _Kind.RPAREN:  # type: ignore[comparison-overlap]
            raise _error(self.text, "unbalanced parenthesis: '(' is never closed", opening.column)
        self.advance()
        return node


def parse(text: str) -> Node:
    """Parse a watch query into its syntax tree; raises QuerySyntaxError for any problem."""
    return _Parser(text).parse()
