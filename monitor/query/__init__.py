"""The watch-rule language: parse a query, resolve its @lists, match it against articles::

q = compile_query("@korea AND (trade OR deal*)", {"korea": ["South Korea", "한국"]})
q.evaluate(article)  # None, or the terms found as written, e.g. ("South Korea", "deal*")
"""

from __future__ import annotations

from monitor.query.compile import compile_query
from monitor.query.engine import CompiledQuery, Matcher
from monitor.query.syntax import And, Node, Not, Or, Phrase, TermList, Word, parse

__all__ = [
    "And",
    "CompiledQuery",
    "Matcher",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "TermList",
    "Word",
    "compile_query",
    "parse",
]
