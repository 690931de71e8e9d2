"""Matched words shown highlighted in HTML, everything else escaped.

A stand-in until the core has one snippet function for every output; the engine already marks
the words it matched in each hit's snippet as «like this».
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape


def marked(snippet: str) -> Markup:
    """A snippet with its «marked» words in <mark>, the rest escaped."""
    parts = re.split("[«»]", snippet)
    return Markup("").join(
        Markup("<mark>{}</mark>").format(part) if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )


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
