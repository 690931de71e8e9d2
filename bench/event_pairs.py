"""Same-story quality on labelled real articles (run by hand): precision and recall per mode,
on a tuning part and a test part fixed once, by collection.

    .venv/bin/python bench/event_pairs.py --data DIR [--ablate] [--only NAME]

`bench/event_pairs_collections.json` lists the collections, each with its part (`tune` or
`test`), its labels and the file of its texts under DIR. Thresholds and features are chosen on
the tuning part; the figures to quote are the test part's. A collection whose texts or labels
are not in DIR is skipped, and said so.

Labels come in two kinds. `articles`: JSON lines {"source", "url", "published" (ISO 8601),
"event"}, and two articles are one story when their events are equal; every pair from
different sources published within two days is judged. `pairs`: a TSV with `first_url`,
`second_url` and `quality` (OK: one story, BAD: two), judged when both are from different
sources and published within two days. Texts: JSON lines {"url", "title", "lead", and
"published" where the labels lack it}; `bench/event_texts.py` writes them from fetched pages.

Each pair is judged as the daemon would meet it: the earlier article is stored, the later one
placed (in `copies` and in `events` mode), and the pair counts as joined when the later lands in
the earlier one's story. `--ablate` repeats `events` mode without each of its rules in turn, to
show what each buys on each part.

The labelling rule: two reports are one story when their news is the same happening (the same
incident, announcement or decision) in its first two days, whatever the counts they give; a
later development of it (a captive freed after the abduction, the storm's aftermath after its
landfall, a bill passed after the deal to pass it), a reaction to it or a comment on it by
someone else, an explainer or an analysis of it, is another story. The times in
`event_pairs_labels.jsonl` are the page's own, else noon UTC of the day it gives.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.core.model import Article, StorySettings  # noqa: E402
from monitor.core.stories import StoryItem, events  # noqa: E402
from monitor.core.stories.index import StoryIndex  # noqa: E402

WITHIN = timedelta(days=2)
COLLECTIONS = ROOT / "bench" / "event_pairs_collections.json"
Doc = dict[str, Any]
Pair = tuple[Doc, Doc, bool]  # earlier, later, one story


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    part: str  # tune | test
    kind: str  # articles | pairs
    labels: str  # under the repository when it starts with "bench/", else under --data
    texts: str  # under --data
    language: str
    origin: str


def _source(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _texts(path: Path) -> dict[str, Doc]:
    docs = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {d["url"]: d for d in docs}


def _article(label: Doc, text: Doc) -> Doc:
    return {
        "url": label["url"],
        "source": label.get("source") or _source(label["url"]),
        "published": label.get("published") or text["published"],
        "title": text["title"],
        "lead": text["lead"],
    }


def _close(a: Doc, b: Doc) -> bool:
    gap = datetime.fromisoformat(b["published"]) - datetime.fromisoformat(a["published"])
    return a["source"] != b["source"] and abs(gap) <= WITHIN


def _ordered(a: Doc, b: Doc, same: bool) -> Pair:
    return (a, b, same) if a["published"] <= b["published"] else (b, a, same)


def pairs(c: Collection, data: Path) -> tuple[list[Pair], int]:
    """The collection's judged pairs, and how many labelled ones lacked a text."""
    labels = ROOT / c.labels if c.labels.startswith("bench/") else data / c.labels
    texts = _texts(data / c.texts)
    missing = 0
    if c.kind == "articles":
        rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
        docs = []
        for row in rows:
            if row["url"] in texts:
                docs.append({**_article(row, texts[row["url"]]), "event": row["event"]})
            else:
                missing += 1
        found = [_ordered(a, b, a["event"] == b["event"]) for a, b in combinations(docs, 2)]
        return [p for p in found if _close(p[0], p[1])], missing
    out: list[Pair] = []
    with labels.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            first, second = texts.get(row["first_url"]), texts.get(row["second_url"])
            if first is None or second is None:
                missing += 1
                continue
            a = _article({"url": row["first_url"]}, first)
            b = _article({"url": row["second_url"]}, second)
            if _close(a, b):
                out.append(_ordered(a, b, row["quality"] == "OK"))
    return out, missing


def joined(mode: str, first: Doc, second: Doc) -> bool:
    """Whether `second`, arriving after `first` was stored, joins its story."""
    index = StoryIndex(StorySettings(mode=mode))
    a, b = (
        Article(source=d["source"], key=d["url"], url=d["url"], title=d["title"], summary=d["lead"])
        for d in (first, second)
    )
    when_a, when_b = (datetime.fromisoformat(d["published"]) for d in (first, second))
    [p] = index.place([(a, when_a)])
    index.load(
        [
            StoryItem(
                article_id=1,
                story_id=1,
                source=a.source,
                when=when_a,
                title=a.title,
                lead=a.summary,
                signature=p.signature,
            )
        ]
    )
    [q] = index.place([(b, when_b)])
    return q.story == 1


def figures(mode: str, found: list[Pair]) -> str:
    same = sum(s for _, _, s in found)
    tp = fp = 0
    for a, b, s in found:
        if joined(mode, a, b):
            tp += s
            fp += not s
    precision = f"{tp / (tp + fp):.3f}" if tp + fp else "  -  "
    recall = f"{tp / same:.3f}" if same else "  -  "
    return f"joined {tp + fp:5}  precision {precision}  recall {recall}"


@contextmanager
def _patched(obj: Any, **values: Any) -> Iterator[None]:
    old = {k: getattr(obj, k) for k in values}
    for k, v in values.items():
        setattr(obj, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(obj, k, v)


# The rules of `events` mode, each as the change that turns it off.
ABLATIONS: dict[str, Callable[[], Any]] = {
    "no reaction/follow-up title words": lambda: _patched(events, _FOLLOW_UP=frozenset()),
    "no shared names needed": lambda: _patched(events, MIN_SHARED_NAMES=0),
    "no title numbers rule": lambda: _patched(events, _NUMBER=_NO_NUMBERS),
    "no minimum of words": lambda: _patched(events, MIN_TERMS=0),
}


class _NoNumbers:
    @staticmethod
    def findall(_: str) -> list[str]:
        return []


_NO_NUMBERS = _NoNumbers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the fetched labels and texts")
    parser.add_argument("--ablate", action="store_true", help="events mode without each rule")
    parser.add_argument("--only", help="one collection, by name")
    args = parser.parse_args()
    collections = [Collection(**c) for c in json.loads(COLLECTIONS.read_text())]
    by_part: dict[str, list[Pair]] = {"tune": [], "test": []}
    for c in collections:
        if args.only and c.name != args.only:
            continue
        try:
            found, missing = pairs(c, args.data)
        except FileNotFoundError as e:
            print(f"{c.part} {c.name}: skipped, {e.filename} is missing")
            continue
        same = sum(s for _, _, s in found)
        print(
            f"{c.part} {c.name} ({c.language}): {len(found)} pairs within {WITHIN.days} days, "
            f"{same} one story; {missing} labelled without a text"
        )
        by_part[c.part].extend(found)
    for part, found in by_part.items():
        if not found:
            continue
        print(f"{part}: {len(found)} pairs, {sum(s for _, _, s in found)} one story")
        for mode in ("copies", "events"):
            print(f"  {mode:42} {figures(mode, found)}")
        for name, off in ABLATIONS.items() if args.ablate else ():
            with off():
                print(f"  events, {name:34} {figures('events', found)}")


if __name__ == "__main__":
    main()
