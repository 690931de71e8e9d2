"""Which story a new article belongs to: copies by MinHash LSH, other reports by event features.

The index holds the articles of the story window in memory. It is rebuilt from the signatures the
store keeps (so a restart finds yesterday's stories) and topped up with every article stored
since, by this process or another one sharing the database.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from monitor.core.model import Article, StorySettings
from monitor.core.stories import events
from monitor.core.stories.identity import lead_of, lead_text, story_url_key, url_key
from monitor.core.stories.items import Placement, StoryItem
from monitor.core.stories.minhash import LSHIndex, MinHasher, Signature, shingle_hashes
from monitor.core.text import tokens

COPY_THRESHOLD = 0.5
# Texts this short ("Trade talks, day 2" and "day 3") look alike without being copies; counted
# as shingles occur, which only a text repeating itself over and over would tell apart.
MIN_COPY_SHINGLES = 10
# Names this common say nothing about which event it is; they are not used to find candidates.
_COMMON_NAME = 2000
# At most this many candidates are scored, those sharing the most names and then the latest: the
# full score costs microseconds each, and a window of thousands of sources gives thousands.
MAX_SCORED = 16
# A name's latest reports this many: a report of the same event comes soon after the first ones,
# and counting the whole of a long posting cost more than scoring.
_LATEST_PER_NAME = 128
_IDF_PRIOR = 1000
# Placed articles whose features wait for the article to come back from the store; more than
# this many means some never will (a failed poll), and the memo starts afresh.
_MEMO_MAX = 4096


@dataclass(frozen=True, slots=True)
class Prepared:
    """What placing an article needs of its text alone. It needs no index, so a parser worker
    computes it, and the process that places articles (one at a time) only looks things up."""

    mode: str  # of the index that prepared it: `events` ones carry a report
    signature: bytes
    keys: list[int]  # the signature's LSH bucket keys
    copyable: bool
    url_key: str | None
    report: events.Report | None  # in `events` mode


@dataclass(slots=True)
class _Features:
    """What placement computed of an article, and the index needs again to add it."""

    title: str
    signature: Signature
    keys: list[int]
    report: events.Report | None
    copies: int | None = None  # the stored group of copies it joined; None: a group of its own


@dataclass(slots=True)
class _Entry:
    story: int
    when: datetime
    signature: Signature
    report: events.Report | None
    copies: int  # the group of copies of its text (an article id, or a batch's temporary one)
    url_key: str | None = None


class StoryIndex:
    """Story placement for one process; not thread-safe, the caller serializes placements."""

    def __init__(self, settings: StorySettings, hasher: MinHasher | None = None) -> None:
        self.mode = settings.mode
        self.window = settings.window
        self.hasher = hasher or MinHasher()
        self.last_id = 0
        self._lsh = LSHIndex()
        self._entries: dict[int, _Entry] = {}
        # (publication time, id) of every article added, oldest first, for eviction; an article
        # removed otherwise stays here until its time comes.
        self._by_time: list[tuple[datetime, int]] = []
        # Ordered as added (by id, but for a batch's own), so the latest reports come last.
        self._postings: dict[str, dict[int, None]] = {}
        self._df: Counter[str] = Counter()
        # Reports in Chinese, Japanese or Korean have no names to go by: found by their terms.
        self._term_postings: dict[str, dict[int, None]] = {}
        # By the publisher's URL: two search feeds or an aggregator and the outlet's own feed
        # carrying one article are one story, whatever their titles and leads say.
        self._urls: dict[str, int] = {}
        # A second URL per article, its page's canonical one, known once the page is read.
        self._aliases: dict[int, str] = {}
        # By signature: most articles this process stores, it placed a moment before.
        self._memo: dict[bytes, _Features] = {}
        # Candidates event-scored so far, which sets the cost of `events` mode.
        self.scored = 0

    def __len__(self) -> int:
        return len(self._entries)

    def signature(self, title: str, lead: str) -> Signature:
        """The MinHash signature of a title and lead."""
        return self.hasher.signature(shingle_hashes(tokens(title), tokens(lead)))

    def prepare(self, article: Article) -> Prepared:
        """The features of an article that `place` needs, whatever the index holds."""
        lead = lead_text(article)
        grams = shingle_hashes(tokens(article.title), tokens(lead))
        sig = self.hasher.signature(grams)
        return Prepared(
            mode=self.mode,
            signature=sig.tobytes(),
            keys=self._lsh.keys(sig),
            # Texts too short to judge are no copies, but may still report an event.
            copyable=grams.size >= MIN_COPY_SHINGLES,
            url_key=story_url_key(article),
            report=events.report(article.title, lead) if self.mode == "events" else None,
        )

    def load(self, items: Iterable[StoryItem]) -> None:
        """Add stored articles (from a rebuild or from other writers); ids only grow."""
        for item in items:
            self.last_id = max(self.last_id, item.article_id)
            # With stories off nothing is grouped, so nothing is kept.
            if self.mode == "off" or item.article_id in self._entries:
                continue
            raw = item.signature or b""
            known = self._memo.pop(raw, None) if raw else None
            if known is not None and known.title == item.title:
                # A copy of an article of its own batch: that group's temporary id went with
                # the batch, and its story stands in for it.
                copies = known.copies
                if copies is not None and copies < 0:
                    copies = item.story_id
                self._add(item.article_id, item.story_id, item.when, known, item.url_key, copies)
                continue
            stored = len(raw) == self.hasher.num_perm * 4
            # Only the event features and a missing signature need the lead.
            lead = lead_of(item.lead) if self.mode == "events" or not stored else ""
            sig = (
                np.frombuffer(raw, dtype=np.uint32) if stored else self.signature(item.title, lead)
            )
            self._add(
                item.article_id,
                item.story_id,
                item.when,
                self._features(item.title, lead, sig),
                item.url_key,
                item.story_id,  # stored articles keep no group of copies apart from their story
            )

    def rewind(self, last_id: int) -> None:
        """Forget articles loaded with an id above `last_id`: their transaction rolled back."""
        for item in [i for i in self._entries if i > last_id]:
            self._remove(item)
        self.last_id = last_id

    def _features(self, title: str, lead: str, sig: Signature) -> _Features:
        report = events.report(title, lead) if self.mode == "events" else None
        return _Features(title, sig, self._lsh.keys(sig), report)

    def _add(
        self,
        item: int,
        story: int,
        when: datetime,
        features: _Features,
        url_key: str | None,
        copies: int | None,
    ) -> None:
        report = features.report
        group = item if copies is None else copies
        self._entries[item] = _Entry(story, when, features.signature, report, group, url_key)
        if url_key is not None:
            self._urls[url_key] = item
        heapq.heappush(self._by_time, (when, item))
        self._lsh.add(item, features.signature, features.keys)
        if report is not None:
            self._df.update(report.terms.keys())
            for postings, keys in self._keyed(report):
                for key in keys:
                    postings.setdefault(key, {})[item] = None

    def _remove(self, item: int) -> None:
        entry = self._entries.pop(item)
        self._lsh.remove(item)
        for key in (entry.url_key, self._aliases.pop(item, None)):
            if key is not None and self._urls.get(key) == item:
                del self._urls[key]
        if entry.report is not None:
            # Each term's count drops here, so eviction never rebuilds the whole vocabulary.
            df = self._df
            for term in entry.report.terms:
                if df[term] > 1:
                    df[term] -= 1
                else:
                    del df[term]
            for postings, keys in self._keyed(entry.report):
                for key in keys:
                    posting = postings.get(key)
                    if posting is not None:
                        posting.pop(item, None)
                        if not posting:
                            del postings[key]

    def _keyed(self, report: events.Report) -> list[tuple[dict[str, dict[int, None]], Set[str]]]:
        """The postings a report is indexed in, each with its keys there."""
        if report.cjk:
            return [(self._postings, report.names), (self._term_postings, report.terms.keys())]
        return [(self._postings, report.names)]

    def alias(self, item: int, url: str) -> None:
        """Let later reports of `url` (the canonical URL of article `item`'s page) join its
        story, as reports of its own link do; ignored once the article has left the window."""
        key = url_key(url)
        if key is not None and item in self._entries and key not in self._urls:
            self._urls[key] = item
            self._aliases[item] = key

    def evict(self, before: datetime) -> None:
        """Forget articles published before `before`; they can no longer join a new one."""
        by_time, entries = self._by_time, self._entries
        while by_time and by_time[0][0] < before:
            when, item = heapq.heappop(by_time)
            entry = entries.get(item)
            if entry is not None and entry.when == when:
                self._remove(item)

    def place(
        self,
        batch: Sequence[tuple[Article, datetime]],
        prepared: Sequence[Prepared | None] = (),
    ) -> list[Placement]:
        """Placements for new articles in arrival order, each given with its publication time
        (else the time it was fetched) and, when computed elsewhere, its `prepare`d features;
        each placement carries the signature to store."""
        out: list[Placement] = []
        provisional: list[int] = []
        try:
            for pos, (article, when) in enumerate(batch):
                given = prepared[pos] if pos < len(prepared) else None
                # Prepared before a reload changed the mode: prepared again.
                ready = given if given and given.mode == self.mode else self.prepare(article)
                sig = np.frombuffer(ready.signature, dtype=np.uint32)
                story, how, copies = self._same_url(ready.url_key, when)
                if story is None:
                    story, how, copies = self._find(ready, sig, when)
                features = _Features(article.title, sig, ready.keys, ready.report, copies)
                if pos + 1 < len(batch):
                    # Later articles of this batch may copy this one: index it under a
                    # temporary id, which is also the temporary id of the story it starts.
                    temp = -(pos + 1)
                    self._add(
                        temp,
                        temp if story is None else story,
                        when,
                        features,
                        ready.url_key,
                        copies,
                    )
                    provisional.append(temp)
                if len(self._memo) >= _MEMO_MAX:
                    self._memo.clear()
                self._memo[ready.signature] = features
                group: dict[str, int | None] = {}
                if copies is not None:
                    group = {"copies_joins": -copies - 1} if copies < 0 else {"copies": copies}
                data = ready.signature
                if story is not None and story < 0:
                    out.append(Placement(joins=-story - 1, how=how, signature=data, **group))
                else:
                    out.append(Placement(story=story, how=how, signature=data, **group))
        finally:
            for temp in provisional:
                self._remove(temp)
        return out

    def _same_url(self, url_key: str | None, when: datetime) -> tuple[int | None, str, int | None]:
        """The story of an article with the same publisher's URL, within the window, and its
        group of copies."""
        item = self._urls.get(url_key) if url_key and self.mode != "off" else None
        entry = self._entries.get(item) if item is not None else None
        if entry is None or abs(entry.when - when) > self.window:
            return None, "new", None
        return entry.story, "copy", entry.copies

    def _find(
        self, ready: Prepared, sig: Signature, when: datetime
    ) -> tuple[int | None, str, int | None]:
        """The story an article joins and how, and the group of copies it joins (None: one of
        its own)."""
        if self.mode == "off":
            return None, "new", None
        for item, _ in self._lsh.query(sig, COPY_THRESHOLD, ready.keys) if ready.copyable else ():
            entry = self._entries[item]
            if abs(entry.when - when) <= self.window:
                return entry.story, "copy", entry.copies
        if ready.report is None:
            return None, "new", None
        story = self._find_event(ready.report, when)
        return story, "event" if story is not None else "new", None

    def _find_event(self, report: events.Report, when: datetime) -> int | None:
        postings, keys = self._keyed(report)[-1]
        counts: Counter[int] = Counter()
        whole: set[int] = set()
        for key in keys:
            posting = postings.get(key, {})
            if len(posting) <= _LATEST_PER_NAME:
                whole.update(posting)
            elif len(posting) <= _COMMON_NAME:
                counts.update(itertools.islice(reversed(posting), _LATEST_PER_NAME))
        # Found by a key read in whole: its count may lack a long posting's older part.
        for item in whole:
            found = self._entries[item].report
            if found is not None:
                counts[item] = len(keys & (found.terms.keys() if report.cjk else found.names))
        need = 1 if report.cjk else events.MIN_SHARED_NAMES
        candidates = [i for i, n in counts.items() if n >= need]
        if not candidates:
            return None
        if len(candidates) > MAX_SCORED:
            # Sharing more keys first, then the latest; a batch's own articles (negative
            # ids) are later than any stored one.
            last = self.last_id
            ranked = heapq.nlargest(
                MAX_SCORED, ((counts[i], i if i > 0 else last - i) for i in candidates)
            )
            candidates = [i if i <= last else last - i for _, i in ranked]
        # As if _IDF_PRIOR more documents held none of the terms: a young index weighs words
        # alike instead of calling every word it has not seen yet the rarest.
        n = len(self._entries) + _IDF_PRIOR
        df = self._df.get  # a Counter's lookup of a missing term costs a Python call
        idf = {t: math.log(n / (df(t, 0) + 1)) for t in report.terms}
        w = events.weights(report, idf)
        best, best_score = None, 0.0
        self.scored += len(candidates)
        for item in candidates:
            entry = self._entries[item]
            if entry.report is None:
                continue
            value = events.score(report, entry.report, abs(entry.when - when), self.window, w)
            if value > best_score:
                best, best_score = entry.story, value
        return best
