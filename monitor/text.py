"""Text normalization shared by matching, search and display.

The rules (design.md §4): case, accents and Unicode width fold (NFKC + casefold); words split at
whitespace, punctuation, hyphens and apostrophes; a change between a CJK script and any other
script is a word boundary, and a run of Korean, Chinese or Japanese is kept as one token so terms
can match inside it (Korean attaches particles, Chinese has no spaces).
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

_HYPHENS = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"
)
_APOSTROPHES = dict.fromkeys(map(ord, "\u2018\u2019\u201b\u02bc\u2032\uff07`\u00b4"), "'")
_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP_TAGS = frozenset({"script", "style", "template"})


def is_cjk(ch: str) -> bool:
    """True for Hangul, Han ideographs, kana and their compatibility forms."""
    o = ord(ch)
    return (
        0x1100 <= o <= 0x11FF  # Hangul jamo
        or 0x2E80 <= o <= 0x2FDF  # CJK radicals
        or 0x3040 <= o <= 0x30FF  # Hiragana, Katakana
        or 0x3130 <= o <= 0x318F  # Hangul compatibility jamo
        or 0x3400 <= o <= 0x4DBF  # CJK extension A
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0xA960 <= o <= 0xA97F  # Hangul jamo extended A
        or 0xAC00 <= o <= 0xD7FF  # Hangul syllables and jamo extended B
        or 0xF900 <= o <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF66 <= o <= 0xFFDC  # half-width kana and Hangul
        or 0x20000 <= o <= 0x3FFFF  # CJK extensions B and later
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Plain text from an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    if "<" not in text and "&" not in text:
        return _SPACE.sub(" ", text).strip()
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return _SPACE.sub(" ", html.unescape("".join(parser.parts))).strip()


def _drop_accents(text: str) -> str:
    # Decompose, drop combining marks that sit on non-CJK letters (a kana voicing mark is part of
    # the letter), then recompose so Hangul syllables come back whole.
    out: list[str] = []
    base_is_cjk = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if base_is_cjk:
                out.append(ch)
            continue
        base_is_cjk = is_cjk(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def fold(text: str) -> str:
    """Case, accents, width, hyphen and apostrophe variants folded; the text keeps its shape."""
    text = unicodedata.normalize("NFKC", text).translate(_HYPHENS).translate(_APOSTROPHES)
    return _drop_accents(text.casefold())


def tokens(text: str) -> list[str]:
    """Folded word tokens; a CJK run is one token, and a change of script ends a token."""
    out: list[str] = []
    current: list[str] = []
    current_cjk = False
    for ch in fold(text):
        if ch.isalnum():
            cjk = is_cjk(ch)
            if current and cjk != current_cjk:
                out.append("".join(current))
                current = []
            current.append(ch)
            current_cjk = cjk
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out
