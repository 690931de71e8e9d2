"""Text rules shared by matching and display: folding, tokens and HTML stripping."""

# ruff: noqa: RUF001 - full-width letters and typographic quotes are what these tests feed in

from __future__ import annotations

import random
import unicodedata

import pytest

from monitor.core import marks
from monitor.core.text import (
    _FOLD,
    _mark_ranges,
    cased_tokens,
    fold,
    is_cjk,
    normalize,
    scan_marks,
    strip_html,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café Über NAÏVE", ["cafe", "uber", "naive"]),
        ("Ｌｏｎｄｏｎ ＬＧ", ["london", "lg"]),
        ("Trump’s Trump-Putin Kim Jong‐un", ["trump", "s", "trump", "putin", "kim", "jong", "un"]),
        ("LG전자 삼성SDI", ["lg", "전자", "삼성", "sdi"]),
        ("북한이 中韩贸易协定", ["북한이", "中韩贸易协定"]),
        ("がぎぐ カタカナ", ["がぎぐ", "カタカナ"]),
        ("किताब। पढ़ो", ["किताब", "पढ़ो"]),
        ("مَدْرَسَة שָׁלוֹם", ["مدرسة", "שלום"]),
        ("ภาษาไทย", ["ภาษาไทย"]),
        ("snake_case 2027", ["snake", "case", "2027"]),
        ("\U00011013\U00011038\U00011000 \U0001d400", ["\U00011013\U00011038\U00011000", "a"]),
        ("", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    """Words fold case, width and accents; CJK runs stay whole; other marks stay on letters."""
    assert tokens(text) == expected


def test_words_are_the_same_with_or_without_characters_beyond_the_bmp() -> None:
    """Text of the Basic Multilingual Plane splits into the same words as it would beside a
    character beyond it (each is read with its own pattern)."""
    rng = random.Random(4)
    pool = "abc xyz .,-'\u0301\u0903\u093f\u0e31\u3099\uff9e한中\u200d_7"
    for _ in range(500):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        assert tokens(text + " \U00011000") == [*tokens(text), "\U00011000"]


def test_ascii_text_splits_as_by_the_general_rules() -> None:
    """Text of ASCII characters alone, read on a shorter path, gives the words the general
    rules give (folded `cased_tokens`)."""
    rng = random.Random(5)
    pool = [chr(c) for c in range(128)]
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        assert tokens(text) == " ".join(cased_tokens(text)).casefold().split()


def test_mostly_ascii_text_folds_as_when_every_character_is_looked_up() -> None:
    """Folding translates only the non-ASCII runs of mostly ASCII text, with the same result
    as translating every character."""
    rng = random.Random(6)
    pool = "ab Z9`'-_.\u00e9\u2014\u2019\u201c\uff21\u0301\u3099\ud55c\u4e2d\u00a0"
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 60)))
        normalized = unicodedata.normalize("NFKC", text)
        assert normalize(text) == normalized.translate(_FOLD)
        assert fold(text) == normalized.casefold().translate(_FOLD)


def test_fold_keeps_hangul_and_kana_whole() -> None:
    """Accent folding decomposes and recomposes, so Hangul and voiced kana come back intact."""
    assert fold("한국어 がぎ Ångström") == "한국어 がぎ angstrom"


def test_is_cjk() -> None:
    """Hangul, Han and kana are CJK; Latin, digits and punctuation are not."""
    assert all(is_cjk(ch) for ch in "한中カが")
    assert not any(is_cjk(ch) for ch in "aZ9-.")


def test_strip_html_drops_tags_scripts_and_decodes_entities() -> None:
    """Feed HTML becomes plain text: tags and scripts gone, entities decoded, spaces collapsed."""
    html = "<p>Seoul &amp; Beijing</p><script>alert(1)</script><br/>agree&nbsp;on <b>tariffs</b>"
    assert strip_html(html) == "Seoul & Beijing agree on tariffs"


@pytest.mark.skipif(
    unicodedata.unidata_version != marks.UNICODE_VERSION,
    reason=f"the marks table is for Unicode {marks.UNICODE_VERSION}; this Python scans its own",
)
def test_the_marks_table_is_what_unicodedata_lists() -> None:
    """monitor/core/marks.py stands in for a scan of every code point at import."""
    assert _mark_ranges() == scan_marks()
