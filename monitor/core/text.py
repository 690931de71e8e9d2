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

from monitor.core import marks

_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP_TAGS = frozenset({"script", "style", "template"})
BLOCK_TAGS = _BLOCK_TAGS  # tags that separate words when markup is reduced to text


# Hangul jamo, CJK radicals, kana, Hangul compatibility jamo, CJK extension A, unified
# ideographs, Hangul jamo extended A, syllables and extended B, compatibility ideographs,
# half-width kana and Hangul, and CJK extensions B and later.
_CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3040, 0x30FF),
    (0x3130, 0x318F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFFDC),
    (0x20000, 0x3FFFF),
)
_CJK_BODY = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
_IS_CJK = re.compile(f"[{_CJK_BODY}]")


def _mark_ranges() -> list[tuple[int, int]]:
    """Every combining mark (category M*) this Python knows, as ranges: from the table made
    for its Unicode version, else by scanning every code point (some 40 ms)."""
    if unicodedata.unidata_version == marks.UNICODE_VERSION:
        return [_hex_range(item) for item in marks.RANGES.split()]
    return scan_marks()


def _hex_range(item: str) -> tuple[int, int]:
    first, _, last = item.partition("-")
    return int(first, 16), int(last or first, 16)


def scan_marks() -> list[tuple[int, int]]:
    """The combining marks' ranges, from unicodedata itself."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x20000):
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return ranges


def _class_body(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


_MARKS = _mark_ranges()


# A word is a run of letters, digits and combining marks (Indic vowel signs are marks);
# underscores are turned into spaces first, since \w counts them as word characters.
_WORD = re.compile(f"[\\w{_class_body(_MARKS)}]+")
# The same for text without characters beyond U+FFFF (nearly all): a class that fits in the
# Basic Multilingual Plane compiles to a lookup table, where the full one is tried range by
# range at every character that ends a word, which makes it about three times slower.
_BMP_WORD = re.compile(f"[\\w{_class_body([r for r in _MARKS if r[1] <= 0xFFFF])}]+")
# The same on ASCII text (the marks are all beyond ASCII), where the long class costs twice.
_ASCII_WORD = re.compile(r"\w+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_NON_ASCII = re.compile("[^\x00-\x7f]+")
# Splits a word at every change between CJK and other scripts.
_SCRIPT_RUN = re.compile(f"[{_CJK_BODY}]+|[^{_CJK_BODY}]+")
# Accents: the combining diacritics of Latin, Greek and Cyrillic, Hebrew points and Arabic
# harakat. Marks that are letters' own parts stay: Indic vowel signs, kana voicing (U+3099).
_DIACRITICS = re.compile(
    "[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def is_cjk(ch: str) -> bool:
    """True for Hangul, Han ideographs, kana and their compatibility forms."""
    return _IS_CJK.match(ch) is not None


def has_cjk(text: str) -> bool:
    """Whether any character of `text` is one `is_cjk` is true for."""
    return _IS_CJK.search(text) is not None


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


class _FoldTable(dict[int, str]):
    """Per-character folding for str.translate, filled in as characters are first seen."""

    def __missing__(self, cp: int) -> str:
        # Decompose, drop the diacritics, recompose, so Hangul syllables and kana stay whole.
        folded = unicodedata.normalize(
            "NFC", _DIACRITICS.sub("", unicodedata.normalize("NFD", chr(cp)))
        )
        self[cp] = folded
        return folded


_FOLD = _FoldTable()
_FOLD.update(
    dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
)
_FOLD.update(dict.fromkeys(map(ord, "\u2018\u2019\u201b\u02bc\u2032\uff07`"), "'"))


def _fold_chars(text: str) -> str:
    """`text.translate(_FOLD)`. For text that is mostly ASCII, which folds to itself but for
    the backquote, only the other runs are translated: str.translate looks every character of
    a non-ASCII string up in the table one by one."""
    if len(text.encode()) - len(text) > len(text) // 8:
        return text.translate(_FOLD)
    return _NON_ASCII.sub(_fold_match, text.replace("`", "'"))


def _fold_match(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD)


def fold(text: str) -> str:
    """Case, accents, width, hyphen and apostrophe variants folded; the text keeps its shape."""
    if text.isascii():
        return text.casefold().replace("`", "'")
    return _fold_chars(unicodedata.normalize("NFKC", text).casefold())


def normalize(text: str) -> str:
    """Like `fold` but keeping case: what case-sensitive terms and regular expressions see."""
    if text.isascii():
        return text.replace("`", "'")
    return _fold_chars(unicodedata.normalize("NFKC", text))


def _word_pattern(text: str) -> re.Pattern[str]:
    if text.isascii():
        return _ASCII_WORD
    return _WORD if _ASTRAL.search(text) else _BMP_WORD


def _split(normalized: str) -> list[re.Match[str]]:
    plain = normalized.isascii()
    words = list(_word_pattern(normalized).finditer(normalized.replace("_", " ")))
    if plain or not _IS_CJK.search(normalized):
        return words
    return [
        run for word in words for run in _SCRIPT_RUN.finditer(normalized, word.start(), word.end())
    ]


def word_spans(normalized: str) -> list[tuple[int, int]]:
    """Where each word of `cased_tokens` lies in the normalized text, for snippets."""
    return [m.span() for m in _split(normalized)]


def cased_tokens(text: str) -> list[str]:
    """The word tokens of `tokens`, before case folding (same count and order)."""
    normalized = normalize(text).replace("_", " ")
    if normalized.isascii():
        return _ASCII_WORD.findall(normalized)
    words = _word_pattern(normalized).findall(normalized)
    if not _IS_CJK.search(normalized):
        return words
    return [run for word in words for run in _SCRIPT_RUN.findall(word)]


def tokens(text: str) -> list[str]:
    """Folded word tokens; a CJK run is one token, and a change of script ends a token."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower().replace("_", " "))
    return " ".join(cased_tokens(text)).casefold().split()
