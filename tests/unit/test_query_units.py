"""Compiling a query from the recipe of another with the same units: the fast path of
compile_query must read every query as the scanner does, and build what parsing it builds."""

from __future__ import annotations

from itertools import cycle
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from monitor.core.errors import QuerySyntaxError
from monitor.core.query import compile as compiling
from monitor.core.query import compile_query
from monitor.core.query.engine import AllOf, AnyOf, AtLeast, Exclude, Near, Slop
from monitor.core.query.scan import Kind, scan, token_units, units
from monitor.core.query.terms import RegexTerm, Term

TERMS = {"greek": ["alpha", "beta gamma", "gam*"], "empty": [], "bad": ["a*b"], "one": "solo"}

# Pieces of query text, chosen to sit on the edges of what `units` reads: operators with and
# without numbers, field scopes with and without an operand, quotes, braces and '@' in odd
# places, leading zeros, non-ASCII digits and letters, tildes, stars, slashes.
_PIECES = [
    *["a", "Al*", "b-c", "don't", "북한", "中国", "x1", "é", "AND", "OR", "NOT", "NEAR/2"],
    *["NEAR/0", "NEAR/02", "NEAR", "NEAR/", "ATLEAST/1", "ATLEAST/0", "ATLEAST", '"', "{"],
    *["}", "(", ")", "-", "@", "@greek", "@one", "@x!", "title:", "tag:", "titles:", "~"],
    *["~2", "~02", "~٣", "²", "/", "/re/", "*", "a*b", "_", ":", "N"],
    *[" ", " ", " ", "\t", "\u3000"],
]
_text = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=9).map("".join)


@settings(max_examples=1500, deadline=None)
@given(text=_text)
def test_units_read_a_query_as_the_scanner_does(text: str) -> None:
    """Whenever `units` reads a query and the scanner accepts it, both read the same tokens."""
    found = units(text)
    tokens = scan(text)
    if found is None or tokens[-1].kind is Kind.ERROR:
        event("not both")
        return
    event("both")
    assert token_units(tokens) == found


# A query is a template with terms put in its slots; two fillings of one template often have
# the same units, so the second compiles from the recipe of the first. Templates are written
# to the grammar, or strung together from pieces, valid or not.
_SLOT = "\0"
_slot_term = st.sampled_from(
    [
        *[_SLOT, _SLOT, f'"{_SLOT}"', f'"{_SLOT} {_SLOT}"', f'"{_SLOT}"~1', f'"{_SLOT} {_SLOT}"~0'],
        *[f"{{{_SLOT}}}", f"@{_SLOT}", "/al?p/"],
    ]
)
_positional = st.one_of(_slot_term, st.builds("({} OR {})".format, _slot_term, _slot_term))
_leaf = st.one_of(
    _slot_term,
    st.builds("{}:{}".format, st.sampled_from(["title", "summary", "tag"]), _slot_term),
    st.builds("{} NEAR/{} {}".format, _positional, st.integers(0, 2), _positional),
    st.builds("ATLEAST/{} {}".format, st.integers(1, 2), _positional),
)
_grammar = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds("({} {})".format, inner, inner),
        st.builds("{} AND {}".format, inner, inner),
        st.builds("({} OR {})".format, inner, inner),
        st.builds("NOT {}".format, inner),
        st.builds("-({})".format, inner),
    ),
    max_leaves=5,
)
_PIECES_OF_TEMPLATES = [
    *[_SLOT, _SLOT, _SLOT, f'"{_SLOT}"', f'"{_SLOT}"~1', f"{{{_SLOT}}}", f"@{_SLOT}"],
    *[" AND ", " OR ", " NOT ", " -", " NEAR/1 ", "ATLEAST/2 ", "title:", "summary:"],
    *["(", ")", " "],
]
_template = st.one_of(
    _grammar,
    _grammar,
    st.lists(st.sampled_from(_PIECES_OF_TEMPLATES), min_size=1, max_size=8).map("".join),
)
# The first query's terms compile, so that it leaves a recipe; the second's may not.
_GOOD = ["alpha", "Alpha", "al*", "US", "x-y", "don't", "greek", "one", "beta", "gam*", "북한", "é"]
_ODD = ["a*b", "***", "--", "AND", "NEAR/2", "title:x", "empty", "bad", "nope", " beta "]
_ODD += ["beta gamma", "{", "}", '"', "²", "alpha ~2", "LG전자"]
_first = st.lists(st.sampled_from(_GOOD), min_size=12, max_size=12)
_second = st.lists(st.sampled_from(_GOOD * 3 + _ODD), min_size=12, max_size=12)


def _fill(template: str, fillers: list[str]) -> str:
    *parts, last = template.split(_SLOT)
    return "".join(p + f for p, f in zip(parts, cycle(fillers))) + last


def _dump(plan: Any) -> Any:
    """A plan as plain values, to compare two plans built apart."""
    if isinstance(plan, Term):
        return ("term", plan.index, plan.needle, plan.kind, sorted(plan.fields))
    if isinstance(plan, RegexTerm):
        return ("regex", plan.index, plan.regex.pattern, sorted(plan.fields))
    if isinstance(plan, AllOf | AnyOf):
        return (type(plan).__name__, [_dump(part) for part in plan.parts])
    if isinstance(plan, Exclude):
        return ("not", _dump(plan.part))
    if isinstance(plan, Near):
        return ("near", plan.index, _dump(plan.left), _dump(plan.right), plan.distance)
    if isinstance(plan, Slop):
        return ("slop", plan.index, [_dump(t) for t in plan.terms], plan.slop)
    assert isinstance(plan, AtLeast)
    return ("atleast", plan.index, _dump(plan.operand), plan.count)


def _outcome(text: str) -> Any:
    try:
        query = compile_query(text, TERMS)
    except QuerySyntaxError as exc:
        return ("error", exc.message, exc.column)
    return _fields(query)


def _fields(query: Any) -> Any:
    return (
        query.text,
        query.labels,
        query.clauses,
        _dump(query.plan),
        [_dump(t) for t in query.terms],
        [[_dump(t) for t in need] for need in query.required],
        query.node,
    )


@settings(max_examples=1000, deadline=None)
@given(template=_template, first=_first, second=_second)
def test_a_recipe_compiles_a_query_as_parsing_it_does(
    template: str, first: list[str], second: list[str]
) -> None:
    """A query compiled from the recipe of another query is what compiling it alone gives,
    error (message and column) included."""
    before, text = _fill(template, first), _fill(template, second)
    compiling._RECIPES.clear()
    alone = _outcome(text)
    compiling._RECIPES.clear()
    _outcome(before)
    reused = units(text) is not None and units(text)[0] in compiling._RECIPES  # type: ignore[index]
    event("recipe reused" if reused else "recipe not reused")
    assert _outcome(text) == alone


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            '"Kimin Sodong" AND (trade OR deal* OR tariff*)',
            '"Bo Ra" AND (strike OR sanction* OR x)',
        ),
        ('"Kimin Sodong" NEAR/5 (missile* OR launch*)', '"Bo Ra" NEAR/5 (strike OR protest)'),
        ("@greek (trade OR deal*)", "@one (merger OR lawsuit)"),
        ('"Kimin Sodong" -sports -"opinion column"', '"Bo Ra" -sports -"opinion column"'),
        ('Kimi* "Sodong" (trade OR deal*)', 'Bora* "Ra" (strike OR protest)'),
        ('title:"Kimin" OR summary:("Kimin" (a OR b))', 'title:"Bo" OR summary:("Bo" (c OR d))'),
        ('"Kimin Sodong trade"~2', '"Bo Ra deal"~2'),
        ('ATLEAST/2 "Kimin Sodong"', 'ATLEAST/2 "Bo Ra"'),
        ("{US} AND tag:alpha", "{UK} AND tag:beta"),
    ],
)
def test_queries_of_one_shape_are_parsed_once(
    first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commonest shapes of rules compile from a recipe: the second query of a shape is
    neither scanned token by token nor parsed, and still gets its tree when asked."""
    compiling._RECIPES.clear()
    compile_query(first, TERMS)
    parsed: list[str] = []
    real = compiling.parse_tokens
    monkeypatch.setattr(compiling, "parse_tokens", lambda text: parsed.append(text) or real(text))
    compiled = compile_query(second, TERMS)
    assert parsed == []
    monkeypatch.undo()
    compiling._RECIPES.clear()
    assert _outcome(second) == _fields(compiled)


def test_a_query_that_fails_on_its_terms_is_reported_where_it_fails() -> None:
    """A query whose terms fail where the recipe's did not is reported at its own column."""
    compiling._RECIPES.clear()
    compile_query("@greek AND x NEAR/1 y", TERMS)
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("@nope AND x NEAR/1 y", TERMS)
    assert (info.value.column, info.value.message) == (
        1,
        "unknown term list @nope (defined lists: greek, empty, bad, one)",
    )
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("@greek AND x NEAR/1 a*b", TERMS)
    assert (info.value.column, info.value.message) == (
        22,
        "'*' is only allowed at the end of a term",
    )
