"""A title with the query's terms highlighted in HTML, everything else escaped (the hits'
snippets are the core's, `monitor.core.snippets`; a title is shown whole, not as a snippet)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def with_terms(text: str, terms: Iterable[str]) -> Markup:
    """The text with each of `terms` (case-insensitive, whole words) in <mark>, the rest escaped."""
    # A term written `tariff*` stands for every word it starts.
    words = sorted({t.strip('"') for t in terms if t.strip('"*')}, key=len, reverse=True)
    if not words:
        return escape(text)
    alternatives = (re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words)
    pattern = re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    out = []
    last = 0
    for found in pattern.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(Markup("<mark>{}</mark>").format(found.group(0)))
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)
