"""Who a poll's entries are, reading in full only the entries that are new or edited.

Most entries of a polled feed were stored before, unchanged. Their primary key and content hash
cost a hash each; the link key costs canonicalizing the link, and the text key tokenizing title
and lead. So the source's stored articles are looked up by primary key first; an entry that
matches one by primary key and content hash takes that article's link and text keys, and only
the rest are read in full and looked up again by all their keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.core.model import Article
from monitor.core.pipeline import Known
from monitor.core.stories import Keys, article_keys, quick_keys

if TYPE_CHECKING:
    from monitor.store.repository import Store


def identities(
    store: Store, source_id: int, articles: Sequence[Article]
) -> tuple[list[Keys], list[Known], int]:
    """Each article's keys, the stored articles of the source they may be versions of, and
    how many articles had to be read in full for their link and text keys."""
    if not articles:
        return [], [], 0
    quick = [quick_keys(a) for a in articles]
    with store.lookup() as lookup:
        known = lookup.known(source_id, quick)
        by_key = {k.key: k for k in known}
        keys: list[Keys] = []
        unseen: list[Keys] = []
        for article, cheap in zip(articles, quick, strict=True):
            stored = by_key.get(cheap.key)
            if stored is not None and stored.content_hash == cheap.content_hash:
                keys.append(
                    Keys(
                        key=cheap.key,
                        url_key=stored.url_key,
                        text_key=stored.text_key,
                        content_hash=cheap.content_hash,
                    )
                )
                continue
            full = article_keys(article)
            keys.append(full)
            unseen.append(full)
        if unseen:
            ids = {k.id for k in known}
            known += [k for k in lookup.known(source_id, unseen) if k.id not in ids]
        # Only a stored article that no entry repeats unchanged can be edited by one (an entry
        # repeating it claims all its keys): its watches and its text tell which watches
        # matched it before.
        hashes = {k.content_hash for k in keys}
        edited = [k.id for k in known if k.content_hash not in hashes]
        if edited:
            watches = lookup.watches(edited)
            texts = lookup.previous(edited)
            known = [
                replace(k, watches=watches[k.id], previous=texts.get(k.id))
                if k.id in watches
                else k
                for k in known
            ]
    return keys, known, len(unseen)
