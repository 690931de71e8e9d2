"""Parsing of watch queries: the tree each construct produces and where errors point."""

from __future__ import annotations

import pytest

from monitor.core.errors import QuerySyntaxError
from monitor.core.query import (
    And,
    Field,
    Near,
    Not,
    Or,
    Phrase,
    TermList,
    Word,
    compile_query,
    parse,
)

TERMS = {"south_korea": ["South Korea", "Seoul"], "north_korea": ["North Korea", "DPRK"]}


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("trade", Word("trade")),
        ("  Trade  ", Word("Trade")),
        ("Kim-Jong-un", Word("Kim-Jong-un")),
        ("Trump's", Word("Trump's")),
        ("deal*", Word("deal*")),
        ("북한", Word("북한")),
        ('"South Korea"', Phrase("South Korea")),
        ('"trade deal*"', Phrase("trade deal*")),
        ("@south_korea", TermList("south_korea")),
        ("@nk-missile2", TermList("nk-missile2")),
        ("a AND b", And((Word("a"), Word("b")))),
        ("a b", And((Word("a"), Word("b")))),
        ("a AND b c", And((Word("a"), Word("b"), Word("c")))),
        ("a OR b", Or((Word("a"), Word("b")))),
        ("a OR b OR c", Or((Word("a"), Word("b"), Word("c")))),
        ("NOT a", Not(Word("a"))),
        ("NOT NOT a", Not(Not(Word("a")))),
        ("-a", Not(Word("a"))),
        ('-"a b"', Not(Phrase("a b"))),
        ("-(a OR b)", Not(Or((Word("a"), Word("b"))))),
        ("-@north_korea", Not(TermList("north_korea"))),
        ("a -b", And((Word("a"), Not(Word("b"))))),
        ("a OR b c", Or((Word("a"), And((Word("b"), Word("c")))))),
        ("a b OR c", Or((And((Word("a"), Word("b"))), Word("c")))),
        ("NOT a b", And((Not(Word("a")), Word("b")))),
        ("NOT a OR b", Or((Not(Word("a")), Word("b")))),
        ("a OR NOT b AND c", Or((Word("a"), And((Not(Word("b")), Word("c")))))),
        ("(a OR b) c", And((Or((Word("a"), Word("b"))), Word("c")))),
        ("a (b OR c)", And((Word("a"), Or((Word("b"), Word("c")))))),
        ("((a))", Word("a")),
        ("a AND (b AND c)", And((Word("a"), And((Word("b"), Word("c")))))),
        ("NOT(a)", Not(Word("a"))),
        ('a"b c"', And((Word("a"), Phrase("b c")))),
        ("rock and roll", And((Word("rock"), Word("and"), Word("roll")))),
        ("not Or", And((Word("not"), Word("Or")))),
        ("NOTE ANDROID", And((Word("NOTE"), Word("ANDROID")))),
    ],
)
def test_parse_builds_the_expected_tree(query: str, tree: object) -> None:
    """Each construct parses to its tree, with NOT > AND > OR and implicit AND between clauses."""
    assert parse(query) == tree


def test_nodes_record_the_column_where_they_start() -> None:
    """Every leaf and NOT records the 1-based column it starts at, for later error reports."""
    tree = parse('  trade -"x y" @south_korea')
    assert isinstance(tree, And)
    word, negation, term_list = tree.operands
    assert isinstance(word, Word) and word.column == 3
    assert isinstance(negation, Not) and negation.column == 9
    assert isinstance(negation.operand, Phrase) and negation.operand.column == 10
    assert isinstance(term_list, TermList) and term_list.column == 16


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ("(trade", 1, "unbalanced parenthesis: '(' is never closed"),
        ("a (b OR (c)", 3, "unbalanced parenthesis: '(' is never closed"),
        ("((a) OR b", 1, "unbalanced parenthesis: '(' is never closed"),
        ("trade)", 6, "unbalanced parenthesis: ')' has no matching '('"),
        (")", 1, "unbalanced parenthesis: ')' has no matching '('"),
        ("(a) b)", 6, "unbalanced parenthesis: ')' has no matching '('"),
        ("()", 1, "empty parentheses"),
        ("a ( )", 3, "empty parentheses"),
        ('say "hello', 5, "unterminated phrase: '\"' is never closed"),
        ('"a" "b', 5, "unterminated phrase: '\"' is never closed"),
        ('""', 1, "empty phrase"),
        ('a "  "', 3, "empty phrase"),
        ("trade AND", 7, "AND needs a term after it"),
        ("trade OR", 7, "OR needs a term after it"),
        ("OR x", 1, "OR needs a term before it"),
        ("AND x", 1, "AND needs a term before it"),
        ("NOT", 1, "NOT needs a term after it"),
        ("a NOT", 3, "NOT needs a term after it"),
        ("a AND OR b", 3, "AND needs a term after it"),
        ("(a OR)", 4, "OR needs a term after it"),
        ("(OR a)", 2, "OR needs a term before it"),
        ("a -", 3, "'-' must be directly followed by the term to exclude"),
        ("a - b", 3, "'-' must be directly followed by the term to exclude"),
        ("(a -)", 4, "'-' must be directly followed by the term to exclude"),
        ("-AND b", 1, "'-' needs a term after it"),
        ("@", 1, "'@' must be followed by a term list name"),
        ("a @ b", 3, "'@' must be followed by a term list name"),
        ("(@)", 2, "'@' must be followed by a term list name"),
        ("@bad*name", 5, "invalid character '*' in term list name"),
        ("!!!", 1, "'!!!' has no letters or digits to match"),
        ("trade #!", 7, "'#!' has no letters or digits to match"),
        ('a "!!"', 3, "'!!' has no letters or digits to match"),
        ("de*al", 3, "'*' is only allowed at the end of a term"),
        ("deal**", 5, "'*' is only allowed at the end of a term"),
        ("*deal", 1, "'*' is only allowed at the end of a term"),
        ("*", 1, "'*' must directly follow a word"),
        ('"trade* deal"', 7, "'*' is only allowed at the end of a term"),
        ('"trade *"', 8, "'*' must directly follow a word"),
        ("-*", 2, "'*' must directly follow a word"),
        ("ATLEAST/2 a NEAR/3 b", 13, "ATLEAST counts a term, a list or an OR of them, not a NEAR"),
        ('x "a"~', 6, "'~' must be followed by a number of words"),
    ],
)
def test_parse_errors_point_at_the_offending_column(query: str, column: int, message: str) -> None:
    """Each syntax problem raises QuerySyntaxError with a specific message and 1-based column."""
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.message == message
    assert info.value.column == column
    assert info.value.query == query


def test_queries_of_one_shape_each_get_their_own_tree() -> None:
    """Queries whose tokens have the same kinds share how they are parsed, not their terms,
    slop, distances or columns."""
    first = parse('"a b" NEAR/3 (c OR title:d*)')
    second = parse('  "x y z"~2 NEAR/9 (e OR title:f)')
    assert first == Near(Phrase("a b"), Or((Word("c"), Field("title", Word("d*")))), 3)
    assert second == Near(Phrase("x y z", slop=2), Or((Word("e"), Field("title", Word("f")))), 9)
    assert isinstance(second, Near) and second.column == 13
    assert isinstance(second.left, Phrase) and second.left.column == 3


def test_the_leftmost_problem_is_reported_first() -> None:
    """With several problems, the error names the one nearest the start of the query."""
    with pytest.raises(QuerySyntaxError) as info:
        parse('OR de*al "open')
    assert info.value.column == 1


def test_error_caret_marks_the_column() -> None:
    """The caret helper underlines the offending character of the query."""
    with pytest.raises(QuerySyntaxError) as info:
        parse("trade AND")
    assert info.value.caret() == "trade AND\n      ^"


@pytest.mark.parametrize(
    ("query", "terms", "column", "message"),
    [
        (
            "missile @dprk",
            TERMS,
            9,
            "unknown term list @dprk (defined lists: south_korea, north_korea)",
        ),
        ("@dprk", {}, 1, "unknown term list @dprk (defined lists: none)"),
        ("a (b OR @empty)", {"empty": []}, 9, "term list @empty is empty"),
        (
            "@bad",
            {"bad": ["ok", "!!!"]},
            1,
            "term list @bad: '!!!' has no letters or digits to match",
        ),
        (
            "@bad",
            {"bad": ["mis*sile"]},
            1,
            "term list @bad: '*' is only allowed at the end of a term (alias 'mis*sile')",
        ),
        ("trade AND", TERMS, 7, "AND needs a term after it"),
    ],
)
def test_compile_errors_point_at_the_term_list(
    query: str, terms: dict[str, list[str]], column: int, message: str
) -> None:
    """compile_query reports unknown, empty or unusable @lists at the '@', and syntax errors too."""
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query, terms)
    assert info.value.message == message
    assert info.value.column == column


def test_compiled_query_keeps_its_text_and_tree() -> None:
    """A compiled query exposes the text it was built from and its parsed tree."""
    compiled = compile_query("@south_korea deal*", TERMS)
    assert compiled.text == "@south_korea deal*"
    assert compiled.node == And((TermList("south_korea"), Word("deal*")))
