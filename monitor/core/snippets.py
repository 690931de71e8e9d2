"""Why an article matched, as people read it: one snippet per field, matched words marked.

The engine (`monitor.core.query.document.Document.snippet`) marks every matched word of a field
«like this» in one bounded snippet. Here the hits of an alert or a search result become one
`Snippet` per field, the most telling field first, and a snippet becomes plain text with
highlight offsets, which each output format (text, Slack, HTML, JSON, the terminal, the web
console) shows its own way. Hits stored before snippets were per field repeat one field once
per clause; they are folded here, with the words marked in any of them marked in all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import escape

from monitor.core.model import Hit

# Title first, then the lead (the text's first paragraph), then the rest of the text.
FIELD_ORDER = ("title", "lead", "summary", "content", "text")
OPEN, CLOSE = "«", "»"
_MARKED = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]*){CLOSE}")


@dataclass(frozen=True, slots=True)
class Snippet:
    """The text of one field around what matched: `text` without marks, and the `marks` as
    (start, end) offsets into it, sorted and disjoint."""

    field: str
    text: str
    marks: tuple[tuple[int, int], ...]

    def parts(self) -> list[tuple[str, bool]]:
        """The text in order as (piece, highlighted) pairs; no piece is empty."""
        out, pos = [], 0
        for s, e in self.marks:
            out += [(self.text[pos:s], False), (self.text[s:e], True)]
            pos = e
        out.append((self.text[pos:], False))
        return [(piece, lit) for piece, lit in out if piece]

    def show(self, plain: Callable[[str], str], lit: Callable[[str], str]) -> str:
        """The snippet in a format: `plain` escapes ordinary text, `lit` a highlighted word."""
        return "".join(lit(piece) if on else plain(piece) for piece, on in self.parts())

    def marked(self) -> str:
        """The snippet with its highlights «like this», as the engine wrote it."""
        return self.show(str, lambda word: f"{OPEN}{word}{CLOSE}")


def parse(field: str, marked: str) -> Snippet:
    """A snippet as the engine wrote it (marks in «») as text and offsets."""
    text, marks, pos = [], [], 0
    for found in _MARKED.finditer(marked):
        text.append(marked[pos : found.start()])
        start = sum(map(len, text))
        text.append(found.group(1))
        marks.append((start, start + len(found.group(1))))
        pos = found.end()
    text.append(marked[pos:])
    return Snippet(field=field, text="".join(text), marks=tuple(marks))


def _rank(field: str) -> int:
    return FIELD_ORDER.index(field) if field in FIELD_ORDER else len(FIELD_ORDER)


def snippets(hits: Sequence[Hit]) -> tuple[Snippet, ...]:
    """One snippet per field of `hits`, title first, then lead, then text, then the others;
    each has every matched word of the alert marked where it occurs in it."""
    first: dict[str, Snippet] = {}
    words: set[str] = set()
    for hit in hits:
        if not hit.snippet:
            continue
        snippet = parse(hit.field, hit.snippet)
        words.update(snippet.text[s:e].casefold() for s, e in snippet.marks)
        first.setdefault(hit.field, snippet)
    ordered = sorted(first.values(), key=lambda s: _rank(s.field))
    return tuple(_mark_words(s, words) for s in ordered)


def _mark_words(snippet: Snippet, words: set[str]) -> Snippet:
    """`snippet` with each of `words` marked wherever it stands as a word of its own."""
    found = list(snippet.marks)
    folded = snippet.text.casefold()
    if len(folded) != len(snippet.text):  # offsets would not carry over
        return snippet
    for word in words:
        for hit in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", folded):
            found.append(hit.span())
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return Snippet(field=snippet.field, text=snippet.text, marks=tuple(merged))


def to_html(snippet: Snippet) -> str:
    """A snippet as safe HTML, highlights in <mark>: for the web console and email."""
    return snippet.show(lambda text: str(escape(text)), lambda w: f"<mark>{escape(w)}</mark>")


def as_json(snippet: Snippet) -> dict[str, object]:
    """A snippet as the webhook payload and `--json` outputs carry it."""
    return {
        "field": snippet.field,
        "text": snippet.text,
        "highlights": [[s, e] for s, e in snippet.marks],
    }
