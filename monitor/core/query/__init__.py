"""The watch-rule language: parse a query, resolve its @lists, match it against articles::

q = compile_query("@korea AND (trade OR deal*)", {"korea": ["South Korea", "한국"]})
q.evaluate(article)  # None, or the terms found as written, e.g. ("South Korea", "deal*")
Matcher([("korea-trade", q)]).match(article)  # [Match(...)] with the clauses that held
"""

from __future__ import annotations

from monitor.core.query.compile import compile_query
from monitor.core.query.engine import CompiledQuery
from monitor.core.query.index import Matcher, NaiveMatcher, build_matcher
from monitor.core.query.syntax import (
    And,
    AtLeast,
    Cased,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Regex,
    TermList,
    Word,
    parse,
)

__all__ = [
    "And",
    "AtLeast",
    "Cased",
    "CompiledQuery",
    "Field",
    "Matcher",
    "NaiveMatcher",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Regex",
    "TermList",
    "Word",
    "build_matcher",
    "compile_query",
    "parse",
]
