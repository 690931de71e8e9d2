"""Rules for article pages, pure: which entries need their page read, and an article's lead."""

from __future__ import annotations

import re

from monitor.core.model import Article
from monitor.core.text import strip_html

AUTO, ALWAYS, NEVER = "auto", "always", "never"
LEAD_WORDS = 60
_WORD = re.compile(r"\w+")
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PARAGRAPH = re.compile(r"\n\s*")


def word_count(text: str) -> int:
    """Words in `text` (HTML stripped); Chinese and Japanese, written without spaces between
    words, count one word per two characters."""
    if "<" in text:
        text = strip_html(text)
    return len(_WORD.findall(text)) + len(_HAN_KANA.findall(text)) // 2


def wants_page(article: Article, mode: str, min_words: int) -> bool:
    """Whether the entry's linked page should be read: always, or (auto) when the entry's own
    text is shorter than `min_words`; never without an http(s) link."""
    if mode == NEVER or not article.url or not article.url.startswith(("http://", "https://")):
        return False
    if mode == ALWAYS:
        return True
    return word_count(article.content or article.summary) < min_words


def lead(article: Article) -> str:
    """The first paragraph of the article's text (its content, or else its summary), at most
    LEAD_WORDS words; a feed's HTML has its paragraphs flattened, so there it is the first
    LEAD_WORDS words."""
    text = article.content or article.summary
    if "<" in text or "&" in text:
        text = strip_html(text)
    first = next((p for p in _PARAGRAPH.split(text.strip()) if p.strip()), "")
    words = first.split()
    return " ".join(words[:LEAD_WORDS]) if len(words) > LEAD_WORDS else first.strip()
