"""The tokens of a watch query, read left to right; the parser (`syntax`) builds the tree."""

from __future__ import annotations

import re
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple, TypeAlias

from monitor.core.errors import QuerySyntaxError
from monitor.core.query.regex import RegexError, check_regex
from monitor.core.text import cased_tokens, is_cjk, tokens

FIELDS = ("title", "summary", "content", "lead", "source", "url", "tag", "lang")
# Spaces, then a field scope, a word (it runs to a space or a delimiter), a phrase without
# slop or a parenthesis; nothing else (a regex, a phrase with slop, an unclosed or empty
# phrase, ...) or the end leaves every group empty, and `_scan_other` reads it.
_NEXT = re.compile(
    r"\s*(?:"
    rf"(?P<field>(?:{'|'.join(FIELDS)}):)"
    r'|(?P<word>[^\s()"{}/-][^\s()"{}]*)'
    r'|"(?P<phrase>\s*[^\s"][^"]*)"(?!~)'
    r"|(?P<paren>[()])"
    r")?"
)
_COUNTED = re.compile(r"(NEAR|ATLEAST)(?:/(\d*))?")


class TermError(ValueError):
    """A term that cannot be matched; `offset` is 0-based within the term, None for the whole."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def term_parts(raw: str, *, cased: bool = False) -> tuple[tuple[str, ...], bool]:
    """The folded (or, if `cased`, case-kept) tokens of a term and whether a trailing '*'
    makes its last word a prefix."""
    return _term_parts(raw, cased)


def split_term(raw: str, cased: bool) -> tuple[tuple[str, ...], bool]:
    """`term_parts`, not cached: for callers that keep what they make of the parts."""
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


# Rules share terms, and the scanner and compiler both ask: one cache, always called with
# both arguments by position, so that every caller hits the same key.
_term_parts = lru_cache(maxsize=1 << 18)(split_term)


class Kind(IntEnum):  # an int: token kinds are hashed into the key of a query's shape
    """What a token is."""

    WORD = 1
    PHRASE = 2
    CASED = 3
    REGEX = 4
    LIST = 5
    FIELD = 6
    NEAR = 7
    ATLEAST = 8
    AND = 9
    OR = 10
    NOT = 11
    MINUS = 12
    LPAREN = 13
    RPAREN = 14
    END = 15
    ERROR = 16


class Token(NamedTuple):  # a tuple: made for every token of 100,000 rules at start-up
    """One token: `column` is 1-based; `number` is NEAR's distance, ATLEAST's count or a
    phrase's slop; an ERROR token carries the problem that ended the scan."""

    kind: Kind
    text: str
    column: int
    number: int | None = None
    error: QuerySyntaxError | None = None


# Builds a Token from a full tuple of its fields, without NamedTuple's slower keyword __new__.
_new_token = tuple.__new__
_PARENS = {"(": Kind.LPAREN, ")": Kind.RPAREN}
_KEYWORDS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}


def error(text: str, message: str, column: int) -> QuerySyntaxError:
    """The syntax error `message` at `column` of query `text`."""
    return QuerySyntaxError(message, query=text, column=column)


def _check_term(text: str, raw: str, column: int, start: int, *, cased: bool = False) -> None:
    # `start` is the column of raw[0]; `column` is where whole-term problems are reported.
    try:
        _term_parts(raw, cased)
    except TermError as exc:
        raise _term_error(text, exc, column, start) from None


def _term_error(text: str, exc: TermError, column: int, start: int) -> QuerySyntaxError:
    return error(text, exc.message, column if exc.offset is None else start + exc.offset)


def scan(text: str) -> list[Token]:
    """All tokens left to right, ending with END. A problem ends the list with an ERROR token
    carrying it instead, which the parser raises only on reaching it, so the leftmost problem
    is reported first."""
    found: list[Token] = []
    try:
        _scan_into(text, found)
    except QuerySyntaxError as exc:
        found.append(Token(Kind.ERROR, "", exc.column, error=exc))
    return found


# Token kinds as plain names: reading an enum member off its class costs ten times as much,
# and the scanner makes a token for every word of 100,000 rules at start-up.
_WORD, _PHRASE, _END = Kind.WORD, Kind.PHRASE, Kind.END
# The groups of _NEXT by number: `lastindex` and `group(n)` are cheaper than by name.
_FIELD_GROUP, _WORD_GROUP, _PHRASE_GROUP, _PAREN_GROUP = (
    _NEXT.groupindex[name] for name in ("field", "word", "phrase", "paren")
)


def _scan_into(text: str, found: list[Token]) -> None:
    append = found.append
    match = _NEXT.match
    i, n = 0, len(text)
    while True:
        # One regex skips the spaces and takes the next word, field, plain phrase or
        # parenthesis: most of every query. Other tokens are read below.
        step = match(text, i)
        group = step.lastindex  # type: ignore[union-attr]  # every group is optional
        i = step.end()  # type: ignore[union-attr]
        if group == _WORD_GROUP:
            word = step.group(group)  # type: ignore[union-attr]
            col = i - len(word) + 1
            ch = word[0]
            if ch == "@":
                append(_list_token(text, word, col))
            elif (keyword := _KEYWORDS.get(word)) is not None:
                append(_new_token(Token, (keyword, word, col, None, None)))
            elif ch in "NA" and (counted := _COUNTED.fullmatch(word)):
                append(_counted_token(text, counted, col))
            else:
                try:  # _check_term, inlined: words are most tokens
                    _term_parts(word, False)
                except TermError as exc:
                    raise _term_error(text, exc, col, col) from None
                append(_new_token(Token, (_WORD, word, col, None, None)))
            continue
        if group == _PHRASE_GROUP:
            inner = step.group(group)  # type: ignore[union-attr]
            col = i - len(inner) - 1
            _check_term(text, inner, col, col + 1)
            append(_new_token(Token, (_PHRASE, inner, col, None, None)))
            continue
        if group == _PAREN_GROUP:
            ch = text[i - 1]
            append(_new_token(Token, (_PARENS[ch], ch, i, None, None)))
            continue
        if group == _FIELD_GROUP:
            scope = step.group(group)  # type: ignore[union-attr]
            append(_field_token(text, scope, i - len(scope) + 1, i))
            continue
        if i == n:
            append(_new_token(Token, (_END, "", n + 1, None, None)))
            return
        i = _scan_other(text, i, found)


def _scan_other(text: str, i: int, found: list[Token]) -> int:
    """Read the phrase, case-sensitive term, regex or '-' at `i`; the index after it."""
    n = len(text)
    ch = text[i]
    col = i + 1
    if ch == '"':
        end = text.find('"', i + 1)
        if end == -1:
            raise error(text, "unterminated phrase: '\"' is never closed", col)
        inner = text[i + 1 : end]
        if not inner.strip():
            raise error(text, "empty phrase", col)
        _check_term(text, inner, col, col + 1)
        i = end + 1
        slop = None
        if i < n and text[i] == "~":
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            # isdigit() also holds for digits int() refuses (superscripts: "a b"~1²).
            if j == i + 1 or not text[i + 1 : j].isdecimal():
                raise error(text, "'~' must be followed by a number of words", i + 1)
            slop, i = int(text[i + 1 : j]), j
        found.append(_new_token(Token, (Kind.PHRASE, inner, col, slop, None)))
        return i
    if ch == "{":
        end = text.find("}", i + 1)
        if end == -1:
            raise error(text, "unterminated case-sensitive term: '{' is never closed", col)
        inner = text[i + 1 : end]
        if not inner.strip():
            raise error(text, "empty case-sensitive term", col)
        _check_term(text, inner, col, col + 1, cased=True)
        found.append(Token(Kind.CASED, inner, col))
        return end + 1
    if ch == "}":
        raise error(text, "'}' has no matching '{'", col)
    if ch == "/":
        end = _regex_end(text, i)
        pattern = text[i + 1 : end]
        try:
            check_regex(pattern)
        except RegexError as exc:
            raise error(text, exc.message, col + 1 + exc.offset) from None
        found.append(Token(Kind.REGEX, pattern, col))
        return end + 1
    # Only '-' is left: the other characters that cannot start a word are handled above.
    if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
        raise error(text, "'-' must be directly followed by the term to exclude", col)
    found.append(Token(Kind.MINUS, ch, col))
    return i + 1


def _regex_end(text: str, start: int) -> int:
    j = start + 1
    while j < len(text) and text[j] != "/":
        j += 2 if text[j] == "\\" else 1
    if j >= len(text):
        raise error(text, "unterminated regular expression: '/' is never closed", start + 1)
    if j == start + 1:
        raise error(text, "empty regular expression", start + 1)
    return j


def _field_token(text: str, scope: str, column: int, after: int) -> Token:
    if after == len(text) or text[after].isspace() or text[after] == ")":
        raise error(text, f"{scope} must be directly followed by a term", column)
    return Token(Kind.FIELD, scope[:-1], column)


def _counted_token(text: str, counted: re.Match[str], column: int) -> Token:
    name, number = counted.group(1), counted.group(2)
    if not number:
        example = "NEAR/5" if name == "NEAR" else "ATLEAST/2"
        raise error(text, f"{name} needs a number, as in {example}", column)
    value = int(number)
    if name == "ATLEAST" and value < 1:
        raise error(text, "ATLEAST needs a count of 1 or more", column)
    return Token(Kind[name], name, column, value)


# A query's units, read by one regular expression for the whole query: what `scan` reads, in
# the cases common in rules (words, phrases, @lists, {cased} terms, operators, field scopes,
# parentheses), in one C call rather than a Python step per token. The alternatives are those
# of `_NEXT` and `_scan_other`, narrowed so that each matches only where the scanner reads the
# same token without error; anything else (a regex, a misplaced or unclosed character, a NEAR
# without a number) falls to the last group, and `units` declines the query.
_FIELD_SCOPE = rf"(?:{'|'.join(FIELDS)}):"
_WORD_END = r'(?![^\s()"{}])'  # the word ends here: a delimiter or the end follows
# A number as the scanner writes it back (see `token_units`): no leading zero, ASCII digits.
_NUMBER = r"(?:0|[1-9][0-9]*)"
_UNIT = re.compile(
    r"\s*(?:"
    # 1: a field scope (followed by its operand), an operator or a parenthesis, kept whole
    rf"({_FIELD_SCOPE}(?=[^\s)])|(?:AND|OR|NOT|(?:NEAR|ATLEAST)/{_NUMBER}){_WORD_END}"
    r"|[()]|-(?=[^\s)]))"
    # 2, 3, 4: what opens a term list, a phrase or a case-sensitive term; nothing for a word
    r'|(?:(@)|(")|(\{))?'
    # 5: the term, by what opened it: a list name, a phrase's words (then a '"' followed by
    # a slop or no '~'), a case-sensitive term's words (then a '}'), or a word that is no
    # operator or field scope (those are errors if not read above)
    r"("
    rf"(?(2)[\w-]+{_WORD_END}"
    rf'|(?(3)\s*[^\s"][^"]*(?="(?:~{_NUMBER}(?!\w)|(?!~)))'
    r"|(?(4)\s*[^\s}][^}]*(?=\})"
    rf"|(?!{_FIELD_SCOPE}|(?:AND|OR|NOT|(?:NEAR|ATLEAST)(?:/\d*)?){_WORD_END})"
    r'[^\s()"{}/@-][^\s()"{}]*)))'
    r")"
    # 6: a phrase's slop (no letter or digit may follow it: the scanner reads str.isdigit()
    # characters, more than [0-9])
    rf'(?(3)"(~{_NUMBER})?)(?(4)\}})'
    # 7: anything else
    r"|(\S)"
    r")"
)
# The groups of _UNIT, which are the columns of `units`: `_UNIT.split()` gives the text
# before each unit (nothing, but after the last), then its groups, None for those not in it.
_OPERATOR, _AT, _QUOTE, _BRACE, _TERM, _SLOP, _OTHER = range(1, 8)
_STRIDE = 8

# A query's units, as a key and the text of the term of each unit (None if the unit is no
# term, else the text of its token, see `Token`). The key holds all but the terms (operators,
# field scopes, parentheses, the kind of each term, the slop of each phrase), so queries with
# the same key are scanned and parsed alike but for the text of their terms.
Key: TypeAlias = tuple[tuple[str | None, ...], ...]
Units: TypeAlias = tuple[Key, tuple[str | None, ...]]


def units(text: str) -> Units | None:
    """The units of a query as `scan` would read them, or None if the query has something
    they do not cover. They are read, not checked: whether the query is valid is for the
    scanner and the parser to say (see `token_units`)."""
    # split() rather than findall(): a flat sequence, cut into columns by C slices, and None
    # rather than "" for the groups a unit does not have, both cheaper.
    found = tuple(_UNIT.split(text))
    if len(found) == 1 or any(found[_OTHER::_STRIDE]):
        return None
    key = (
        found[_OPERATOR::_STRIDE],
        found[_AT::_STRIDE],
        found[_QUOTE::_STRIDE],
        found[_BRACE::_STRIDE],
        found[_SLOP::_STRIDE],
    )
    return key, found[_TERM::_STRIDE]


def token_units(tokens: list[Token]) -> tuple[Key | None, tuple[str | None, ...]]:
    """The units of scanned tokens (the last one END) as `units` reads them from the text of
    the query, but with no key if `units` reads no such tokens (a regular expression)."""
    columns: list[list[str | None]] = [[None] * (len(tokens) - 1) for _ in range(_STRIDE)]
    for i, tok in enumerate(tokens[:-1]):
        kind = tok.kind
        if kind in _TERMS:
            columns[_TERM][i] = tok.text
            if kind is Kind.LIST:
                columns[_AT][i] = "@"
            elif kind is Kind.PHRASE:
                columns[_QUOTE][i] = '"'
                if tok.number is not None:
                    columns[_SLOP][i] = f"~{tok.number}"
            elif kind is Kind.CASED:
                columns[_BRACE][i] = "{"
            elif kind is Kind.REGEX:
                columns[_OTHER][i] = "/"
        elif kind is Kind.FIELD:
            columns[_OPERATOR][i] = f"{tok.text}:"
        elif kind in (Kind.NEAR, Kind.ATLEAST):
            columns[_OPERATOR][i] = f"{tok.text}/{tok.number}"
        else:
            columns[_OPERATOR][i] = tok.text
    done = tuple(map(tuple, columns))
    if any(done[_OTHER]) or len(tokens) < 2:
        return None, done[_TERM]
    return (done[_OPERATOR], done[_AT], done[_QUOTE], done[_BRACE], done[_SLOP]), done[_TERM]


_TERMS = frozenset({Kind.WORD, Kind.PHRASE, Kind.LIST, Kind.CASED, Kind.REGEX})


def _list_token(text: str, word: str, column: int) -> Token:
    name = word[1:]
    if not name:
        raise error(text, "'@' must be followed by a term list name", column)
    for offset, ch in enumerate(name):
        if not (ch.isalnum() or ch in "_-"):
            raise error(text, f"invalid character {ch!r} in term list name", column + 1 + offset)
    return Token(Kind.LIST, name, column)


def needle(parts: tuple[str, ...], prefix: bool) -> str:
    """The substring that finds these tokens in a `Document`, honouring word edges."""
    body = " ".join(parts)
    if body.isascii():  # most terms: no CJK edge to look for
        return f" {body}" if prefix else f" {body} "
    # A Latin edge must be a word boundary (a space); a CJK edge may run on into more CJK, so
    # 북한 finds 북한이 and 韩国 finds 中韩国际. A prefix term leaves its last word open.
    head = "" if is_cjk(body[0]) else " "
    tail = "" if prefix or is_cjk(body[-1]) else " "
    return f"{head}{body}{tail}"


@lru_cache(maxsize=1 << 18)  # rules share terms and list aliases
def term_needle(raw: str, cased: bool) -> str:
    """The needle of a term as written (see `needle`); raises TermError."""
    # Not through term_parts' cache: a query compiled from a recipe was not scanned, and its
    # terms, often its own (an entity's name), would only fill that cache too.
    return needle(*split_term(raw, cased))
