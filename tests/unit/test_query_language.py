"""Parsing of the proximity, field, case, regex and mention-count constructs, and their errors."""

from __future__ import annotations

import pytest

from monitor.core.errors import QuerySyntaxError
from monitor.core.query import (
    And,
    AtLeast,
    Cased,
    Field,
    Near,
    Not,
    Or,
    Phrase,
    Regex,
    TermList,
    Word,
    compile_query,
    parse,
)

TERMS = {"dprk": ["North Korea", "DPRK"]}


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("a NEAR/5 b", Near(Word("a"), Word("b"), 5)),
        ("a NEAR/0 b c", And((Near(Word("a"), Word("b"), 0), Word("c")))),
        ("-a NEAR/2 b", Not(Near(Word("a"), Word("b"), 2))),
        ("(a OR b) NEAR/3 @dprk", Near(Or((Word("a"), Word("b"))), TermList("dprk"), 3)),
        ('"a b"~4', Phrase("a b", slop=4)),
        ('"a b"', Phrase("a b")),
        ("title:a", Field("title", Word("a"))),
        ('summary:"a b"', Field("summary", Phrase("a b"))),
        ("content:(a OR b)", Field("content", Or((Word("a"), Word("b"))))),
        ("tag:korea lang:ko", And((Field("tag", Word("korea")), Field("lang", Word("ko"))))),
        ("title:a NEAR/2 b", Near(Field("title", Word("a")), Word("b"), 2)),
        ("{US}", Cased("US")),
        ("{LG Electronics}", Cased("LG Electronics")),
        ("/hyper-?sonic/", Regex("hyper-?sonic")),
        (r"/a\/b/", Regex(r"a\/b")),
        ("ATLEAST/2 @dprk", AtLeast(2, TermList("dprk"))),
        ("ATLEAST/3 title:(a OR b)", AtLeast(3, Field("title", Or((Word("a"), Word("b")))))),
        ("near 24/7 title", And((Word("near"), Word("24/7"), Word("title")))),
        ("mailto:x", Word("mailto:x")),
    ],
)
def test_parse_builds_the_expected_tree(query: str, tree: object) -> None:
    """Each new construct parses to its node, with the documented precedence."""
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("a NEAR b", 3, "NEAR needs a number, as in NEAR/5"),
        ("a NEAR/ b", 3, "NEAR needs a number, as in NEAR/5"),
        ("NEAR/3 b", 1, "NEAR/3 needs a term before it"),
        ("a NEAR/3", 3, "NEAR/3 needs a term after it"),
        ("a NEAR/3 b NEAR/3 c", 12, "NEAR joins two clauses; combine more with AND"),
        ('"a b"~x', 6, "'~' must be followed by a number of words"),
        ('"a b"~1²', 6, "'~' must be followed by a number of words"),
        ("title: a", 1, "title: must be directly followed by a term"),
        ("{US", 1, "unterminated case-sensitive term: '{' is never closed"),
        ("US}", 3, "'}' has no matching '{'"),
        ("{ }", 1, "empty case-sensitive term"),
        ("/abc", 1, "unterminated regular expression: '/' is never closed"),
        ("//", 1, "empty regular expression"),
        (
            r"x /(a)\1/",
            7,
            "backreference \\1 is not supported (regular expressions run in linear time)",
        ),
        (
            "/(?=a)b/",
            2,
            "lookahead '(?=' is not supported (regular expressions run in linear time)",
        ),
        (
            "/a(?<!b)/",
            3,
            "negative lookbehind '(?<!' is not supported (regular expressions run in linear time)",
        ),
        ("/(ab/", 2, "invalid regular expression: missing ): (ab"),
        ("ATLEAST/0 a", 1, "ATLEAST needs a count of 1 or more"),
        ("ATLEAST a", 1, "ATLEAST needs a number, as in ATLEAST/2"),
    ],
)
def test_parse_errors_point_at_the_offending_column(query: str, column: int, message: str) -> None:
    """A malformed construct is rejected with a message and the column of the problem."""
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert (info.value.message, info.value.column) == (message, column)


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("x NEAR/2 (a b)", 11),
        ("x NEAR/2 /re/", 10),
        ('x NEAR/2 "a b"~2', 10),
        ("ATLEAST/2 (a -b)", 12),
    ],
)
def test_near_and_atleast_take_only_terms(query: str, column: int) -> None:
    """NEAR and ATLEAST refuse operands that have no positions, pointing at the operand."""
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query, TERMS)
    assert info.value.column == column
    assert "applies to terms" in info.value.message
