"""Which entries need their article page, how words are counted, and what the lead is."""

from __future__ import annotations

import pytest

from monitor.core.fulltext import lead, wants_page, word_count
from monitor.core.model import Article
from monitor.core.query import build_matcher


def _article(summary: str = "", content: str = "", url: str | None = "https://x.test/a") -> Article:
    return Article(source="s", key="k", url=url, title="T", summary=summary, content=content)


def test_words_are_counted_in_every_script() -> None:
    """Latin and Korean words count one each, HTML tags none; Chinese two characters a word."""
    assert word_count("<p>Seoul and <b>Beijing</b> agree</p>") == 4
    assert word_count("한국과 중국의 무역") == 3
    assert word_count("韩国和中国的贸易谈判") == 1 + 5


@pytest.mark.parametrize(
    ("mode", "summary", "url", "expected"),
    [
        ("auto", "Short wire text.", "https://x.test/a", True),
        ("auto", "word " * 80, "https://x.test/a", False),
        ("always", "word " * 500, "https://x.test/a", True),
        ("never", "Short.", "https://x.test/a", False),
        ("always", "Short.", None, False),
        ("always", "Short.", "ftp://x.test/a", False),
    ],
)
def test_which_entries_wait_for_their_page(
    mode: str, summary: str, url: str | None, expected: bool
) -> None:
    """`auto` reads pages of entries under the word count, `always` all, `never` none; only
    http(s) links are ever read."""
    assert wants_page(_article(summary, url=url), mode, 80) is expected


def test_the_lead_is_the_first_paragraph_at_most_sixty_words() -> None:
    """The lead is the text's first paragraph, cut at 60 words; a feed's HTML gives its first
    60 words; with no content, the summary's."""
    assert lead(_article(content="First one.\n\nSecond one.")) == "First one."
    long = " ".join(f"w{i}" for i in range(100))
    assert lead(_article(content=long + "\nnext")).split() == long.split()[:60]
    assert lead(_article(summary="<p>Only <b>this</b></p>")) == "Only this"


def test_lead_field_asks_more_than_a_passing_mention() -> None:
    """`title:x OR lead:x` matches a term in the first paragraph, not one deep in the body."""
    matcher = build_matcher([("w", "title:rocket OR lead:rocket")], {})
    early = _article(content="A new rocket engine was tested.\nOfficials said more.")
    late = _article(content="Officials met.\nA rocket engine was mentioned in passing.")
    assert [m.watch for m in matcher.match(early)] == ["w"]
    assert matcher.match(late) == []
