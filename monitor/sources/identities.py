"""Who a poll's entries are, reading in full only the entries that are new or edited.

Most entries of a polled feed were stored before, unchanged. Their primary key, link key and
content hash cost a hash each; the text key costs tokenizing title and lead. So the source's
stored articles are looked up by the cheap keys first; an entry that matches one by primary key
and content hash takes that article's text key, and only the rest are tokenized and looked up
again by text key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.model import Article
from monitor.pipeline import Known
from monitor.stories import Keys, article_keys, quick_keys

if TYPE_CHECKING:
    from monitor.store.repository import Store


def identities(
    store: Store, source_id: int, articles: Sequence[Article]
) -> tuple[list[Keys], list[Known], int]:
    """Each article's keys, the stored articles of the source they may be versions of, and
    how many articles had to be read in full (tokenized) for their text key."""
    quick = [quick_keys(a) for a in articles]
    known = store.known_articles(source_id, quick) if quick else []
    by_key = {k.key: k for k in known}
    keys: list[Keys] = []
    unseen: list[Keys] = []
    read = 0
    for article, cheap in zip(articles, quick, strict=True):
        stored = by_key.get(cheap.key)
        if stored is not None and stored.content_hash == cheap.content_hash:
            keys.append(replace(cheap, text_key=stored.text_key))
            continue
        full = article_keys(article)
        read += 1
        keys.append(full)
        if full.text_key is not None:
            unseen.append(full)
    have = {k.text_key for k in known}
    ask = [k for k in unseen if k.text_key not in have]
    if ask:
        ids = {k.id for k in known}
        known += [k for k in store.known_articles(source_id, ask) if k.id not in ids]
    # A stored article that no entry repeats unchanged may be edited by one: its text tells
    # which watches matched it before.
    hashes = {k.content_hash for k in keys}
    edited = [k.id for k in known if k.content_hash not in hashes]
    if edited:
        texts = store.previous_versions(edited)
        known = [replace(k, previous=texts.get(k.id)) for k in known]
    return keys, known, read
