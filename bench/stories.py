"""Copy-detection benchmark (run by hand): the story index against datasketch and rensa.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'
    .venv/bin/python bench/stories.py [--articles 100000] [--copies 2000] [--edit 0.05]
        [--typographic]
    .venv/bin/python bench/stories.py --mode events [--articles 100000] [--placed 2000]

Builds a window of distinct synthetic articles (title and lead drawn from a Zipf vocabulary) and
plants near-copies: an earlier article with a new title word or two and `--edit` of its lead's
words replaced. Each article arrives in turn and is looked up, then added, as the daemon does.
For each engine, prints CPU µs per article (shingling and hashing included; CPU time, since
the machine may be shared), articles per second, recall on planted copies, false merges among
distinct articles, memory growth, and the speed ratio to datasketch measured in the same run.
The text is synthetic (and ASCII, which tokenizes on a shorter path): it measures speed and
recall on planted copies, not quality on real news.

`--mode events` fills a 72 h window of `--articles` news-like articles (bench/events_corpus.py:
common country and leader names shared by many distinct events) and places `--placed` more in
`events` mode, each stored in turn as the daemon does. Prints CPU µs per article (and how much
of it a parser worker takes off the committing process), candidates event-scored per article,
how many joined their event's story, and memory.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from events_corpus import corpus  # noqa: E402

from monitor.core.model import Article, StorySettings  # noqa: E402
from monitor.core.stories import StoryItem  # noqa: E402
from monitor.core.stories.index import COPY_THRESHOLD, StoryIndex  # noqa: E402
from monitor.core.stories.minhash import BANDS, NUM_PERM, shingle_hashes  # noqa: E402
from monitor.core.text import tokens  # noqa: E402

T0 = datetime(2026, 12, 1, tzinfo=UTC)
# As often as the poller evicts.
EVICT_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    lead: str
    copy_of: int | None  # position of the planted original


def _corpus(n: int, copies: int, edit: float, seed: int) -> list[Item]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50_000)]
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))

    def words(k: int) -> list[str]:
        return rng.choices(vocab, cum_weights=cum, k=k)

    items: list[Item] = []
    planted = set(rng.sample(range(n // 10, n), copies))
    for pos in range(n):
        if pos in planted:
            origin = rng.randrange(pos)
            while items[origin].copy_of is not None:
                origin = rng.randrange(pos)
            base = items[origin]
            lead = base.lead.split()
            for i in rng.sample(range(len(lead)), max(1, round(edit * len(lead)))):
                lead[i] = rng.choice(vocab)
            title = base.title.split()
            title[rng.randrange(len(title))] = rng.choice(vocab)
            items.append(Item(" ".join(title), " ".join(lead), origin))
        else:
            items.append(
                Item(
                    " ".join(words(rng.randint(6, 12))), " ".join(words(rng.randint(35, 60))), None
                )
            )
    return items


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Result:
    name: str
    seconds: float
    recall: float
    false_merges: float
    memory_mb: float


def _score(
    name: str, items: list[Item], found: list[int | None], secs: float, mem: float
) -> Result:
    planted = [i for i, it in enumerate(items) if it.copy_of is not None]
    hit = sum(1 for i in planted if found[i] == items[i].copy_of)
    distinct = [i for i, it in enumerate(items) if it.copy_of is None]
    merged = sum(1 for i in distinct if found[i] is not None)
    return Result(name, secs, hit / max(1, len(planted)), merged / max(1, len(distinct)), mem)


def run_ours(items: list[Item]) -> Result:
    index = StoryIndex(StorySettings(mode="copies", window=timedelta(days=30)))
    found: list[int | None] = []
    roots: dict[int, int] = {}
    before = _rss_mb()
    start = time.process_time()
    for pos, it in enumerate(items):
        article = Article(source="b", key=str(pos), url=None, title=it.title, summary=it.lead)
        [p] = index.place([(article, T0)])
        story = p.story if p.story is not None else pos + 1
        roots.setdefault(story, pos)
        found.append(roots[story] if p.story is not None else None)
        index.load(
            [
                StoryItem(
                    article_id=pos + 1,
                    story_id=story,
                    source="b",
                    when=T0,
                    title=it.title,
                    lead=it.lead,
                    signature=p.signature,
                )
            ]
        )
    secs = time.process_time() - start
    return _score("newsmonitor (numpy)", items, found, secs, _rss_mb() - before)


def _grams(it: Item) -> list[int]:
    """The same shingles the story index uses, as integers, for the other engines."""
    grams: list[int] = shingle_hashes(tokens(it.title), tokens(it.lead)).tolist()
    return grams


def _run_library(name: str, items: list[Item], lsh: Any, digest: Callable[[Item], Any]) -> Result:
    """The same arrival loop as the story index, on another library's MinHash and LSH."""
    sigs: dict[int, Any] = {}
    roots: list[int] = []
    found: list[int | None] = []
    before = _rss_mb()
    start = time.process_time()
    for pos, it in enumerate(items):
        m = digest(it)
        best = _best(pos, lsh.query(m), lambda j, m=m: m.jaccard(sigs[j]))
        root = pos if best is None else roots[best]
        roots.append(root)
        found.append(None if best is None else root)
        lsh.insert(pos, m)
        sigs[pos] = m
    secs = time.process_time() - start
    return _score(name, items, found, secs, _rss_mb() - before)


def run_datasketch(items: list[Item]) -> Result:
    from datasketch import MinHash, MinHashLSH

    def digest(it: Item) -> MinHash:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([g.to_bytes(4, "little") for g in _grams(it)])
        return m

    lsh = MinHashLSH(threshold=COPY_THRESHOLD, num_perm=NUM_PERM, params=(BANDS, NUM_PERM // BANDS))
    return _run_library("datasketch", items, lsh, digest)


def run_rensa(items: list[Item]) -> Result:
    from rensa import RMinHash, RMinHashLSH

    def digest(it: Item) -> RMinHash:
        m = RMinHash(num_perm=NUM_PERM, seed=42)
        m.update([str(g) for g in _grams(it)])
        return m

    lsh = RMinHashLSH(threshold=COPY_THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    return _run_library("rensa", items, lsh, digest)


def _best(pos: int, candidates: list[int], jaccard: Callable[[int], float]) -> int | None:
    """The best candidate at or above the threshold (the earliest among equals)."""
    scored = [(jaccard(j), j) for j in candidates if j != pos]
    scored = [(s, j) for s, j in scored if s >= COPY_THRESHOLD]
    if not scored:
        return None
    return max(scored, key=lambda p: (p[0], -p[1]))[1]


def _stored(
    pos: int, story: int, when: datetime, title: str, lead: str, sig: bytes | None
) -> StoryItem:
    return StoryItem(
        article_id=pos + 1,
        story_id=story,
        source="b",
        when=when,
        title=title,
        lead=lead,
        signature=sig,
    )


def run_events(articles: int, placed: int, seed: int) -> None:
    """Place `placed` articles in `events` mode after a full window of `articles`."""
    window = timedelta(hours=72)
    step = window / articles
    items = corpus(articles + placed, seed)
    index = StoryIndex(StorySettings(mode="events", window=window))
    before = _rss_mb()
    start = time.process_time()
    stories: dict[int, int] = {}
    for pos, it in enumerate(items[:articles]):
        story = stories.setdefault(it.event, pos + 1)
        index.load([_stored(pos, story, T0 + pos * step, it.title, it.lead, None)])
    fill = time.process_time() - start
    memory = _rss_mb() - before
    joined = told = 0
    evicted = T0
    prepared = unwired = 0.0
    start = time.process_time()
    for pos, it in enumerate(items[articles:], articles):
        when = T0 + pos * step
        if when - evicted > EVICT_EVERY:
            index.evict(when - window)
            evicted = when
        article = Article(source="b", key=str(pos), url=None, title=it.title, summary=it.lead)
        # As the daemon does it: features in a parser worker, sent back pickled, then placed.
        began = time.process_time()
        wire = pickle.dumps(index.prepare(article))
        middle = time.process_time()
        ready = pickle.loads(wire)
        prepared += middle - began
        unwired += time.process_time() - middle
        [p] = index.place([(article, when)], [ready])
        if it.event in stories:
            told += 1
            joined += p.story == stories[it.event]
        story = p.story if p.story is not None else stories.setdefault(it.event, pos + 1)
        index.load([_stored(pos, story, when, it.title, it.lead, p.signature)])
    secs = time.process_time() - start
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; events mode, window "
        f"{len(index)} articles over {window}, {placed} placed"
    )
    print(
        f"  {secs / placed * 1e6:.0f} µs/article CPU (place, evict and store), "
        f"{index.scored / placed:.0f} candidates scored/article, "
        f"{joined}/{told} joined their event's story, window filled in {fill:.1f} s, "
        f"memory {memory:.0f} MB"
    )
    committing = (secs - prepared) / placed * 1e6
    print(
        f"  of which {prepared / placed * 1e6:.0f} µs in a parser worker (features, pickled) "
        f"and {committing:.0f} µs in the committing process ({unwired / placed * 1e6:.0f} µs "
        f"of it unpickling the features)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("copies", "events"), default="copies")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--placed", type=int, default=2_000, help="events mode: articles placed")
    parser.add_argument("--copies", type=int, default=2_000)
    parser.add_argument("--edit", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--typographic",
        action="store_true",
        help="close each lead with a typographic dash and quote, as real feeds often do, so "
        "that text takes the general (non-ASCII) tokenizing path",
    )
    args = parser.parse_args()
    if args.mode == "events":
        run_events(args.articles, args.placed, args.seed)
        return
    items = _corpus(args.articles, args.copies, args.edit, args.seed)
    if args.typographic:
        items = [Item(it.title, f"{it.lead} \u2014 \u201cw1\u201d", it.copy_of) for it in items]
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{args.articles} articles, {args.copies} planted copies with {args.edit:.0%} of lead "
        f"words edited; {NUM_PERM} permutations, {BANDS} bands, threshold {COPY_THRESHOLD}"
    )
    results = [run_ours(items), run_datasketch(items)]
    try:
        results.append(run_rensa(items))
    except ImportError:
        print("rensa not installed: skipped")
    base = results[1].seconds
    header = ("µs/article", "art/s", "recall", "false", "mem MB", "vs ds")
    print(f"{'engine':22} " + " ".join(f"{h:>10}" for h in header))
    for r in results:
        per = r.seconds / len(items)
        print(
            f"{r.name:22} {per * 1e6:10.1f} {1 / per:10.0f} {r.recall:10.4f} "
            f"{r.false_merges:10.5f} {r.memory_mb:10.0f} {base / r.seconds:9.1f}x"
        )


if __name__ == "__main__":
    main()
