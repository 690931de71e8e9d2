"""Decisions for one poll: which entries are new articles and which of them alert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor.core.model import Article, Channel, Match, Watch
from monitor.core.stories import Keys, Placement, article_keys

# An archive re-announcement: at least this many unseen entries, undated or dated a day or
# more before the last poll (late items of a cached feed are younger), half the feed or more.
BACKFILL_MIN = 10
BACKFILL_AGE = timedelta(days=1)


class ArticleMatcher(Protocol):
    """Anything that tells which watches an article matches."""

    def match(self, article: Article) -> list[Match]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Known:
    """A stored article of the source that an entry may be a version of."""

    id: int
    key: str
    url_key: str | None
    text_key: str | None
    content_hash: str | None
    watches: frozenset[str]
    # Its stored text, read when an entry may be an edit of it: the watches that matched it
    # stay quiet, though they never alerted (a baseline, or a watch added since).
    previous: Article | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to store for one entry: a new article, or a new version of a stored one
    (`updates`), with the watches it alerts and, for a new one, its place among stories."""

    article: Article
    keys: Keys
    matches: tuple[Match, ...] = ()
    updates: int | None = None
    placement: Placement = field(default_factory=Placement)
    # Stored without alerting (baseline, too old, backfill), and, for an edit, the watches
    # that stay quiet because the stored version matched them.
    quiet: bool = False
    held: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A poll's decisions, oldest first, and how many entries were held back as backfill."""

    decisions: list[Decision]
    backfill: int = 0


def _ambiguous(items: Iterable[Keys | Known]) -> set[str]:
    """Secondary keys that more than one primary key claims."""
    owner: dict[str, str] = {}
    out: set[str] = set()
    for item in items:
        for k in (item.url_key, item.text_key):
            if k is None:
                continue
            if owner.setdefault(k, item.key) != item.key:
                out.add(k)
    return out


def _find(keys: Keys, index: dict[str, Known]) -> Known | None:
    for k in (keys.key, keys.url_key, keys.text_key):
        if k is not None and k in index:
            return index[k]
    return None


def plan(
    items: Sequence[Article],
    *,
    known: Sequence[Known],
    item_keys: Sequence[Keys] | None = None,
    baseline: bool,
    now: datetime,
    max_age: timedelta,
    matcher: ArticleMatcher,
    last_success: datetime | None = None,
) -> Plan:
    """New and edited articles, oldest first, each with the watches it alerts.

    An entry is the stored article it shares a guid, canonical link or title-and-lead hash with;
    it is skipped unless its text changed, and then it alerts only watches the stored version did
    not match (those recorded, and those its `previous` text matches when the store read it).
    A source's first poll is a baseline: its articles are stored and alert nothing. An article
    published longer ago than `max_age` (when not zero) is stored without alerting, and so are
    the entries of an archive re-announcement (see BACKFILL_MIN).
    `item_keys` are the items' keys when the caller has them already.
    """
    given = item_keys if item_keys is not None else [article_keys(a) for a in items]
    entries = list(zip(items, given, strict=True))
    # A link or text that several distinct entries (or stored articles) share names none of
    # them: some feeds link every item to one page, or repeat a headline under new guids.
    shared = _ambiguous([k for _, k in entries]) | _ambiguous(known)
    index: dict[str, Known] = {}
    for k in known:
        for key in (k.key, k.url_key, k.text_key):
            if key is not None and key not in shared:
                index.setdefault(key, k)
    seen: set[str] = set()
    fresh: list[tuple[Article, Keys, Known | None]] = []
    for article, keys in entries:
        if keys.url_key in shared or keys.text_key in shared:
            keys = replace(
                keys,
                url_key=None if keys.url_key in shared else keys.url_key,
                text_key=None if keys.text_key in shared else keys.text_key,
            )
        own = {k for k in (keys.key, keys.url_key, keys.text_key) if k is not None}
        if own & seen:
            continue
        seen |= own
        stored = _find(keys, index)
        if stored is not None and stored.content_hash == keys.content_hash:
            continue
        fresh.append((article, keys, stored))
    # Feeds list newest first; undated entries keep their relative order after the dated ones.
    fresh.sort(key=lambda f: (f[0].published is None, f[0].published or now))
    cutoff = now - max_age if max_age else None
    old = last_success - BACKFILL_AGE if last_success else None
    stale = [
        a
        for a, _, stored in fresh
        if stored is None and old and (a.published is None or a.published < old)
    ]
    backfill = not baseline and len(stale) >= BACKFILL_MIN and 2 * len(stale) >= len(items)
    held = {id(a) for a in stale} if backfill else set()
    out: list[Decision] = []
    for article, keys, stored in fresh:
        too_old = (
            cutoff is not None and article.published is not None and article.published < cutoff
        )
        quiet = baseline or too_old or id(article) in held
        # A stored row without a hash predates hashing: record it, nothing changed for sure.
        if stored is not None and stored.content_hash is None:
            quiet = True
        found = () if quiet else tuple(matcher.match(article))
        before: set[str] = set()
        if stored is not None and not quiet:
            before = set(stored.watches)
            if stored.previous is not None:
                previous = replace(stored.previous, lang=article.lang)
                before.update(m.watch for m in matcher.match(previous))
            found = tuple(m for m in found if m.watch not in before)
        out.append(
            Decision(
                article=article,
                keys=keys,
                matches=found,
                updates=stored.id if stored is not None else None,
                quiet=quiet,
                held=frozenset(before),
            )
        )
    return Plan(decisions=out, backfill=len(held))


def routes(watches: Iterable[Watch], channels: Iterable[Channel]) -> dict[str, tuple[str, ...]]:
    """For each watch, the channels that are on among those it notifies."""
    enabled = {c.name for c in channels if c.enabled and c.url}
    return {w.name: tuple(ch for ch in w.notify if ch in enabled) for w in watches}


def followups(watches: Iterable[Watch]) -> dict[str, int]:
    """For each watch with a follow-up, the number of outlets at which it fires."""
    return {w.name: w.follow_up_at for w in watches if w.follow_up_at}
