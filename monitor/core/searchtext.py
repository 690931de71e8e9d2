"""Full-text search helpers, pure: what the search index holds for an article, and which
index query narrows the candidates of a rule.

The index only narrows: each rule becomes a condition that every article the rule matches
meets (a superset), and the matching engine then decides, so search and alerts never disagree.
Latin-script words are indexed as our own folded tokens; Korean, Chinese and Japanese runs as
overlapping character pairs plus their last character, so a term of one or two characters is
found inside a longer run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.core.model import Article
from monitor.core.query.document import TEXT_FIELDS
from monitor.core.query.scan import TermError, term_parts
from monitor.core.query.syntax import (
    And,
    AtLeast,
    Cased,
    Field,
    Near,
    Node,
    Or,
    Phrase,
    TermList,
    Word,
)
from monitor.core.text import is_cjk, strip_html, tokens


def _grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def index_text(article: Article) -> tuple[str, str]:
    """The two indexed columns of an article: its folded words, and its CJK character grams."""
    words: list[str] = []
    grams: list[str] = []
    for field in (article.title, article.summary, article.content):
        # The text as the matcher reads it (see query.document).
        plain = strip_html(field) if "<" in field or "&" in field else field
        for token in tokens(plain):
            if is_cjk(token[0]):
                grams.extend(_grams(token))
            else:
                words.append(token)
    return " ".join(words), " ".join(grams)


def _quoted(parts: Sequence[str]) -> str:
    return '"' + " ".join(parts).replace('"', '""') + '"'


def _cjk_condition(run: str) -> str:
    if len(run) == 1:
        return f"grams : {_quoted([run])}*"  # a pair starting with it, or the run's last char
    return f"grams : {_quoted([run[i : i + 2] for i in range(len(run) - 1)])}"


def term_condition(raw: str) -> str | None:
    """The index condition every article containing the term meets, or None (cannot narrow)."""
    try:
        parts, prefix = term_parts(raw)
    except TermError:
        return None
    if not any(is_cjk(part[0]) for part in parts):
        return f"words : {_quoted(parts)}{'*' if prefix else ''}"
    conditions = []
    for index, part in enumerate(parts):
        if is_cjk(part[0]):
            conditions.append(_cjk_condition(part))
        else:
            open_end = prefix and index == len(parts) - 1
            conditions.append(f"words : {_quoted([part])}{'*' if open_end else ''}")
    return " AND ".join(conditions)


def condition(node: Node, terms: Mapping[str, Sequence[str]]) -> str | None:
    """An index query every article matching `node` satisfies, or None when nothing narrows it
    (NOT, a regular expression, a field the index does not hold, a node kind it does not know).
    """
    if isinstance(node, Word | Cased):
        return term_condition(node.text)
    if isinstance(node, Phrase):
        if node.slop is None:
            return term_condition(node.text)
        return condition(And(tuple(Word(w) for w in node.text.split())), terms)
    if isinstance(node, TermList):
        return _any([term_condition(alias) for alias in terms.get(node.name, ())])
    if isinstance(node, And):
        found = [c for c in (condition(n, terms) for n in node.operands) if c]
        return " AND ".join(f"({c})" for c in found) if found else None
    if isinstance(node, Near):
        return condition(And((node.left, node.right)), terms)
    if isinstance(node, Or):
        return _any([condition(n, terms) for n in node.operands])
    if isinstance(node, AtLeast):
        return condition(node.operand, terms) if node.count >= 1 else None
    # The lead is a part of the content or summary, which the index holds.
    if isinstance(node, Field) and (node.name in TEXT_FIELDS or node.name == "lead"):
        return condition(node.operand, terms)
    return None


def _any(conditions: Sequence[str | None]) -> str | None:
    if not conditions or any(c is None for c in conditions):
        return None
    return " OR ".join(f"({c})" for c in conditions)
