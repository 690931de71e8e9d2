"""Who an entry is within its source: a primary key and the secondary keys that catch churn.

The primary key follows the usual order (guid, else canonical link, else a hash of the text).
Feeds rewrite guids, flip links between http and https and re-announce old entries, so an entry
also carries its link's identity form and a hash of its normalized title and lead: any of the
three found among a source's articles means the entry is not new. A separate hash of everything a
reader sees tells an edited article from an unchanged one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from monitor.core.model import Article, Entry
from monitor.core.stories.urls import identity_url, looks_like_url
from monitor.core.text import tokens

LEAD_WORDS = 60
_LEAD_CHARS = 600
# Below this many words a title-and-lead hash would tie unrelated short items ("Briefing").
_MIN_TEXT_KEY_WORDS = 8
# A long article runs to some 50,000 characters; past this a feed is carrying whole pages or
# worse, which the matcher would scan and the database keep for every article. The cut is made
# before matching, so what alerted is exactly what search and replay later read.
CONTENT_CHARS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    """The ways one article can be recognised again within its source."""

    key: str
    url_key: str | None
    text_key: str | None
    content_hash: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def url_key(url: str | None) -> str | None:
    """The story key of a URL: its identity form, None for a site's front page."""
    if not url:
        return None
    form = identity_url(url)
    # A site's front page is where feeds without article links point every item.
    return None if not form.partition("/")[2] else "url:" + form


def story_url_key(article: Article) -> str | None:
    """The key of the publisher's URL, by which two sources carrying one article meet (an
    aggregator's redirect link differs per aggregator; the publisher's URL does not)."""
    return url_key(article.origin or article.url)


def lead_of(text: str) -> str:
    """The first words of a text, as written."""
    return " ".join(text.split()[:LEAD_WORDS])[:_LEAD_CHARS]


def lead_text(article: Article) -> str:
    """The article's lead: the start of the summary, else of the content."""
    return lead_of(article.summary or article.content)


def article_keys(article: Article) -> Keys:
    """The primary key, the link and text keys, and the content hash of an article."""
    words = tokens(article.title) + tokens(lead_text(article))
    text_key = "text:" + _digest(" ".join(words)) if len(words) >= _MIN_TEXT_KEY_WORDS else None
    return replace(quick_keys(article), url_key=story_url_key(article), text_key=text_key)


def quick_keys(article: Article) -> Keys:
    """The keys that need no reading of text or link: the primary key and the content hash.

    Enough to recognise an unchanged stored article (same key, same content hash), whose link
    and text keys are then the stored ones.
    """
    seen = "\n".join((article.title, article.summary, article.content))
    return Keys(key=article.key, url_key=None, text_key=None, content_hash=_digest(seen))


def identify(entry: Entry, source: str) -> Article:
    """The entry as an article keyed by guid, else canonical link, else a hash of its text.

    A guid that is a web address is keyed by its identity form, so http/https flips and
    tracking parameters in guids do not make a new article.
    """
    guid = (entry.guid or "").strip()
    if guid:
        key = "guid:" + (identity_url(guid) if looks_like_url(guid) else guid)
    elif entry.link:
        key = "url:" + identity_url(entry.link)
    else:
        key = "hash:" + _digest(f"{entry.title}\n{entry.summary}")
    return Article(
        source=source,
        key=key,
        url=entry.link,
        title=entry.title,
        summary=entry.summary,
        published=entry.published,
        guid=entry.guid,
        content=clip(entry.content, CONTENT_CHARS),
        lang=entry.lang,
        outlet=entry.outlet,
        origin=entry.origin,
    )


def clip(text: str, limit: int) -> str:
    """The text, or at most its first `limit` characters, cut at a space when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space].rstrip() if space > 0 else head
