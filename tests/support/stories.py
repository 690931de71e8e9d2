"""Helpers for identity and story tests."""

from __future__ import annotations

from monitor.core.model import Article
from monitor.core.pipeline import Known
from monitor.core.stories import article_keys


def known(
    article: Article,
    watches: frozenset[str] = frozenset(),
    id: int = 1,
    previous: Article | None = None,
) -> Known:
    """The stored form of an article, as the store hands it to the plan (with its text, as
    `previous`, when an entry may be an edit of it)."""
    keys = article_keys(article)
    return Known(
        id=id,
        key=keys.key,
        url_key=keys.url_key,
        text_key=keys.text_key,
        content_hash=keys.content_hash,
        watches=watches,
        previous=previous,
    )
